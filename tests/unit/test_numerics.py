"""Rounding helpers of reference_impl.numerics against plain sequential loops."""

import numpy as np
import pytest

from reference_impl.numerics import sequential_sum_f64

RNG = np.random.default_rng(7)


def _c_loop_sum(values: np.ndarray) -> float:
    """``sum = x[0]; sum += x[i]`` in double, as dostat.c accumulates."""
    values = values.ravel()
    total = float(values[0])
    for v in values[1:].tolist():
        total += v
    return total


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or (a == b and np.signbit(a) == np.signbit(b))


ADVERSARIAL = {
    # pairwise and sequential sums differ in double for these
    "cancellation": np.array([2.0**60, 1.0, -(2.0**60), 1.0] * 300, np.float32),
    "wide range": np.concatenate(
        [RNG.normal(0, 1, 5000), RNG.normal(0, 1e20, 50), [1e-30, -1e-30]]
    ).astype(np.float32),
    "tiny smallest value": np.concatenate(
        [np.full(20000, 3.0e7), [2.0**-20, 1.5, -(2.0**-20)]]
    ).astype(np.float32),
    "subnormals": np.array([1e-45, 3e-45, -1e-45, 1e-40] * 100, np.float32),
    "subnormal and large": np.array([1e-45, 1e30, -1e30, 7e-45] * 50, np.float32),
    "raw DN": RNG.integers(0, 65535, 500_000).astype(np.float32),
    "raw DN over 2**30": np.full(40_000, 65535.0, np.float32),
    "errors": np.sqrt(RNG.uniform(1, 1e4, 300_000)).astype(np.float32),
    "bias-subtracted": RNG.normal(0, 30, 300_000).astype(np.float32),
    "all negative zero": np.full(10, -0.0, np.float32),
    "zeros of both signs": np.array([-0.0, 0.0, -0.0], np.float32),
    "negative zero first": np.array([-0.0, 5.0, -5.0], np.float32),
    "one value": np.array([-3.25], np.float32),
    "nan": np.array([1.0, np.nan, 2.0], np.float32),
    "inf": np.array([1.0, np.inf, 2.0], np.float32),
    "inf minus inf": np.array([np.inf, -np.inf], np.float32),
    "float32 max": np.full(1000, np.finfo(np.float32).max, np.float32),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_sequential_sum_f64_equals_the_c_loop_and_cumsum(name):
    values = ADVERSARIAL[name]
    ours = sequential_sum_f64(values)
    assert _same(ours, _c_loop_sum(values)), name
    with np.errstate(invalid="ignore"):
        assert _same(ours, float(np.cumsum(values, dtype=np.float64)[-1])), name


def test_sequential_sum_f64_of_nothing_is_zero():
    assert sequential_sum_f64(np.zeros(0, np.float32)) == 0.0


def test_sequential_sum_f64_accepts_strided_2d_input_in_raster_order():
    a = RNG.normal(0, 1e6, (300, 400)).astype(np.float32)
    view = a[::2, 1::3]
    assert _same(sequential_sum_f64(view), _c_loop_sum(np.ascontiguousarray(view)))
    np.testing.assert_array_equal(a[::2, 1::3], view)  # input untouched


def test_sequential_sum_f64_where_pairwise_would_differ():
    # Guard on the guard: np.sum really differs here, so the test above means something.
    values = ADVERSARIAL["cancellation"]
    assert float(np.add.reduce(values, dtype=np.float64)) != _c_loop_sum(values)
    assert sequential_sum_f64(values) == _c_loop_sum(values)
