"""FLATCORR (spec §7, §10; doflat.c, mult2d.c, unbin2d.c, div2d.c) on small arrays and the corpus.

Pinned to calstis rather than to earlier code (issue 16). What used to be
checked against the frozen ``oracles/flatcorr_v1`` and ``oracles/binning_v1``
is covered by:

* the corpus: every FLATCORR product bit for bit, tests/regression/
  test_corpus_reference.py (whole pipeline) and
  `test_flat_division_reproduces_the_corpus_flatcorr_product` below (this step
  alone on calstis's DARKCORR product: P x D x expanded 4x4 L, averaged over
  2x2 and 4x4 bins, subarray bands cut by LTV2);
* live calstis: tests/differential/test_synthetic_vs_live_calstis.py;
* tests/property/test_flatcorr_properties.py (unit flat, zero flat, DQ bits);
* the spec-arithmetic tests below for what the corpus never holds: zero and
  NaN flat values, the LFLT expanded along one axis only, LFLT DQ flags, and
  block boundaries (`BLOCK_ROWS`) inside the arrays.
"""

import numpy as np
import pytest

from reference_impl import dqflags
from reference_impl.binning import bin_block, expand_bilinear, match_reference
from reference_impl.errors import NotImplementedStepError, ShapeMismatchError
from reference_impl.geometry import placement_from_lt
from reference_impl.imset import Imset
from reference_impl.io.reffiles import (
    ReferenceImage,
    ReferenceStream,
    cut_to_science,
    read_reference_image,
)
from reference_impl.numerics import BLOCK_ROWS
from reference_impl.steps.flatcorr import (
    apply_flat,
    combine_flat_dq,
    combine_flats,
    combine_flats_in_blocks,
    multiply_flats,
)
from stischeck import environment
from tests.support.corpus import (
    assert_bit_identical,
    imset_pairs,
    sci_placement,
    transition_params,
)

TRANSITIONS = transition_params(environment.find_corpus(), "FLATCORR")
SHAPE = (2 * BLOCK_ROWS + 11, 96)
F32 = np.float32


def imset(sci, err=None, dq=None) -> Imset:
    sci = np.asarray(sci, F32)
    err = np.zeros_like(sci) if err is None else np.asarray(err, F32)
    dq = np.zeros(sci.shape, np.int16) if dq is None else np.asarray(dq, np.int16)
    return Imset(sci, err, dq)


def random_flat(seed, shape=SHAPE, *, level=1.0, spread=0.05, zeros=0, nans=0) -> Imset:
    rng = np.random.default_rng(seed)
    sci = rng.normal(level, spread, shape).astype(F32)
    flat = sci.reshape(-1)
    flat[rng.integers(0, flat.size, zeros)] = 0.0
    flat[rng.integers(0, flat.size, nans)] = np.nan
    err = np.abs(rng.normal(0, spread / 3, shape))
    return imset(sci, err, np.where(rng.random(shape) < 0.02, dqflags.CALIBDEFECT, 0))


def mult2d(a: Imset, b: Imset):
    """Spec §10 mult2d in float32: ``a*b``, ``sqrt((a*e_b)^2 + (b*e_a)^2)``, DQ OR."""
    a_eb, b_ea = a.sci * b.err, b.sci * a.err
    return a.sci * b.sci, np.sqrt(a_eb * a_eb + b_ea * b_ea), a.dq | b.dq


def axis_weights(n_out: int, n_in: int):
    """Spec §10 unbin2d along one axis: position ``a``, index ``i``, weights ``p, q``."""
    b = n_out // n_in
    m = np.arange(n_out, dtype=F32)
    a = (m - F32((b - 1) / 2)) / F32(b)
    i = np.clip(np.trunc(a).astype(np.int64), 0, n_in - 2)
    q = a - i.astype(F32)
    return i, F32(1.0) - q, q


def unbin2d_sci_err(low: Imset, shape):
    """Spec §10: SCI and ERR of the bilinear expansion, float32 left to right."""
    i, p, q = axis_weights(shape[1], low.sci.shape[1])
    j, r, s = axis_weights(shape[0], low.sci.shape[0])
    weights = (p * r[:, None], q * r[:, None], p * s[:, None], q * s[:, None])
    corners = ((j, i), (j, i + 1), (j + 1, i), (j + 1, i + 1))
    sci, var = F32(0.0), F32(0.0)
    for w, (jj, ii) in zip(weights, corners, strict=True):
        value, e = low.sci[jj[:, None], ii], low.err[jj[:, None], ii]
        sci = sci + w * value if sci.ndim else w * value
        var = var + (w * e) * e if var.ndim else (w * e) * e  # weights not squared
    with np.errstate(invalid="ignore"):
        return sci, np.sqrt(var)


def test_flat_divides_and_propagates_both_errors():
    out = apply_flat(imset([[8.0]], [[2.0]]), imset([[2.0]], [[0.5]], [[4]]))
    # ERR = sqrt((2/2)^2 + (0.5*8/2/2)^2) = sqrt(2)
    assert out.sci[0, 0] == 4.0 and out.err[0, 0] == F32(np.sqrt(2.0))
    assert out.dq[0, 0] == 4
    assert (out.sci.dtype, out.err.dtype, out.dq.dtype) == (F32, F32, np.int16)


def test_a_zero_flat_leaves_sci_and_err_and_flags_calibdefect():
    out = apply_flat(imset([[8.0]], [[2.0]], [[16]]), imset([[0.0]], dq=[[4]]))
    assert (out.sci[0, 0], out.err[0, 0]) == (8.0, 2.0)
    assert out.dq[0, 0] == 16 | 4 | dqflags.CALIBDEFECT


def test_division_is_div2d_per_pixel_across_row_blocks():
    """Spec §10 step 4 with the order ``((e_F*SCI)/F)/F``; F == 0 untouched, 512; NaN flows."""
    science = random_flat(7, level=800.0, spread=300.0, nans=2)
    flat = random_flat(8, zeros=40, nans=3)
    out = apply_flat(science, flat)
    f, zero = flat.sci, flat.sci == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        a_term = science.err / f
        b_term = ((flat.err * science.sci) / f) / f
        err = np.sqrt(a_term * a_term + b_term * b_term)
        sci = science.sci / f
    want = (
        np.where(zero, science.sci, sci),
        np.where(zero, science.err, err),
        science.dq | flat.dq | np.where(zero, dqflags.CALIBDEFECT, 0).astype(np.int16),
    )
    assert zero.sum() >= 30
    assert_bit_identical(out, want, "div2d")


def test_flats_multiply_as_mult2d_per_pixel_across_row_blocks():
    p, d = random_flat(5, zeros=30, nans=2), random_flat(6)
    assert_bit_identical(multiply_flats(p, d), mult2d(p, d), "mult2d")


def test_p_and_d_are_multiplied_and_an_lflt_alone_is_refused():
    p, d = imset([[2.0, 2.0]], [[0.0, 0.0]]), imset([[3.0, 0.5]], [[0.0, 0.0]], [[0, 512]])
    out = combine_flats(p, d, None)
    assert out.sci.tolist() == [[6.0, 1.0]] and out.dq.tolist() == [[0, 512]]
    with pytest.raises(NotImplementedStepError, match="LFLTFILE"):
        combine_flats(None, None, imset([[1.0]]))


def test_p_and_d_of_different_sizes_are_refused():
    with pytest.raises(ShapeMismatchError, match="PFLTFILE"):
        combine_flats(imset(np.ones((2, 2))), imset(np.ones((2, 4))), None)


def test_a_single_flat_is_used_as_it_is():
    p = random_flat(12, (8, 6))
    out = combine_flats(p, None, None)
    assert_bit_identical(out, p, "PFLT alone")
    assert_bit_identical(combine_flats(None, p, None), p, "DFLT alone")


@pytest.mark.parametrize(
    ("low_shape", "shape"),
    [((32, 24), (128, 96)), ((64, 12), (128, 96)), ((16, 96), (128, 96)), ((128, 96), (128, 96))],
    ids=["4x4", "8x2", "1x8 (y only)", "1x1 (as is)"],
)
def test_lflt_expands_as_unbin2d_and_multiplies_into_p_times_d(low_shape, shape):
    """Spec §10 step 2: bilinear expansion (extrapolating at the edges), then mult2d."""
    low = random_flat(9, low_shape, spread=0.2)
    expanded = expand_bilinear(low, shape)
    sci, err = unbin2d_sci_err(low, shape)
    np.testing.assert_array_equal(expanded.sci.view(np.int32), sci.view(np.int32))
    np.testing.assert_array_equal(np.isnan(expanded.err), np.isnan(err))
    finite = ~np.isnan(err)
    np.testing.assert_array_equal(expanded.err[finite].view(np.int32), err[finite].view(np.int32))
    p, d = random_flat(10, shape), random_flat(11, shape)
    want = mult2d(Imset(*mult2d(p, d)), expanded)
    with np.errstate(invalid="ignore"):
        assert_bit_identical(combine_flats(p, d, low), want, "P x D x L")
        assert_bit_identical(combine_flats(p, None, low), mult2d(p, expanded), "P x L")


def test_lflt_expansion_extrapolates_linearly_at_the_edges():
    low = imset([[0.0, 4.0]])
    out = expand_bilinear(low, (1, 4))
    # positions (m - 0.5)/2 = -0.25, 0.25, 0.75, 1.25 on the line 0 -> 4
    assert out.sci.tolist() == [[-1.0, 1.0, 3.0, 5.0]]


def test_lflt_dq_is_the_or_of_the_two_neighbours_along_one_axis():
    low = imset(np.ones((2, 8)), dq=np.zeros((2, 8)))
    low.dq[:, 3] = dqflags.HOTPIX
    out = expand_bilinear(low, (2, 32))
    # a = (m - 1.5)/4 lies between input columns 2 and 4 for m = 10 ... 17.
    flagged = np.flatnonzero(out.dq[0] == dqflags.HOTPIX)
    assert flagged.tolist() == list(range(10, 18))
    assert np.array_equal(out.dq[0], out.dq[1])


def test_lflt_dq_in_two_dimensions_uses_the_last_output_row_for_every_row():
    """Spec §10: calstis's DQ row bug; a flag in the first LFLT row never shows, the last always."""
    low = imset(np.ones((4, 4)), dq=np.zeros((4, 4)))
    low.dq[0, 1] = dqflags.HOTPIX
    low.dq[3, 2] = dqflags.CALIBDEFECT
    out = expand_bilinear(low, (16, 16))
    assert not (out.dq & dqflags.HOTPIX).any()
    rows_with_it = (out.dq & dqflags.CALIBDEFECT).any(axis=1)
    assert rows_with_it.all()
    assert np.array_equal(out.dq, np.broadcast_to(out.dq[-1], out.dq.shape))


def test_a_binned_flat_is_averaged_over_each_bin():
    """Spec §7: flats averaged, ``ERR = sqrt(sum ERR^2) / N``, DQ OR."""
    ref = imset(np.arange(16.0).reshape(4, 4), np.ones((4, 4)), np.eye(4, dtype=np.int16) * 16)
    averaged = bin_block(ref, x0=0, y0=0, bin_x=2, bin_y=2, shape=(2, 2), average=True)
    assert averaged.sci.tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert averaged.err[0, 0] == 0.5 and averaged.dq.tolist() == [[16, 0], [0, 16]]
    rows = bin_block(ref, x0=0, y0=1, bin_x=4, bin_y=1, shape=(2, 1), average=True)
    assert rows.sci.tolist() == [[5.5], [9.5]] and rows.err[0, 0] == F32(0.5)


def test_a_2x2_science_frame_gets_the_flat_averaged_from_reference_column_1():
    """Spec §7: trimmed 2x2 data with LTV1 = -0.25 start at unbinned column 1 (row 0: LTV2 0.25)."""
    ref = imset(np.arange(64.0).reshape(8, 8))
    unbinned = placement_from_lt(0.0, 0.0, 1.0, 1.0)
    binned = placement_from_lt(-0.25, 0.25, 0.5, 0.5)
    out = match_reference(ref, unbinned, binned, (2, 2), average=True, what="flat")
    assert out.sci.tolist() == [[5.5, 7.5], [21.5, 23.5]]  # columns 1-2 and 3-4


def test_inputs_are_not_modified():
    s, f = imset([[1.0]], [[1.0]]), imset([[2.0]], [[0.1]])
    sb, fb = s.copy(), f.copy()
    apply_flat(s, f)
    assert_bit_identical(s, sb, "science")
    assert_bit_identical(f, fb, "flat")


def _flat_file(path, flat: Imset, order=("SCI", "ERR", "DQ")):
    from astropy.io import fits

    arrays = dict(zip(("SCI", "ERR", "DQ"), flat, strict=True))
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(arrays[n], name=n, ver=1) for n in order]
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.mark.parametrize("order", [("SCI", "ERR", "DQ"), ("SCI", "DQ", "ERR"), ("SCI", "DQ")])
@pytest.mark.parametrize("with_lflt", [True, False])
def test_flats_combined_in_blocks_from_files_equal_combine_flats(tmp_path, order, with_lflt):
    shape = (2 * BLOCK_ROWS + 8, 48)
    p, d = random_flat(20, shape, zeros=5), random_flat(21, shape, nans=2)
    low = random_flat(22, (shape[0] // 4, shape[1] // 4), spread=0.2) if with_lflt else None
    p_path = _flat_file(tmp_path / "p.fits.gz", p, order)
    d_path = _flat_file(tmp_path / "d.fits", d)
    p_read = read_reference_image(p_path, what="PFLTFILE").imset
    with np.errstate(invalid="ignore"):
        want = combine_flats(p_read, d, low)
        with ReferenceStream(p_path, what="P") as ps, ReferenceStream(d_path, what="D") as ds:
            blocks = (
                (rows, pe, de)
                for (rows, pe), (_, de) in zip(ps.err_blocks(), ds.err_blocks(), strict=True)
            )
            sci, err, l_dq = combine_flats_in_blocks(ps.sci, ds.sci, blocks, low)
            got = Imset(sci, err, combine_flat_dq(ps.dq(), ds.dq(), l_dq))
    assert_bit_identical(got, want, "blocks from files")


@pytest.mark.corpus
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_flat_division_reproduces_the_corpus_flatcorr_product(transition):
    """calstis's DARKCORR product divided by the P x D x L flat, cut and averaged to it."""
    parts = {
        key: read_reference_image(transition.reference(key), what=key)
        for key in ("PFLTFILE", "DFLTFILE", "LFLTFILE")
    }
    pflt = parts["PFLTFILE"]
    flat = combine_flats(pflt.imset, parts["DFLTFILE"].imset, parts["LFLTFILE"].imset)
    flat_ref = ReferenceImage(pflt.path, flat, pflt.placement, pflt.primary_header)
    for k, science, want, before, _ in imset_pairs(transition):
        place = sci_placement(before["SCI", k].header)
        cut = cut_to_science(flat_ref, place, science.shape, average=True, what="flat field")
        assert_bit_identical(apply_flat(science, cut), want, f"{transition.id} imset {k}")
