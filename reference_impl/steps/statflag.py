"""STATFLAG: good-pixel statistics written to the SCI and ERR headers (spec §11; ``dostat.c``)."""

from dataclasses import dataclass

import numpy as np

from reference_impl.imset import Imset
from reference_impl.numerics import sequential_sum_f64

__all__ = ["ImsetStatistics", "compute_statistics"]


@dataclass(frozen=True)
class ImsetStatistics:
    """Statistics keywords of one imset; None where calstis writes nothing.

    SCI values are in DN, ERR values in DN, S/N dimensionless; all are float32
    as calstis writes them (``NGOODPIX`` is an int).
    """

    ngoodpix: int
    goodmin: np.float32 | None = None
    goodmax: np.float32 | None = None
    goodmean: np.float32 | None = None
    snrmin: np.float32 | None = None
    snrmax: np.float32 | None = None
    snrmean: np.float32 | None = None
    err_goodmin: np.float32 | None = None
    err_goodmax: np.float32 | None = None
    err_goodmean: np.float32 | None = None


def _c_extreme(values: np.ndarray, reduce: np.ufunc):
    """The minimum (``np.fmin``) or maximum (``np.fmax``) as a C loop finds it.

    The loop starts from the first value and replaces it only on a strict
    ``<`` (``>``): a NaN first value stays, later NaNs are skipped (as
    ``fmin``/``fmax`` skip them), and among equal values (``-0.0`` and ``0.0``)
    the first one wins, which numpy's reductions do not promise.
    """
    first = values[0]
    if np.isnan(first):
        return first
    result = reduce.reduce(values)
    if result == 0.0:
        result = values[np.flatnonzero(values == 0.0)[0]]
    return result


def _c_min(values: np.ndarray):
    """Minimum as a C loop with ``<`` finds it (`_c_extreme`)."""
    return _c_extreme(values, np.fmin)


def _c_max(values: np.ndarray):
    """Maximum as a C loop with ``>`` finds it (`_c_extreme`)."""
    return _c_extreme(values, np.fmax)


def _mean(values: np.ndarray, n: int) -> np.float32:
    """``f32(sum / n)``, the sum accumulated left to right in double (`sequential_sum_f64`)."""
    if values.dtype == np.float32:
        return np.float32(sequential_sum_f64(values) / float(n))
    # Double values (S/N): np.cumsum is the sequential sum (np.sum is pairwise).
    return np.float32(np.cumsum(values)[-1] / float(n))


def compute_statistics(science: Imset, *, sdqflags: int) -> ImsetStatistics:
    """
    Compute the STATFLAG keywords of one imset.

    Parameters
    ----------
    science : Imset
        Calibrated SCI, ERR (float32, DN) and DQ.
    sdqflags : int
        ``SDQFLAGS``: pixels with none of these bits are good.

    Returns
    -------
    ImsetStatistics
        Count, min, max, mean of SCI, ERR and S/N over the good pixels.

    Notes
    -----
    A good pixel with ``ERR <= 0`` and ``SCI > 0`` is left out; one with
    ``ERR <= 0`` and ``SCI <= 0`` counts with S/N 0. Sums are sequential in
    double, in raster order, divided by the count, and written as float32.
    With no good pixel only ``NGOODPIX = 0`` is written. Minima and maxima are
    taken on the float32 values (the same numbers the C code compares in
    double); S/N is the double quotient ``f64(SCI) / f64(ERR)``.
    """
    sci, err, dq = science
    keep = (dq & np.int16(sdqflags)) == 0
    err_not_positive = err <= 0.0
    any_err_not_positive = bool(err_not_positive.any())
    if any_err_not_positive:
        keep &= ~(err_not_positive & (sci > 0.0))
    n = int(np.count_nonzero(keep))
    if n == 0:
        return ImsetStatistics(ngoodpix=0)
    if n == keep.size:  # the common case: no copy, raster order as is
        value, stddev = sci.ravel(), err.ravel()
    else:
        value, stddev = sci[keep], err[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.divide(value, stddev, dtype=np.float64)
    if any_err_not_positive:
        snr[stddev <= 0.0] = 0.0

    f32 = np.float32
    return ImsetStatistics(
        ngoodpix=n,
        goodmin=f32(_c_min(value)),
        goodmax=f32(_c_max(value)),
        goodmean=_mean(value, n),
        snrmin=f32(_c_min(snr)),
        snrmax=f32(_c_max(snr)),
        snrmean=_mean(snr, n),
        err_goodmin=f32(_c_min(stddev)),
        err_goodmax=f32(_c_max(stddev)),
        err_goodmean=_mean(stddev, n),
    )
