"""The rounding helpers as it was before the block-wise rewrite (commit 77ffea2), kept as an oracle.

Validated bit for bit against calstis 3.5.0 on the corpus and the live
differential suite; the block-wise version must give the same numbers.
"""
# ruff: noqa

import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "nint",
    "f32",
    "header_float",
    "sequential_sum",
    "sequential_sum_f64",
    "median_f64",
    "median_f32",
    "sub2d",
    "quadrature_f32",
]


def nint(x: float) -> int:
    """Round half away from zero, as ``NINT`` in hstcal ``stis.h``.

    Examples
    --------
    >>> nint(2.5), nint(-2.5), nint(0.49)
    (3, -3, 0)
    """
    return int(x + 0.5) if x >= 0 else int(x - 0.5)


def f32(x: float) -> float:
    """Round a Python float to the nearest IEEE float32 value (returned as float)."""
    return float(np.float32(x))


def header_float(x: float) -> float:
    """Round a value as calstis writes a float keyword (``%#14.7E``, 8 significant digits).

    calstis re-reads its own header keywords in later stages, so the value it
    uses there is this rounded one (spec §14).
    """
    return float(f"{float(x):.7E}")


def sequential_sum(values: NDArray, dtype=np.float64) -> float:
    """Sum a 1-D array left to right in one accumulator of ``dtype``.

    ``np.cumsum`` accumulates sequentially (unlike the pairwise ``np.sum``), so
    its last element is the C loop's result.
    """
    values = np.asarray(values, dtype=dtype).ravel()
    if values.size == 0:
        return 0.0
    return float(np.cumsum(values, dtype=dtype)[-1])


def sequential_sum_f64(values: NDArray[np.float32]) -> float:
    """
    Sum float32 values left to right in one double accumulator, as a C loop does.

    Parameters
    ----------
    values : ndarray of float32, 1-D
        The addends in C loop order.

    Returns
    -------
    float
        The sequential double sum (0.0 for no values).

    Notes
    -----
    A sequential sum costs a full pass whose additions wait on each other
    (``np.cumsum``), so a cheaper route is taken when it provably gives the
    same double: every nonzero float32 is an integer multiple of ``2**e``, the
    ulp of the smallest nonzero magnitude, so every partial sum, in any order,
    is such a multiple of magnitude at most ``sum(|x|)``. When
    ``sum(|x|) < 2**(53 + e)`` every partial sum is exactly representable in
    double, no addition rounds, and numpy's pairwise ``np.add.reduce`` equals
    the sequential sum bit for bit. That holds for raw DN and for typical ERR
    arrays; otherwise (or with NaN, Inf, or only zeros) ``np.cumsum`` is used.
    """
    values = np.ascontiguousarray(values, dtype=np.float32).ravel()
    if values.size == 0:
        return 0.0
    magnitude = values.view(np.uint32) & np.uint32(0x7FFFFFFF)
    # Pairwise sum of |x|: relative error far below the margin used here.
    total_abs = float(np.add.reduce(magnitude.view(np.float32), dtype=np.float64))
    np.subtract(magnitude, np.uint32(1), out=magnitude)  # zeros wrap to the largest value
    smallest_bits = int(magnitude.min()) + 1
    if math.isfinite(total_abs) and 0 < smallest_bits < 0x7F800000:
        ulp_exponent = max(smallest_bits >> 23, 1) - 150  # subnormals: 2**-149
        if total_abs * (1.0 + 1e-6) < math.ldexp(1.0, 53 + ulp_exponent):
            return float(np.add.reduce(values, dtype=np.float64))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, as in C
        return float(np.cumsum(values, dtype=np.float64)[-1])


def median_f64(values: NDArray) -> float:
    """Median in double; the mean of the two middle values for an even count.

    Matches hstcal ``pkg/stis/lib/median.c`` as used by BLEVCORR.
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = v.size
    if n == 0:
        raise ValueError("median of an empty set")
    half = n // 2
    if n % 2:
        return float(v[half])
    return float((v[half - 1] + v[half]) / 2.0)


def median_f32(values: NDArray) -> np.float32:
    """Median computed in float32: for an even count ``f32((a + b) / 2)`` in float32."""
    v = np.sort(np.asarray(values, dtype=np.float32).ravel())
    n = v.size
    if n == 0:
        raise ValueError("median of an empty set")
    half = n // 2
    if n % 2:
        return v[half]
    return np.float32((v[half - 1] + v[half]) / np.float32(2.0))


def quadrature_f32(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """``f32(sqrt(f32(a*a) + f32(b*b)))`` as hstcal ``sub2d``/``add2d`` propagate errors."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return np.sqrt(a * a + b * b, dtype=np.float32)


def sub2d(sci, err, dq, ref_sci, ref_err, ref_dq):
    """Subtract one SCI/ERR/DQ triple from another (hstcal ``sub2d.c``).

    Returns new float32 SCI and ERR arrays and the OR of the DQ arrays.
    """
    out_sci = (np.asarray(sci, np.float32) - np.asarray(ref_sci, np.float32)).astype(np.float32)
    out_err = quadrature_f32(err, ref_err)
    out_dq = (np.asarray(dq, np.int16) | np.asarray(ref_dq, np.int16)).astype(np.int16)
    return out_sci, out_err, out_dq


def isclose_int_ratio(a: float) -> int | None:
    """Return ``a`` as an int if it is integral (within 1e-6), else None."""
    r = round(a)
    return int(r) if math.isclose(a, r, abs_tol=1e-6) else None
