"""ERR initialisation: finite, positive, never below the read-noise floor f32(r/g)."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from reference_impl.imset import Imset
from reference_impl.steps.noise import init_errors
from tests.strategies import budget, imsets

GAINS = st.sampled_from([1.0, 1.009, 2.0, 4.012, 3.998, 8.12])
NOISE_E = st.floats(1.0, 20.0, width=32)


@budget(ci=60)
@given(
    imset=imsets(err_zero=True),
    gain=GAINS,
    readnoise=NOISE_E,
    bias=st.sampled_from([0.0, 1380.0, 1498.0]),
)
@example(  # a value just above the bias: v > 0 but tiny, ERR just above the floor
    imset=Imset(np.array([[1380.0001]], np.float32), np.zeros((1, 1), np.float32),
                np.zeros((1, 1), np.int16)),
    gain=4.012, readnoise=7.6, bias=1380.0,
)  # fmt: skip
def test_err_after_initialisation_is_finite_positive_and_above_the_read_noise_floor(
    imset, gain, readnoise, bias
):
    out = init_errors(imset, bias_dn=bias, gain_e_per_dn=gain, readnoise_e=readnoise)
    floor = np.float32(np.float32(readnoise) / np.float32(gain))
    assert out.err.dtype == np.float32
    assert np.all(np.isfinite(out.err))
    assert np.all(out.err > 0)
    assert np.all(out.err >= floor)
    np.testing.assert_array_equal(out.sci, imset.sci)
    np.testing.assert_array_equal(out.dq, imset.dq)
