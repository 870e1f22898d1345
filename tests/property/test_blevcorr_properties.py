"""BLEVCORR properties: the output shape follows from the binning and the subarray; DQ is kept."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from reference_impl.geometry import find_overscan
from reference_impl.steps.blevcorr import subtract_overscan_bias
from tests.strategies import budget
from tests.synthetic import make_raw_frame

READOUTS = st.one_of(
    st.tuples(st.sampled_from([(4, 4), (4, 2), (2, 4), (4, 1), (2, 2)]), st.none()),
    st.integers(4, 24).flatmap(
        lambda n: st.tuples(st.just((1, 1)), st.tuples(st.integers(1, 1025 - n), st.just(n)))
    ),
)


def expected_shape(binning, subarray):
    """calstis keeps 1024/b - 1 columns when binned (mixed pixels dropped), all rows."""
    bx, by = binning
    if subarray is not None:
        return (subarray[1], 1024)
    nx = 1024 if bx == 1 else 1024 // bx - 1
    return (1024 // by, nx)


@budget(ci=12)
@given(amp=st.sampled_from("ABCD"), readout=READOUTS, seed=st.integers(0, 1000))
@example(amp="D", readout=((4, 4), None), seed=0)
@example(amp="B", readout=((1, 1), (1, 4)), seed=0)
def test_blevcorr_output_shape_follows_from_binning_and_subarray(amp, readout, seed):
    binning, subarray = readout
    raw, geo = make_raw_frame(amp, binning, subarray, seed=seed)
    layout = find_overscan(amp, geo.nx, geo.ny, binning)
    out = subtract_overscan_bias(
        raw, layout=layout, sdqflags=31743, ccdbias_dn=1400.0, blev_clip=5.0
    )
    assert out.imset.sci.shape == expected_shape(binning, subarray) == geo.trimmed_shape
    assert out.imset.sci.dtype == np.float32
    assert (out.left, out.bottom) == (geo.trim[0], geo.trim[2])


@budget(ci=12)
@given(amp=st.sampled_from("ABCD"), readout=READOUTS, seed=st.integers(0, 1000))
def test_blevcorr_keeps_every_dq_bit_of_the_trimmed_window(amp, readout, seed):
    binning, subarray = readout
    raw, geo = make_raw_frame(amp, binning, subarray, seed=seed)
    rng = np.random.default_rng(seed)
    dq = rng.choice(np.array([0, 0, 0, 2, 16, 256, 8192], np.int16), size=raw.dq.shape)
    raw = raw._replace(dq=dq)
    layout = find_overscan(amp, geo.nx, geo.ny, binning)
    out = subtract_overscan_bias(
        raw, layout=layout, sdqflags=31743, ccdbias_dn=1400.0, blev_clip=5.0
    )
    left, right, bottom, top = geo.trim
    window = dq[bottom : geo.ny - top, left : geo.nx - right]
    assert np.array_equal(out.imset.dq, window)
