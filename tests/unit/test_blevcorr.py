import numpy as np

from reference_impl.geometry import find_overscan, placement_from_lt
from reference_impl.imset import Imset
from reference_impl.steps.blevcorr import fit_line, row_bias_levels, subtract_overscan_bias


def test_find_overscan_amp_d_4x4_matches_the_corpus_manifest():
    lay = find_overscan("D", 271, 266, (4, 4))
    assert (lay.left, lay.right, lay.bottom, lay.top) == (11, 5, 10, 0)
    assert lay.bias_cols == (1, 7) and lay.virtual_rows == (0, 9)


def test_find_overscan_amp_a_2x2_and_full_frame():
    lay = find_overscan("A", 532, 522, (2, 2))
    assert (lay.left, lay.right, lay.bottom, lay.top, lay.bias_cols) == (10, 11, 0, 10, (524, 530))
    full = find_overscan("A", 1062, 1044, (1, 1))
    assert (full.mode, full.left, full.right, full.top, full.bias_cols) == (
        "full frame",
        19,
        19,
        20,
        (1046, 1060),
    )
    assert full.virtual_rows == (1024, 1043)


def test_find_overscan_subarray_has_no_virtual_overscan_and_amp_b_mirrors():
    lay = find_overscan("B", 1060, 48, (1, 1))
    assert lay.mode == "subarray" and lay.bias_cols == (0, 13)
    assert lay.virtual_rows[1] < lay.virtual_rows[0]


def test_find_overscan_reports_too_small_frames():
    assert find_overscan("A", 500, 48, (1, 1)).too_small


def test_placement_corner_of_trimmed_2x2_frame_is_reference_column_1():
    assert placement_from_lt(-0.25, 0.25, 0.5, 0.5).x.corner == 1


def test_fit_line_matches_least_squares_and_rejects_singular_fits():
    slope, intercept = fit_line(np.array([-1.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    assert (slope, intercept) == (1.0, 2.0)
    assert fit_line(np.array([0.0]), np.array([5.0])) is None
    assert fit_line(np.array([]), np.array([])) is None


def test_row_levels_are_medians_of_unflagged_bias_pixels():
    sci = np.array([[0, 10, 11, 12, 100], [0, 1, 2, 3, 4]], np.float32)
    dq = np.zeros_like(sci, dtype=np.int16)
    dq[0, 4] = 256  # excluded by SDQFLAGS
    rows, levels = row_bias_levels(sci, dq, rows=range(2), bias_cols=(1, 4), sdqflags=256)
    assert rows == [0, 1] and levels == [11.0, 2.5]


def _subarray(level_per_row):
    """A 1060 x n subarray (amp A) whose bias section holds the given row levels."""
    ny = len(level_per_row)
    sci = np.full((ny, 1060), 1000.0, np.float32)
    for j, level in enumerate(level_per_row):
        sci[j, 1046:1060] = level
    return Imset(sci, np.zeros_like(sci), np.zeros(sci.shape, np.int16))


def blevcorr(science: Imset, amp: str = "A"):
    """BLEVCORR of an unbinned frame with SDQFLAGS 32767, CCDBIAS 1500 DN, BLEV_CLIP 5."""
    ny, nx = science.sci.shape
    return subtract_overscan_bias(
        science,
        layout=find_overscan(amp, nx, ny, (1, 1)),
        sdqflags=32767,
        ccdbias_dn=1500.0,
        blev_clip=5.0,
    )


def test_subtract_overscan_bias_fits_a_line_and_trims_the_overscan():
    science = _subarray([100.0, 102.0, 104.0, 106.0])
    res = blevcorr(science)
    assert res.imset.sci.shape == (4, 1024)
    np.testing.assert_array_equal(res.imset.sci[:, 0], [900.0, 898.0, 896.0, 894.0])
    assert res.meanblev_dn == 103.0 and not res.drift_corrected and res.left == 18


def test_subtract_overscan_bias_falls_back_to_ccdbias_for_a_single_level():
    science = _subarray([100.0])
    res = blevcorr(science)
    assert res.used_default_bias and res.trimmed and res.imset.sci[0, 0] == -500.0


def test_subtract_overscan_bias_subtracts_ccdbias_without_trim_when_too_small():
    sci = np.full((3, 40), 1600.0, np.float32)
    science = Imset(sci, np.zeros_like(sci), np.zeros(sci.shape, np.int16))
    res = blevcorr(science)
    assert not res.trimmed and res.imset.sci.shape == (3, 40) and (res.imset.sci == 100).all()


def test_drift_is_fitted_from_the_virtual_overscan_and_zero_at_the_bias_section():
    rng = np.random.default_rng(1)
    sci = np.full((1044, 1062), 1000.0, np.float32) + rng.normal(0, 0.01, (1044, 1062)).astype(
        np.float32
    )
    sci[:, 1046:1061] = 1500.0
    cols = np.arange(1062, dtype=np.float32)
    sci[1024:, :] = 1500.0 + 0.01 * (cols - 1053)  # virtual overscan with a column drift
    science = Imset(sci, np.zeros_like(sci), np.zeros(sci.shape, np.int16))
    res = blevcorr(science)
    assert res.drift_corrected
    out = res.imset.sci
    # drift(i) = 0.01 * (i - zerocol), zerocol = (1046+1060)/2 - 19 = 1034
    np.testing.assert_allclose(out[0, 0] - out[0, 1000], 0.01 * 1000, rtol=1e-3)


def test_subtract_overscan_bias_does_not_modify_inputs():
    science = _subarray([100.0, 101.0])
    before = science.copy()
    blevcorr(science)
    for a, b in zip(science, before, strict=True):
        np.testing.assert_array_equal(a, b)
