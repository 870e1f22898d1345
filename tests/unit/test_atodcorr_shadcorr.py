"""ATODCORR (doatod.c) and SHADCORR (doshad.c) rules."""

import numpy as np
import pytest

from reference_impl.imset import Imset
from reference_impl.steps.atodcorr import SATPIXEL, AtodRow, apply_atod, select_atod_row
from reference_impl.steps.shadcorr import (
    correct_shutter_shading,
    shading_divisor,
    shading_scale,
)


def _row(amp, gain, value, pedigree="MODEL", key="OCCDHTAV"):
    return AtodRow(amp, gain, key, value, pedigree, np.arange(4, dtype=np.float32))


def test_the_row_closest_in_ref_key_wins_among_the_amp_and_gain():
    rows = [_row("D", 1, 15.0), _row("D", 1, 18.5), _row("D", 4, 19.0), _row("A", 1, 19.0)]
    assert select_atod_row(rows, ccdamp="D", ccdgain=1, key_value=lambda k: 19.0) == 1


def test_the_first_of_equally_close_rows_wins_and_wildcards_match():
    rows = [_row("C", 1, 50.0), _row("ANY", -1, 18.0), _row("D", 1, 20.0)]
    assert select_atod_row(rows, ccdamp="D", ccdgain=1, key_value=lambda k: 19.0) == 1
    assert select_atod_row(rows[:1], ccdamp="D", ccdgain=1, key_value=lambda k: 19.0) is None


def test_atod_replaces_values_flags_beyond_the_table_and_leaves_negatives():
    sci = np.array([[0.0, 2.0, 3.0, 7.0, -5.0, 2.9]], np.float32)
    science = Imset(sci, np.ones_like(sci), np.zeros(sci.shape, np.int16))
    table = np.array([10.5, 11.5, 12.5, 13.5], np.float32)
    out = apply_atod(science, table)
    assert out.sci.tolist() == [[10.5, 12.5, 13.5, 13.5, -5.0, 12.5]]
    assert out.dq.tolist() == [[0, 0, 0, SATPIXEL, 0, 0]]
    assert out.err is science.err and science.sci[0, 1] == 2.0  # input untouched


def test_shading_scale_is_float32_of_the_inverse_per_exposure_time():
    assert shading_scale(300.0, 3) == np.float32(1.0 / float(np.float32(100.0)))
    assert shading_scale(1.0, 1) == np.float32(1.0)


def test_shading_divisor_scales_sci_and_err_then_adds_one_to_sci():
    shade = Imset(np.float32([[0.5, 2.0]]), np.float32([[0.1, 0.2]]), np.int16([[0, 4]]))
    out = shading_divisor(shade, np.float32(0.5))
    assert out.sci.tolist() == [[1.25, 2.0]]
    assert out.err.tolist() == [[np.float32(0.05), np.float32(0.1)]]


@pytest.mark.parametrize("ncombine", [1, 4])
def test_zero_shading_leaves_the_science_bitwise(ncombine):
    rng = np.random.default_rng(1)
    sci = rng.normal(100, 30, (3, 5)).astype(np.float32)
    science = Imset(sci, np.abs(sci) ** 0.5, np.zeros(sci.shape, np.int16))
    zero = Imset(np.zeros_like(sci), np.zeros_like(sci), np.zeros(sci.shape, np.int16))
    out = correct_shutter_shading(science, zero, exptime_s=600.0, ncombine=ncombine)
    assert np.array_equal(out.sci, sci) and np.array_equal(out.err, science.err)


def test_shading_divides_by_one_plus_shade_over_time_per_exposure():
    science = Imset(np.float32([[101.0]]), np.float32([[0.0]]), np.int16([[0]]))
    shade = Imset(np.float32([[1.0]]), np.float32([[0.0]]), np.int16([[16]]))
    out = correct_shutter_shading(science, shade, exptime_s=200.0, ncombine=2)
    assert out.sci[0, 0] == np.float32(np.float32(101.0) / np.float32(1.01))
    assert out.dq[0, 0] == 16
