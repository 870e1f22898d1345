"""STATFLAG: good-pixel statistics written to the SCI and ERR headers (spec §11; ``dostat.c``)."""

from dataclasses import dataclass

import numpy as np

from reference_impl.imset import Imset

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


def _c_min(values: np.ndarray) -> float:
    """Minimum as a C loop with ``<`` finds it: NaN only if the first value is NaN."""
    if np.isnan(values[0]):
        return float("nan")
    return float(np.nanmin(values))


def _c_max(values: np.ndarray) -> float:
    """Maximum as a C loop with ``>`` finds it."""
    if np.isnan(values[0]):
        return float("nan")
    return float(np.nanmax(values))


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
    double, divided by the count, and written as float32. With no good pixel
    only ``NGOODPIX = 0`` is written.
    """
    good = (science.dq & np.int16(sdqflags)) == 0
    value = science.sci[good].astype(np.float64)
    stddev = science.err[good].astype(np.float64)
    bad_err = stddev <= 0.0
    keep = ~(bad_err & (value > 0.0))
    value, stddev, bad_err = value[keep], stddev[keep], bad_err[keep]
    n = int(value.size)
    if n == 0:
        return ImsetStatistics(ngoodpix=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(bad_err, 0.0, value / np.where(bad_err, 1.0, stddev))

    def mean(x: np.ndarray) -> np.float32:
        return np.float32(np.cumsum(x)[-1] / float(n))

    f32 = np.float32
    return ImsetStatistics(
        ngoodpix=n,
        goodmin=f32(_c_min(value)),
        goodmax=f32(_c_max(value)),
        goodmean=mean(value),
        snrmin=f32(_c_min(snr)),
        snrmax=f32(_c_max(snr)),
        snrmean=mean(snr),
        err_goodmin=f32(_c_min(stddev)),
        err_goodmax=f32(_c_max(stddev)),
        err_goodmean=mean(stddev),
    )
