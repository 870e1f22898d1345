"""DARKCORR properties: a zero dark leaves SCI unchanged; the subtraction is linear in EXPTIME.

What "linear" means under float32 rounding (dodark.c, multk2d.c, sub2d.c):
the dark D (electrons/s, float32) is scaled by ``k = f32(factor*EXPTIME/ATODGAIN)``
(double, rounded once) and ``f32(D*k)`` is subtracted. So

* the dark removed from a zero science frame is exactly ``f32(D*k)`` (the
  subtraction ``0 - x`` is exact);
* doubling EXPTIME doubles ``k`` and the removed dark **bit for bit** (scaling
  by a power of two is exact in binary floating point) wherever ``D*k`` is a
  normal float32; where it underflows to a subnormal the product has already
  been rounded and doubling is not exact (hypothesis found D = 1e-45 e-/s:
  ``f32(D*k)`` is 0 but ``f32(D*2k)`` is 1.4e-45; pinned below);
* for any other ratio ``c`` the removed dark is within one float32 rounding of
  ``c`` times it: ``|removed(c t) - c removed(t)| <= 2 ulp`` of the result
  (``k`` and the product each round once, half an ulp each, plus the rounding
  of ``c removed(t)``).
"""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from reference_impl.imset import Imset
from reference_impl.steps.darkcorr import dark_scale, subtract_dark
from tests.strategies import budget, imsets, reference_imsets, shapes

EXPTIMES = st.floats(0.1, 1e4, allow_nan=False)
GAINS = st.sampled_from([1.0, 1.009, 4.012, 3.998])
FACTORS = st.sampled_from([1.0, 1.0945, 0.93])


def _zero_science(shape):
    return Imset(
        np.zeros(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.int16)
    )


def _removed(dark, t, gain, factor):
    k = dark_scale(factor=factor, exptime_s=t, gain_e_per_dn=gain)
    return -subtract_dark(_zero_science(dark.sci.shape), dark, scale=k).imset.sci


def _ulp(x):
    return np.spacing(np.abs(x).astype(np.float32))


@budget(ci=40)
@given(data=shapes.flatmap(lambda s: imsets(s)), t=EXPTIMES, gain=GAINS)
def test_zero_dark_leaves_sci_unchanged_and_dq_kept(data, t, gain):
    shape = data.sci.shape
    zero = Imset(
        np.zeros(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.int16)
    )
    k = dark_scale(factor=1.0, exptime_s=t, gain_e_per_dn=gain)
    out = subtract_dark(data, zero, scale=k).imset
    np.testing.assert_array_equal(out.sci, data.sci)
    np.testing.assert_array_equal(out.dq, data.dq)


@budget(ci=40)
@given(
    dark=shapes.flatmap(lambda s: reference_imsets(s, kind="dark")),
    t=EXPTIMES, gain=GAINS, factor=FACTORS,
)  # fmt: skip
@example(dark=Imset(np.array([[3.3]], np.float32), np.zeros((1, 1), np.float32),
                    np.zeros((1, 1), np.int16)), t=0.1, gain=1.009, factor=1.0945)  # fmt: skip
@example(dark=Imset(np.array([[1e-45]], np.float32), np.zeros((1, 1), np.float32),
                    np.zeros((1, 1), np.int16)), t=1.0, gain=4.012, factor=1.0945)  # fmt: skip
def test_dark_removed_is_f32_of_dark_times_scale_and_doubles_exactly_with_exptime(
    dark, t, gain, factor
):
    k = dark_scale(factor=factor, exptime_s=t, gain_e_per_dn=gain)
    removed = _removed(dark, t, gain, factor)
    np.testing.assert_array_equal(removed, (dark.sci * k).astype(np.float32))
    doubled = _removed(dark, 2.0 * t, gain, factor)
    normal = np.abs(removed) >= np.finfo(np.float32).tiny
    np.testing.assert_array_equal(doubled[normal], 2.0 * removed[normal])
    # Where D*k is subnormal (or zero) the doubled product is still f32(D * 2k).
    np.testing.assert_array_equal(doubled, (dark.sci * np.float32(2 * k)).astype(np.float32))


@budget(ci=40)
@given(
    dark=shapes.flatmap(lambda s: reference_imsets(s, kind="dark")),
    t=EXPTIMES, c=st.floats(0.1, 10.0), gain=GAINS, factor=FACTORS,
)  # fmt: skip
def test_dark_removed_scales_with_exptime_within_two_ulp(dark, t, c, gain, factor):
    once = _removed(dark, t, gain, factor).astype(np.float64)
    scaled = _removed(dark, c * t, gain, factor)
    normal = np.abs(scaled) >= np.finfo(np.float32).tiny  # subnormals: see the test above
    assert np.all(np.abs(scaled - c * once)[normal] <= 2 * _ulp(scaled)[normal])


DARK_VALUES = st.floats(-1e6, 1e6, allow_nan=False, width=32)
SCALES = st.one_of(
    st.sampled_from([1.0, 0.5, 3.0, -2.0, 1e-30, 1e30]),
    st.floats(-1e4, 1e4, allow_nan=False, width=32),
)


@budget(ci=60)
@given(values=st.lists(DARK_VALUES, min_size=1, max_size=40), scale=SCALES)
@example(values=[1.0, 1.0000001, 3.0, 3.0000002], scale=1e-30)  # distinct, equal once scaled
@example(values=[0.0, -1.0, 0.0], scale=0.0)  # a tie of +0 and -0 in the middle
@example(values=[2.0, -4.0, 7.0, 1.0], scale=-1.5)  # a negative scale reverses the order
def test_meandark_from_the_unscaled_dark_is_the_median_of_the_scaled_dark(values, scale):
    # MEANDARK is computed before the subtraction from the unscaled good pixels,
    # scaling only the middle ones: bit for bit the float32 median of f32(D*k).
    # Except the sign of a zero median: where values of both signs scale to
    # +-0 they tie, and no sort order says which zero is the middle one
    # (hypothesis: [0, -1, 0] with k = 0; a real dark has k > 1e-3).
    from reference_impl.numerics import median_f32
    from reference_impl.steps.darkcorr import _median_of_scaled

    dark = np.array(values, dtype=np.float32)
    k = np.float32(scale)
    scaled = dark if k == np.float32(1.0) else (dark * k).astype(np.float32)
    expected = median_f32(scaled)
    got = _median_of_scaled(dark.copy(), k)
    assert got.dtype == np.float32 and got == expected
    if expected != 0:
        assert got.tobytes() == expected.tobytes()
