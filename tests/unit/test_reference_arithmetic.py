"""BIASCORR, DARKCORR, FLATCORR, STATFLAG and reference binning on hand-computed arrays."""

import numpy as np
import pytest

from reference_impl import dqflags
from reference_impl.binning import bin_block, expand_bilinear, match_reference
from reference_impl.errors import NotImplementedStepError, ShapeMismatchError
from reference_impl.geometry import placement_from_lt
from reference_impl.imset import Imset
from reference_impl.steps.biascorr import subtract_bias
from reference_impl.steps.darkcorr import (
    dark_scale,
    dark_temperature_factor,
    subtract_dark,
)
from reference_impl.steps.flatcorr import apply_flat, combine_flats
from reference_impl.steps.statflag import compute_statistics


def imset(sci, err=None, dq=None):
    sci = np.asarray(sci, np.float32)
    err = np.zeros_like(sci) if err is None else np.asarray(err, np.float32)
    dq = np.zeros(sci.shape, np.int16) if dq is None else np.asarray(dq, np.int16)
    return Imset(sci, err, dq)


def unchanged(x: Imset, before: Imset):
    for a, b in zip(x, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_subtract_bias_subtracts_adds_errors_in_quadrature_and_ors_dq():
    out = subtract_bias(imset([[10.0]], [[3.0]], [[1]]), imset([[4.0]], [[4.0]], [[512]]))
    assert (out.sci[0, 0], out.err[0, 0], out.dq[0, 0]) == (6.0, 5.0, 513)


def test_subtract_bias_scales_by_ncombine():
    out = subtract_bias(imset([[10.0]], [[0.0]]), imset([[1.0]], [[1.0]]), ncombine=3)
    assert (out.sci[0, 0], out.err[0, 0]) == (7.0, 3.0)


def test_subtract_bias_rejects_a_bias_of_another_shape():
    with pytest.raises(ShapeMismatchError):
        subtract_bias(imset(np.zeros((2, 2))), imset(np.zeros((2, 3))))


def test_subtract_bias_does_not_modify_inputs():
    s, b = imset([[1.0]], [[1.0]]), imset([[2.0]], [[2.0]], [[4]])
    sb, bb = s.copy(), b.copy()
    subtract_bias(s, b)
    unchanged(s, sb)
    unchanged(b, bb)


def test_dark_temperature_factor_applies_only_to_side2_with_a_temperature():
    kw = dict(ref_temp_c=18.0, drk_vs_t=0.07)
    assert dark_temperature_factor(occdhtav_c=20.0, expstart_mjd=58500.0, **kw) == pytest.approx(
        1.14
    )
    assert dark_temperature_factor(occdhtav_c=20.0, expstart_mjd=51000.0, **kw) == 1.0
    assert dark_temperature_factor(occdhtav_c=None, expstart_mjd=58500.0, **kw) == 1.0


def test_dark_scale_is_exptime_over_gain_rounded_to_float32():
    assert dark_scale(factor=1.0, exptime_s=100.0, gain_e_per_dn=4.0) == np.float32(25.0)


def test_subtract_dark_scales_and_reports_median_of_unflagged_scaled_dark():
    dark = imset([[1.0, 2.0, 3.0, 100.0]], [[1.0, 1.0, 1.0, 1.0]], [[0, 0, 0, 16]])
    out = subtract_dark(imset([[50.0, 50.0, 50.0, 500.0]]), dark, scale=np.float32(2.0))
    assert out.imset.sci.tolist() == [[48.0, 46.0, 44.0, 300.0]]
    assert out.meandark_dn == np.float32(4.0)  # median of 2, 4, 6 (the flagged 200 left out)
    assert out.imset.dq[0, 3] == dqflags.HOTPIX and out.imset.err[0, 0] == 2.0


def test_subtract_dark_median_of_an_even_count_is_the_mean_of_the_middle_two():
    out = subtract_dark(imset([[0.0, 0.0]]), imset([[1.0, 2.0]]), scale=np.float32(1.0))
    assert out.meandark_dn == np.float32(1.5)


def test_subtract_dark_does_not_modify_inputs():
    s, d = imset([[1.0]]), imset([[2.0]], [[1.0]])
    sb, db = s.copy(), d.copy()
    subtract_dark(s, d, scale=np.float32(3.0))
    unchanged(s, sb)
    unchanged(d, db)


def test_apply_flat_divides_and_propagates_both_errors():
    out = apply_flat(imset([[8.0]], [[2.0]]), imset([[2.0]], [[0.5]], [[4]]))
    # ERR = sqrt((2/2)^2 + (0.5*8/2/2)^2) = sqrt(2)
    assert out.sci[0, 0] == 4.0 and out.err[0, 0] == np.float32(np.sqrt(2.0))
    assert out.dq[0, 0] == 4


def test_apply_flat_leaves_pixels_with_zero_flat_and_flags_calibdefect():
    out = apply_flat(imset([[8.0]], [[2.0]]), imset([[0.0]]))
    assert (out.sci[0, 0], out.err[0, 0], out.dq[0, 0]) == (8.0, 2.0, dqflags.CALIBDEFECT)


def test_combine_flats_multiplies_p_and_d_and_refuses_lflt_alone():
    p, d = imset([[2.0, 2.0]], [[0.0, 0.0]]), imset([[3.0, 0.5]], [[0.0, 0.0]], [[0, 512]])
    out = combine_flats(p, d, None)
    assert out.sci.tolist() == [[6.0, 1.0]] and out.dq.tolist() == [[0, 512]]
    with pytest.raises(NotImplementedStepError, match="LFLTFILE"):
        combine_flats(None, None, imset([[1.0]]))


def test_apply_flat_does_not_modify_inputs():
    s, f = imset([[1.0]], [[1.0]]), imset([[2.0]], [[0.1]])
    sb, fb = s.copy(), f.copy()
    apply_flat(s, f)
    unchanged(s, sb)
    unchanged(f, fb)


def test_bin_block_sums_or_averages_and_ors_dq():
    ref = imset(np.arange(16.0).reshape(4, 4), np.ones((4, 4)), np.eye(4, dtype=np.int16) * 16)
    summed = bin_block(ref, x0=0, y0=0, bin_x=2, bin_y=2, shape=(2, 2), average=False)
    assert summed.sci.tolist() == [[10.0, 18.0], [42.0, 50.0]]
    assert summed.err[0, 0] == 2.0 and summed.dq.tolist() == [[16, 0], [0, 16]]
    averaged = bin_block(ref, x0=0, y0=0, bin_x=2, bin_y=2, shape=(2, 2), average=True)
    assert averaged.sci[0, 0] == 2.5 and averaged.err[0, 0] == 0.5


def test_match_reference_cuts_a_subarray_by_corner_and_rejects_coarser_references():
    ref = imset(np.arange(100.0).reshape(10, 10))
    ref_place = placement_from_lt(0.0, 0.0, 1.0, 1.0)
    sci_place = placement_from_lt(-2.0, -3.0, 1.0, 1.0)  # starts at reference (2, 3)
    out = match_reference(ref, ref_place, sci_place, (2, 2), average=False, what="bias")
    assert out.sci.tolist() == [[32.0, 33.0], [42.0, 43.0]]
    with pytest.raises(ShapeMismatchError, match="binned"):
        match_reference(
            ref, placement_from_lt(0, 0, 0.5, 0.5), ref_place, (2, 2), average=False, what="bias"
        )
    with pytest.raises(ShapeMismatchError, match="does not cover"):
        match_reference(ref, ref_place, sci_place, (20, 20), average=False, what="bias")


def test_expand_bilinear_extrapolates_linearly_at_the_edges():
    low = imset([[0.0, 4.0]])
    out = expand_bilinear(low, (1, 4))
    # positions (m - 0.5)/2 = -0.25, 0.25, 0.75, 1.25 on the line 0 -> 4
    assert out.sci.tolist() == [[-1.0, 1.0, 3.0, 5.0]]


def test_statistics_skip_flagged_pixels_and_positive_values_with_zero_error():
    sci = imset([[1.0, 2.0, 3.0, -1.0]], [[1.0, 1.0, 0.0, 0.0]], [[0, 16, 0, 0]])
    stats = compute_statistics(sci, sdqflags=16)
    # pixel 1 flagged, pixel 2 (SCI>0, ERR=0) excluded, pixel 3 (SCI<=0, ERR=0) S/N 0.
    assert stats.ngoodpix == 2
    assert (stats.goodmin, stats.goodmax, stats.goodmean) == (-1.0, 1.0, 0.0)
    assert (stats.snrmin, stats.snrmax) == (0.0, 1.0)


def test_statistics_with_no_good_pixel_give_only_ngoodpix():
    stats = compute_statistics(imset([[1.0]], [[1.0]], [[16]]), sdqflags=16)
    assert stats.ngoodpix == 0 and stats.goodmean is None
