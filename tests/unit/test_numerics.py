"""Rounding helpers of reference_impl.numerics against plain loops and whole-array numpy."""

import numpy as np
import pytest

from reference_impl.numerics import (
    BLOCK_ROWS,
    RunningSum,
    is_constant,
    median_f32,
    positive_part,
    quadrature_f32,
    row_blocks,
    select,
    sqrt_f32,
)

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


def _running_sum(values: np.ndarray, seed: int) -> float:
    """RunningSum fed ``values`` in random pieces (empty ones included)."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(0, values.size + 1, 6))
    s = RunningSum()
    for piece in np.split(values, cuts):
        s.add(piece)
    return s.total


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_running_sum_equals_the_c_loop_and_cumsum(name):
    values = ADVERSARIAL[name]
    want = _c_loop_sum(values)
    for seed in range(3):
        assert _same(_running_sum(values, seed), want), name
    with np.errstate(invalid="ignore"):
        assert _same(_running_sum(values, 0), float(np.cumsum(values, dtype=np.float64)[-1]))


def test_running_sum_of_nothing_is_none():
    s = RunningSum()
    s.add(np.zeros(0, np.float32))
    assert s.total is None


def test_running_sum_differs_from_pairwise_where_it_should():
    # Guard on the guard: np.sum really differs here, so the test above means something.
    values = ADVERSARIAL["cancellation"]
    assert float(np.add.reduce(values, dtype=np.float64)) != _c_loop_sum(values)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 1000, 1001])
def test_median_f32_equals_the_sorted_middle(n):
    rng = np.random.default_rng(n)
    values = rng.normal(0, 1e3, n).astype(np.float32)
    values[::7] = np.round(values[::7])  # ties
    ordered = np.sort(values)
    h = n // 2
    want = ordered[h] if n % 2 else np.float32((ordered[h - 1] + ordered[h]) / np.float32(2.0))
    copy = values.copy()
    assert median_f32(values) == want
    np.testing.assert_array_equal(values, copy)  # untouched without overwrite
    assert median_f32(copy, overwrite=True) == want


def test_median_f32_puts_nan_last_as_a_sort_does():
    assert np.isnan(median_f32(np.array([1.0, np.nan, np.nan], np.float32)))
    assert median_f32(np.array([3.0, np.nan, 1.0], np.float32)) == np.float32(3.0)


def test_quadrature_f32_block_wise_equals_whole_frame():
    rng = np.random.default_rng(5)
    a = rng.normal(0, 100, (2 * BLOCK_ROWS + 3, 17)).astype(np.float32)
    b = rng.normal(0, 1e-3, a.shape).astype(np.float32)
    whole = np.sqrt(a * a + b * b, dtype=np.float32)
    assert np.array_equal(quadrature_f32(a, b), whole)


def test_row_blocks_cover_every_row_once_in_order():
    rows = [r for s in row_blocks(2 * BLOCK_ROWS + 1) for r in range(s.start, s.stop)]
    assert rows == list(range(2 * BLOCK_ROWS + 1))
    assert list(row_blocks(0)) == []


def test_running_sum_takes_the_exact_route_only_where_no_addition_rounds():
    raw = ADVERSARIAL["raw DN"]
    s = RunningSum()
    for piece in np.array_split(raw, 8):
        s.add(piece)
    assert s.n_exact_pieces == 8 and s.total == _c_loop_sum(raw)
    # A carry finer than the piece: 2**-30 + 2**24 rounds, so the piece must
    # not be summed on its own and added afterwards (that would give 2**-30).
    s = RunningSum()
    s.add(np.array([2.0**-30], np.float32))
    s.add(np.array([2.0**24, -(2.0**24)], np.float32))
    assert s.total == _c_loop_sum(np.array([2.0**-30, 2.0**24, -(2.0**24)], np.float32)) == 0.0
    # Bias-subtracted values near zero fail the test, and then it is not tried again.
    s = RunningSum()
    for piece in np.array_split(ADVERSARIAL["bias-subtracted"], 4):
        s.add(piece)
    assert s.n_exact_pieces == 0 and s.total == _c_loop_sum(ADVERSARIAL["bias-subtracted"])


def test_running_sum_overwrite_gives_the_same_total_and_spends_the_buffer():
    values = RNG.normal(3.0, 10.0, 20_000)  # float64: always the cumsum route
    plain, reused = RunningSum(), RunningSum()
    for piece in np.array_split(values, 5):
        plain.add(piece)
        buffer = piece.copy()
        reused.add(buffer, overwrite=True)
    assert reused.total == plain.total == _c_loop_sum(values)


def test_running_sum_exact_route_holds_with_the_loose_bound_near_two_to_the_53():
    # n max|x| is the bound: integers whose sum reaches past 2**53 must leave the
    # exact route (the pairwise sum would round differently from the loop there).
    values = np.full(3000, 2.0**43, np.float32)
    values[1::2] = 1.0
    s = RunningSum()
    for piece in np.array_split(values, 3):
        s.add(piece)
    assert s.total == _c_loop_sum(values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.zeros(0, np.float32), True),
        (np.full((300, 40), 7.0, np.float32), True),
        (np.array([np.nan, np.nan], np.float32), False),  # NaN equals nothing
        (np.array([-0.0, 0.0], np.float32), True),  # -0 == 0, as the C test says
        (np.concatenate([np.full(10_000, 3, np.uint16), [4]]), False),  # only the last differs
        (np.arange(5, dtype=np.int16), False),
    ],
)
def test_is_constant_compares_every_value_with_the_first(values, expected):
    assert is_constant(values) is expected


def _awkward_floats(rng, shape):
    """float32 with NaNs (two payloads), infinities, both zeros and subnormals among normals."""
    values = rng.normal(0, 10, shape).astype(np.float32)
    specials = np.array(
        [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45], dtype=np.float32
    )
    where = rng.random(shape) < 0.2
    values[where] = rng.choice(specials, int(where.sum()))
    return values


@pytest.mark.parametrize("shape", [(1,), (64, 1024), (7, 3, 5), (0, 4)])
def test_select_gives_the_bits_np_where_gives(shape):
    rng = np.random.default_rng(7)
    a, b = _awkward_floats(rng, shape), _awkward_floats(rng, shape)
    for p in (0.0, 0.03, 0.5, 1.0):
        mask = rng.random(shape) < p
        expected = np.where(mask, a, b).view(np.int32)
        assert np.array_equal(select(mask, a, b).view(np.int32), expected)
        into_b = b.copy()
        select(mask, a, into_b, out=into_b)
        assert np.array_equal(into_b.view(np.int32), expected)


def test_select_works_on_row_views_of_a_larger_array():
    rng = np.random.default_rng(8)
    image, other = _awkward_floats(rng, (100, 30)), _awkward_floats(rng, (100, 30))
    rows = slice(10, 74)
    mask = rng.random((64, 30)) < 0.5
    expected = np.where(mask, other[rows], image[rows])
    select(mask, other[rows], image[rows], out=image[rows])
    assert np.array_equal(image[rows].view(np.int32), expected.view(np.int32))


def test_positive_part_is_the_c_conditional_up_to_the_sign_of_zero():
    rng = np.random.default_rng(9)
    x = _awkward_floats(rng, (50, 40))
    c_value = np.where(x > 0, x, np.float32(0))  # x > 0 ? x : 0, NaN gives 0
    got = positive_part(x)
    assert got.dtype == np.float32 and not np.isnan(got).any()
    assert np.array_equal(got, c_value)  # equal as numbers: -0 == +0
    # What the callers do with it (square it, add it to a square) removes the sign.
    assert np.array_equal((got * got).view(np.int32), (c_value * c_value).view(np.int32))
    assert np.array_equal(
        (np.float32(4.0) + got).view(np.int32), (np.float32(4.0) + c_value).view(np.int32)
    )
    out = x.copy()
    positive_part(out, out=out)
    assert np.array_equal(out, c_value)


def test_sqrt_f32_is_cs_double_sqrt_rounded_to_float32_bit_for_bit():
    # (float) sqrt((double) x): every float32 pattern was checked once; here two
    # million random ones and the specials (NaN, +-inf, +-0, subnormals, negatives).
    rng = np.random.default_rng(10)
    bits = rng.integers(0, 2**32, 2_000_000, dtype=np.uint64).astype(np.uint32)
    specials = np.array([0, 0x80000000, 1, 0x807FFFFF, 0x7F800000, 0xFF800000,
                         0x7FC00000, 0xFFC00000, 0x7F800001, 0x3F800000, 0xBF800000],
                        dtype=np.uint32)  # fmt: skip
    x = np.concatenate([bits, specials]).view(np.float32)
    with np.errstate(invalid="ignore"):
        expected = np.sqrt(x.astype(np.float64)).astype(np.float32)
        got = sqrt_f32(x)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))
