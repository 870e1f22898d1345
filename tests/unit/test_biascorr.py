"""BIASCORR (spec §7, §8; dobias.c, sub2d.c, bin2d.c) on small arrays and on the corpus.

Pinned to calstis rather than to earlier code (issue 16). What used to be
checked against the frozen ``oracles/numerics_v1.sub2d`` is covered by:

* the corpus: every BIASCORR product bit for bit, tests/regression/
  test_corpus_reference.py (whole pipeline) and
  `test_bias_subtraction_reproduces_the_corpus_biascorr_product` below
  (this step alone, on calstis's own BLEVCORR product);
* live calstis: tests/differential/test_synthetic_vs_live_calstis.py;
* tests/property/test_biascorr_properties.py (zero bias, DQ bits, ERR);
* `test_subtraction_is_sub2d_per_pixel_across_row_blocks` (spec §14 sub2d).
"""

import numpy as np
import pytest

from reference_impl.binning import bin_block, match_reference
from reference_impl.errors import ShapeMismatchError
from reference_impl.geometry import placement_from_lt
from reference_impl.imset import Imset
from reference_impl.io.reffiles import cut_to_science, read_reference_image
from reference_impl.numerics import BLOCK_ROWS
from reference_impl.steps.biascorr import subtract_bias
from stischeck import environment
from tests.support.corpus import (
    assert_bit_identical,
    imset_pairs,
    sci_placement,
    transition_params,
)

TRANSITIONS = transition_params(environment.find_corpus(), "BIASCORR")


def imset(sci, err=None, dq=None) -> Imset:
    sci = np.asarray(sci, np.float32)
    err = np.zeros_like(sci) if err is None else np.asarray(err, np.float32)
    dq = np.zeros(sci.shape, np.int16) if dq is None else np.asarray(dq, np.int16)
    return Imset(sci, err, dq)


def random_imset(seed, shape, *, level, spread) -> Imset:
    rng = np.random.default_rng(seed)
    return imset(
        rng.normal(level, spread, shape),
        np.abs(rng.normal(0, spread / 3, shape)),
        np.where(rng.random(shape) < 0.02, 512, 0),
    )


def test_bias_is_subtracted_errors_add_in_quadrature_and_dq_is_ored():
    out = subtract_bias(imset([[10.0]], [[3.0]], [[1]]), imset([[4.0]], [[4.0]], [[512]]))
    assert (out.sci[0, 0], out.err[0, 0], out.dq[0, 0]) == (6.0, 5.0, 513)


def test_output_is_float32_sci_and_err_with_int16_dq():
    out = subtract_bias(imset([[10.0]], [[3.0]], [[-32768]]), imset([[4.0]], [[4.0]], [[512]]))
    assert (out.sci.dtype, out.err.dtype, out.dq.dtype) == (np.float32, np.float32, np.int16)
    assert out.dq[0, 0] == np.int16(-32768 | 512)  # bit 15 survives the OR


def test_subtraction_is_sub2d_per_pixel_across_row_blocks():
    """Spec §14: ``SCI = f32(a-b)``, ``ERR = f32(sqrt(f32(f32(ea*ea) + f32(eb*eb))))``, DQ OR."""
    shape = (2 * BLOCK_ROWS + 11, 96)
    science = random_imset(1, shape, level=500.0, spread=80.0)
    bias = random_imset(2, shape, level=1.0, spread=3.0)
    science.sci[5, 7] = np.nan
    out = subtract_bias(science, bias)
    want_err = np.sqrt(science.err * science.err + bias.err * bias.err)
    assert want_err.dtype == np.float32
    assert_bit_identical(out, (science.sci - bias.sci, want_err, science.dq | bias.dq), "sub2d")


def test_bias_is_scaled_by_ncombine_in_sci_and_err():
    out = subtract_bias(imset([[10.0]], [[0.0]]), imset([[1.0]], [[1.0]]), ncombine=3)
    assert (out.sci[0, 0], out.err[0, 0]) == (7.0, 3.0)


def test_a_bias_of_another_shape_is_refused():
    with pytest.raises(ShapeMismatchError):
        subtract_bias(imset(np.zeros((2, 2))), imset(np.zeros((2, 3))))


def test_inputs_are_not_modified():
    s, b = imset([[1.0]], [[1.0]]), imset([[2.0]], [[2.0]], [[4]])
    sb, bb = s.copy(), b.copy()
    subtract_bias(s, b)
    assert_bit_identical(s, sb, "science")
    assert_bit_identical(b, bb, "bias")


def test_a_binned_bias_is_summed_over_each_bin_with_errors_in_quadrature():
    """Spec §7: bias and dark are summed, ``ERR = sqrt(sum ERR^2)``, DQ OR over the bin."""
    ref = imset(np.arange(16.0).reshape(4, 4), np.ones((4, 4)), np.eye(4, dtype=np.int16) * 16)
    summed = bin_block(ref, x0=0, y0=0, bin_x=2, bin_y=2, shape=(2, 2), average=False)
    assert summed.sci.tolist() == [[10.0, 18.0], [42.0, 50.0]]
    assert summed.err[0, 0] == 2.0 and summed.dq.tolist() == [[16, 0], [0, 16]]


def test_bin_sums_are_sequential_float32_in_row_major_order():
    """Spec §14 bin2d: one float32 accumulator; pairwise or column order gives 0 or 2, not 1."""
    block = imset([[1e8, 1.0], [-1e8, 1.0]])
    summed = bin_block(block, x0=0, y0=0, bin_x=2, bin_y=2, shape=(1, 1), average=False)
    assert summed.sci[0, 0] == np.float32(1.0)


def test_a_subarray_cuts_the_bias_rows_and_columns_at_its_corner():
    ref = imset(np.arange(100.0).reshape(10, 10))
    ref_place = placement_from_lt(0.0, 0.0, 1.0, 1.0)
    sci_place = placement_from_lt(-2.0, -3.0, 1.0, 1.0)  # starts at reference (2, 3)
    out = match_reference(ref, ref_place, sci_place, (2, 2), average=False, what="bias")
    assert out.sci.tolist() == [[32.0, 33.0], [42.0, 43.0]]


def test_a_bias_binned_more_than_the_science_or_too_small_is_refused():
    ref = imset(np.arange(100.0).reshape(10, 10))
    unbinned = placement_from_lt(0.0, 0.0, 1.0, 1.0)
    sci_place = placement_from_lt(-2.0, -3.0, 1.0, 1.0)
    binned = placement_from_lt(0, 0, 0.5, 0.5)
    with pytest.raises(ShapeMismatchError, match="binned"):
        match_reference(ref, binned, unbinned, (2, 2), average=False, what="bias")
    with pytest.raises(ShapeMismatchError, match="does not cover"):
        match_reference(ref, unbinned, sci_place, (20, 20), average=False, what="bias")


@pytest.mark.corpus
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_bias_subtraction_reproduces_the_corpus_biascorr_product(transition):
    """calstis's BLEVCORR product minus the cut (and summed) bias is its BIASCORR product."""
    bias = read_reference_image(transition.reference("BIASFILE"), what="BIASFILE")
    for k, science, want, before, _ in imset_pairs(transition):
        place = sci_placement(before["SCI", k].header)
        cut = cut_to_science(bias, place, science.shape, average=False, what="bias image")
        assert_bit_identical(subtract_bias(science, cut), want, f"{transition.id} imset {k}")
