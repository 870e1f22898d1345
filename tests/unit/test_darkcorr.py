"""DARKCORR (spec §9; dodark.c, multk2d.c, sub2d.c, getgrpinfo1.c) on small arrays and the corpus.

Pinned to calstis rather than to earlier code (issue 16). What used to be
checked against the frozen ``oracles/darkcorr_v1`` is covered by:

* the corpus: every DARKCORR product bit for bit and MEANDARK equal,
  tests/regression/test_corpus_reference.py (whole pipeline) and
  `test_dark_subtraction_reproduces_the_corpus_darkcorr_product` below (this
  step alone on calstis's CRCORR product: the dark cut and summed over 2x2 and
  4x4 bins, the temperature factor for side 2 and none for side 1, the ``_crj``
  total EXPTIME and weighted OCCDHTAV);
* live calstis: tests/differential/test_synthetic_vs_live_calstis.py and
  test_crcorr_cases.py (the dark on every ``_crj``);
* tests/property/test_darkcorr_properties.py (zero dark, linearity in EXPTIME);
* `test_subtraction_is_multk2d_then_sub2d_per_pixel_across_row_blocks` and the
  MEANDARK tests below (spec §9 steps 3-5, §14).
"""

import numpy as np
import pytest

from reference_impl import dqflags
from reference_impl.imset import Imset
from reference_impl.io.reffiles import cut_to_science, read_reference_image
from reference_impl.numerics import BLOCK_ROWS, header_float
from reference_impl.steps.darkcorr import dark_scale, dark_temperature_factor, subtract_dark
from stischeck import environment
from tests.support.corpus import (
    assert_bit_identical,
    imset_pairs,
    sci_placement,
    transition_params,
)

TRANSITIONS = transition_params(environment.find_corpus(), "DARKCORR")
SIDE2 = dict(ref_temp_c=18.0, drk_vs_t=0.07)


def imset(sci, err=None, dq=None) -> Imset:
    sci = np.asarray(sci, np.float32)
    err = np.zeros_like(sci) if err is None else np.asarray(err, np.float32)
    dq = np.zeros(sci.shape, np.int16) if dq is None else np.asarray(dq, np.int16)
    return Imset(sci, err, dq)


def random_imset(seed, shape, *, level, spread, hot=0.02) -> Imset:
    rng = np.random.default_rng(seed)
    return imset(
        rng.normal(level, spread, shape),
        np.abs(rng.normal(0, spread / 3, shape)),
        np.where(rng.random(shape) < hot, dqflags.HOTPIX, 0),
    )


def test_temperature_factor_is_one_plus_drk_vs_t_times_the_excess_over_ref_temp():
    factor = dark_temperature_factor(occdhtav_c=20.0, expstart_mjd=58500.0, **SIDE2)
    assert factor == 1.0 + 0.07 * (20.0 - 18.0)


@pytest.mark.parametrize(
    ("occdhtav_c", "expstart_mjd", "why"),
    [
        (20.0, 51000.0, "side 1 (EXPSTART < 52091)"),
        (None, 58500.0, "no OCCDHTAV"),
        (0.0, 58500.0, "T <= 0"),
        (-1.0, 58500.0, "T <= 0"),
    ],
)
def test_temperature_factor_is_one_without_a_side2_temperature(occdhtav_c, expstart_mjd, why):
    assert dark_temperature_factor(occdhtav_c=occdhtav_c, expstart_mjd=expstart_mjd, **SIDE2) == 1.0


def test_temperature_factor_starts_at_the_first_side2_day():
    assert dark_temperature_factor(occdhtav_c=19.0, expstart_mjd=52091.0, **SIDE2) != 1.0


def test_dark_scale_is_factor_times_exptime_over_gain_in_double_rounded_once():
    assert dark_scale(factor=1.0, exptime_s=100.0, gain_e_per_dn=4.0) == np.float32(25.0)
    k = dark_scale(factor=1.0945, exptime_s=1200.0, gain_e_per_dn=4.012)
    assert k.dtype == np.float32
    assert k == np.float32(1.0945 * 1200.0 / float(np.float32(4.012)))


def test_dark_is_scaled_subtracted_and_meandark_is_the_median_of_unflagged_scaled_dark():
    dark = imset([[1.0, 2.0, 3.0, 100.0]], [[1.0, 1.0, 1.0, 1.0]], [[0, 0, 0, 16]])
    out = subtract_dark(imset([[50.0, 50.0, 50.0, 500.0]]), dark, scale=np.float32(2.0))
    assert out.imset.sci.tolist() == [[48.0, 46.0, 44.0, 300.0]]
    assert out.meandark_dn == np.float32(4.0)  # median of 2, 4, 6 (the flagged 200 left out)
    assert out.imset.dq[0, 3] == dqflags.HOTPIX and out.imset.err[0, 0] == 2.0


def test_meandark_of_an_even_count_is_the_mean_of_the_middle_two():
    out = subtract_dark(imset([[0.0, 0.0]]), imset([[1.0, 2.0]]), scale=np.float32(1.0))
    assert out.meandark_dn == np.float32(1.5)


def test_meandark_is_zero_when_every_dark_pixel_is_flagged():
    dark = imset([[1.0, 2.0]], dq=[[16, 4]])
    out = subtract_dark(imset([[5.0, 5.0]]), dark, scale=np.float32(3.0))
    assert out.meandark_dn == np.float32(0.0) and out.meandark_dn.dtype == np.float32


def test_subtraction_is_multk2d_then_sub2d_per_pixel_across_row_blocks():
    """Spec §9/§14: ``D' = f32(k*D)`` (SCI and ERR), then sub2d; float32 out, DQ OR."""
    shape = (2 * BLOCK_ROWS + 11, 96)
    science = random_imset(3, shape, level=300.0, spread=50.0, hot=0.0)
    science.sci[[0, 70, 130], [3, 50, 95]] = np.nan
    dark = random_imset(4, shape, level=0.01, spread=0.003)
    k = np.float32(600.0 / 1.029 * 1.105)
    out = subtract_dark(science, dark, scale=k)
    dark_sci, dark_err = dark.sci * k, dark.err * k
    assert dark_sci.dtype == np.float32
    want_err = np.sqrt(science.err * science.err + dark_err * dark_err)
    assert_bit_identical(
        out.imset, (science.sci - dark_sci, want_err, science.dq | dark.dq), "dark"
    )
    assert out.scale == k
    # MEANDARK: float32 median of the scaled dark where the dark DQ is exactly 0.
    good = np.sort(dark_sci[dark.dq == 0])
    middle = good[(good.size - 1) // 2 : good.size // 2 + 1]
    assert out.meandark_dn == np.float32(middle.astype(np.float64).mean())


def test_a_scale_of_one_subtracts_the_dark_as_it_is():
    dark = random_imset(5, (9, 7), level=2.0, spread=1.0)
    science = random_imset(6, (9, 7), level=100.0, spread=5.0)
    out = subtract_dark(science, dark, scale=np.float32(1.0))
    np.testing.assert_array_equal(out.imset.sci, science.sci - dark.sci)


def test_inputs_are_not_modified():
    s, d = imset([[1.0]]), imset([[2.0]], [[1.0]])
    sb, db = s.copy(), d.copy()
    subtract_dark(s, d, scale=np.float32(3.0))
    assert_bit_identical(s, sb, "science")
    assert_bit_identical(d, db, "dark")


def _scale_for(transition, sci_header, primary, dark) -> np.float32:
    """Spec §9: the factor from this SCI header and the dark's primary header, then k."""
    factor = dark_temperature_factor(
        occdhtav_c=sci_header.get("OCCDHTAV"),
        expstart_mjd=float(sci_header["EXPSTART"]),
        ref_temp_c=float(dark.primary_header.get("REF_TEMP", 18.0)),
        drk_vs_t=float(dark.primary_header.get("DRK_VS_T", 0.07)),
    )
    side1 = transition.case.endswith("side1")
    assert (factor == 1.0) == side1, "side-1 data have no temperature factor, side 2 one"
    return dark_scale(
        factor=factor,
        exptime_s=float(sci_header["EXPTIME"]),
        gain_e_per_dn=float(primary["ATODGAIN"]),
    )


@pytest.mark.corpus
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_dark_subtraction_reproduces_the_corpus_darkcorr_product(transition):
    """calstis's CRCORR product minus the scaled, cut and summed dark is its DARKCORR product."""
    dark = read_reference_image(transition.reference("DARKFILE"), what="DARKFILE")
    for k, science, want, before, after in imset_pairs(transition):
        sci_header = before["SCI", k].header
        place = sci_placement(sci_header)
        cut = cut_to_science(dark, place, science.shape, average=False, what="dark image")
        scale = _scale_for(transition, sci_header, before[0].header, dark)
        out = subtract_dark(science, cut, scale=scale)
        assert_bit_identical(out.imset, want, f"{transition.id} imset {k}")
        meandark = after["SCI", k].header["MEANDARK"]
        assert header_float(out.meandark_dn) == meandark, f"{transition.id} MEANDARK"
