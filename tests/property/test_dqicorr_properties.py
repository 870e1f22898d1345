"""DQICORR properties: bits are only ever added; saturation follows trunc(SCI) > SATURATE."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from reference_impl import dqflags
from reference_impl.imset import Imset
from reference_impl.steps.dqicorr import flag_bad_pixels
from tests.strategies import budget, imsets

RAW_DN = st.floats(0.0, 65535.0, width=32)


def _flag(imset, saturate):
    return flag_bad_pixels(
        imset, saturate_dn=saturate, aperture=None, runs=None, table_shape=None,
        ltm=(1.0, 1.0), ltv0=(0.0, 0.0),
    )  # fmt: skip


@budget(ci=60)
@given(imset=imsets(elements=RAW_DN), saturate=st.floats(0.0, 70000.0, width=32))
@example(
    imset=Imset(np.array([[33000.9]], np.float32), np.zeros((1, 1), np.float32),
                np.array([[-32768]], np.int16)),
    saturate=33000.0,
)  # fmt: skip
def test_dqicorr_never_clears_a_dq_bit(imset, saturate):
    before = imset.dq.copy()
    out = _flag(imset, saturate)
    assert np.array_equal(out.dq & before, before)
    np.testing.assert_array_equal(imset.dq, before)  # the input is not modified


@budget(ci=60)
@given(imset=imsets(elements=RAW_DN), saturate=st.floats(0.0, 70000.0, width=32))
@example(  # 33000.9 truncates to 33000, which is not above 33000: not saturated
    imset=Imset(np.array([[33000.9, 33001.0]], np.float32), np.zeros((1, 2), np.float32),
                np.zeros((1, 2), np.int16)),
    saturate=33000.0,
)  # fmt: skip
def test_dqicorr_flags_saturation_exactly_where_truncated_sci_exceeds_saturate(imset, saturate):
    out = _flag(imset, saturate)
    expected = np.trunc(imset.sci.astype(np.float64)) > np.float32(saturate)
    assert np.array_equal((out.dq & dqflags.SATPIXEL) != 0, expected | ((imset.dq & 256) != 0))
    np.testing.assert_array_equal(out.sci, imset.sci)
