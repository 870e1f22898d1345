"""SHADCORR (spec §11; doshad.c): the shading divisor ``1 + SHADFILE/t`` (code-read only)."""

import numpy as np
import pytest

from reference_impl.imset import Imset
from reference_impl.steps.shadcorr import (
    correct_shutter_shading,
    shading_divisor,
    shading_scale,
)


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
