"""STATFLAG: good-pixel statistics written to the SCI and ERR headers (spec §11; ``dostat.c``)."""

from dataclasses import dataclass

import numpy as np

from reference_impl.imset import Imset
from reference_impl.numerics import RunningSum, row_blocks

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


class _Extreme:
    """The minimum or maximum as dostat.c's loop finds it, fed block by block.

    The loop starts from the first value and replaces it only on a strict
    ``<`` (``>``): a NaN first value stays for good, later NaNs are skipped
    (as ``np.fmin``/``np.fmax`` skip them), and among equal values (``-0.0``
    and ``0.0``) the first one wins, which numpy's reductions do not promise.
    """

    def __init__(self, reduce: np.ufunc, better) -> None:
        self._reduce, self._better = reduce, better
        self.value = None

    def add(self, values: np.ndarray) -> None:
        if values.size == 0:
            return
        if self.value is None:
            self.value = values[0]
            if np.isnan(self.value):
                return  # stays NaN
        elif np.isnan(self.value):
            return
        candidate = self._reduce.reduce(values)
        if candidate == 0.0:
            candidate = values[np.flatnonzero(values == 0.0)[0]]
        if self._better(candidate, self.value):
            self.value = candidate


def compute_statistics(science: Imset, *, sdqflags: int) -> ImsetStatistics:
    """
    Good-pixel statistics of one imset (dostat.c).

    Parameters
    ----------
    science : Imset
        SCI, ERR in DN (float32), DQ int16, after all other steps.
    sdqflags : int
        ``SDQFLAGS``; a pixel is good when ``DQ & SDQFLAGS == 0``.

    Returns
    -------
    ImsetStatistics
        The keyword values calstis writes (float32), or only ``ngoodpix = 0``.

    Notes
    -----
    A good pixel with ``ERR <= 0`` and ``SCI > 0`` is left out; one with
    ``ERR <= 0`` and ``SCI <= 0`` counts with S/N 0. Sums are sequential in
    double, in raster order, divided by the count, and written as float32.
    With no good pixel only ``NGOODPIX = 0`` is written. Minima and maxima are
    taken on the float32 values (the same numbers the C code compares in
    double); S/N is the double quotient ``f64(SCI) / f64(ERR)``. The image is
    read in blocks of rows, every running statistic carried from block to
    block in raster order, so no image-sized temporary is made.
    """
    sci, err, dq = science
    mask = np.int16(sdqflags)
    n = 0
    sums = [RunningSum() for _ in range(3)]  # SCI, S/N, ERR
    lows = [_Extreme(np.fmin, np.less) for _ in range(3)]
    highs = [_Extreme(np.fmax, np.greater) for _ in range(3)]
    snr_buffer = None  # one block of S/N values, reused from block to block
    for rows in row_blocks(sci.shape[0]):
        value, stddev = sci[rows].ravel(), err[rows].ravel()
        keep = (dq[rows].ravel() & mask) == 0
        err_not_positive = stddev <= 0.0
        any_err_not_positive = bool(err_not_positive.any())
        if any_err_not_positive:
            keep &= ~(err_not_positive & (value > 0.0))
        n_keep = int(np.count_nonzero(keep))
        if n_keep == 0:
            continue
        if n_keep != keep.size:
            value, stddev = value[keep], stddev[keep]
        if snr_buffer is None or snr_buffer.size < n_keep:
            snr_buffer = np.empty(n_keep, dtype=np.float64)
        snr = snr_buffer[:n_keep]
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(value, stddev, out=snr, dtype=np.float64)
        if any_err_not_positive:
            snr[stddev <= 0.0] = 0.0
        for k, x in enumerate((value, snr, stddev)):
            lows[k].add(x)
            highs[k].add(x)
        sums[0].add(value)
        sums[2].add(stddev)
        sums[1].add(snr, overwrite=True)  # last: the running sum overwrites the buffer
        n += n_keep
    if n == 0:
        return ImsetStatistics(ngoodpix=0)
    f32 = np.float32
    mean = [f32(s.total / float(n)) for s in sums]
    return ImsetStatistics(
        ngoodpix=n,
        goodmin=f32(lows[0].value),
        goodmax=f32(highs[0].value),
        goodmean=mean[0],
        snrmin=f32(lows[1].value),
        snrmax=f32(highs[1].value),
        snrmean=mean[1],
        err_goodmin=f32(lows[2].value),
        err_goodmax=f32(highs[2].value),
        err_goodmean=mean[2],
    )
