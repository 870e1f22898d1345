"""BLEVCORR: subtract the overscan bias level and trim the overscan (spec §6).

hstcal ``cs1/doblev.c``, ``findblev.c``, ``blevfit.c``, ``blevdrift.c``,
``findover.c``. calstis 3.5.0 reads no OSCNTAB: the layout comes from
`reference_impl.geometry.find_overscan`.

The level is not "the row's overscan mean". It is

1. per output row, the median of the serial bias-section pixels whose DQ has no
   SDQFLAGS bit;
2. an unweighted straight line fitted to those medians against row number;
3. plus, for frames with a virtual (parallel) overscan, a column-drift slope
   fitted to per-column medians of that overscan, after replacing high
   outliers, anchored at the centre of the bias section.

ERR and DQ are the same window without change (returned as read-only views,
not copies); no CALIBDEFECT flag is set and no overscan error is added.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reference_impl.geometry import OverscanLayout
from reference_impl.imset import Imset, readonly_view
from reference_impl.numerics import median_f64, row_blocks

__all__ = ["OverscanResult", "subtract_overscan_bias", "fit_line", "row_bias_levels"]


@dataclass(frozen=True)
class OverscanResult:
    """What BLEVCORR produced besides the trimmed imset.

    Attributes
    ----------
    imset : Imset
        Overscan-subtracted, trimmed SCI (float32, DN), ERR and DQ windows.
    meanblev_dn : float
        Mean of the bias levels subtracted (``MEANBLEV``), DN, double.
    trimmed : bool
        False when the frame was too small: CCDBIAS was subtracted with no trim.
    used_default_bias : bool
        True when no row had a level or the line fit was singular (CCDBIAS used).
    drift_corrected : bool
        True when a drift slope was fitted from the virtual overscan.
    n_rows_without_level : int
        Rows skipped because every bias-section pixel had an SDQFLAGS bit.
    left, bottom : int
        Columns and rows removed at the start of each axis (for LTV/CRPIX).
    """

    imset: Imset
    meanblev_dn: float
    trimmed: bool
    used_default_bias: bool
    drift_corrected: bool
    n_rows_without_level: int
    left: int
    bottom: int


def fit_line(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float] | None:
    """
    Unweighted least-squares line through (x, y), as blevfit.c/blevdrift.c compute it.

    Parameters
    ----------
    x, y : ndarray of float64
        Points in the order calstis accumulates them.

    Returns
    -------
    tuple of float or None
        ``(slope, intercept)``, or None when there is no point or the fit is
        singular (``d == 0``).

    Notes
    -----
    Sequential double sums n, Sx, Sy, Sxy, Sxx; ``d = Sxx - Sx*Sx/n``,
    ``slope = (Sxy - xmean*ymean*n)/d``, ``intercept = ymean - slope*xmean``.
    """
    n = float(len(x))
    if n < 1:
        return None
    sx = sy = sxy = sxx = 0.0
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        sx += xi
        sy += yi
        sxy += xi * yi
        sxx += xi * xi
    d = sxx - sx * sx / n
    if d == 0.0:
        return None
    xmean, ymean = sx / n, sy / n
    slope = (sxy - xmean * ymean * n) / d
    return slope, ymean - slope * xmean


def row_bias_levels(
    sci: NDArray[np.float32],
    dq: NDArray[np.int16],
    *,
    rows: range,
    bias_cols: tuple[int, int],
    sdqflags: int,
) -> tuple[list[int], list[float]]:
    """
    Median bias-section level of each row that has good pixels (findblev.c).

    Parameters
    ----------
    sci : ndarray of float32, shape (ny, nx)
        Raw SCI, DN.
    dq : ndarray of int16, shape (ny, nx)
        DQ after DQICORR (if it ran).
    rows : range
        Input rows to measure, in output-row order.
    bias_cols : tuple of int
        Inclusive zero-based bias-section columns.
    sdqflags : int
        Pixels with any of these bits are left out.

    Returns
    -------
    tuple of lists
        Output row indices that have a level, and the levels (DN, double).
    """
    c0, c1 = bias_cols
    section = sci[:, c0 : c1 + 1]
    good = (dq[:, c0 : c1 + 1] & np.int16(sdqflags)) == 0
    rows_in = np.asarray(rows, dtype=np.intp)
    medians = _medians_of_all_good(section[rows_in], good[rows_in], axis=1)
    out_rows, levels = [], []
    for j_out, j_in in enumerate(rows):
        if medians[j_out] is not None:
            out_rows.append(j_out)
            levels.append(medians[j_out])
            continue
        values = section[j_in][good[j_in]]
        if values.size:
            out_rows.append(j_out)
            levels.append(median_f64(values))
    return out_rows, levels


def _medians_of_all_good(values: NDArray, good: NDArray[np.bool_], *, axis: int) -> list:
    """`median_f64` along ``axis`` of every line whose pixels are all good, else None.

    One sort for all such lines (the same double values, the same order and
    middle elements as `median_f64` on each); the others are left to the caller.
    """
    n_lines = values.shape[1 - axis]
    out: list = [None] * n_lines
    if values.shape[axis] == 0:
        return out
    all_good = good.all(axis=axis)
    picked = np.flatnonzero(all_good)
    if not picked.size:
        return out
    lines = values[picked] if axis == 1 else values[:, picked].T
    ordered = np.sort(lines.astype(np.float64), axis=1)
    n = ordered.shape[1]
    half = n // 2
    middle = ordered[:, half] if n % 2 else (ordered[:, half - 1] + ordered[:, half]) / 2.0
    for k, m in zip(picked.tolist(), middle.tolist(), strict=True):
        out[k] = m
    return out


def _replace_virtual_outliers(
    sci: NDArray[np.float32], vx: tuple[int, int], vy: tuple[int, int], blev_clip: float
) -> NDArray[np.float32]:
    """Copy of SCI's virtual-overscan rows with their high outliers replaced (rejectHighValues).

    Returns rows ``vy[0]..vy[1]`` (inclusive) of SCI, every column: only they
    are read afterwards, and a copy of the whole frame would be 4 MB. Pixels
    of the virtual overscan above ``median + clip*sigma`` are visited in
    raster order and replaced, in place, by the float32 median of the 21
    pixels of their row around them, so later replacements see earlier ones.
    DQ is ignored.
    """
    work = sci[vy[0] : vy[1] + 1].copy()
    region = work[:, vx[0] : vx[1] + 1].astype(np.float64)
    median = median_f64(region)
    deviations = np.abs(region.ravel() - median)
    mad = median_f64(deviations)
    kept = deviations[deviations <= 4.5 * mad]
    sumsq = float(np.cumsum(kept * kept)[-1]) if kept.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(sumsq / float(kept.size)) if kept.size else np.nan
    threshold = median + float(np.float32(blev_clip)) * sigma
    candidates = np.argwhere(region > threshold)  # row-major: raster order
    for dj, di in candidates:
        j, i = int(dj), vx[0] + int(di)  # j: a row of ``work``
        if not work[j, i] > threshold:
            continue
        i0 = max(i - 10, vx[0])
        i1 = i0 + 20
        if i1 > vx[1]:
            i1 = vx[1]
            i0 = i1 - 20
        work[j, i] = np.float32(median_f64(work[j, i0 : i1 + 1]))
    return work


def _drift_slope(
    sci: NDArray[np.float32],
    dq: NDArray[np.int16],
    layout: OverscanLayout,
    *,
    sdqflags: int,
    blev_clip: float,
) -> float | None:
    """Slope of the virtual-overscan level against column (BlevDrift); None if unavailable."""
    vx, vy = layout.virtual_cols, layout.virtual_rows
    if vx[1] <= vx[0] or vy[1] <= vy[0]:
        return None
    work = _replace_virtual_outliers(sci, vx, vy, blev_clip)  # the virtual rows only
    mid = (vx[0] + vx[1]) // 2
    xs, ys = [], []
    rows = slice(vy[0], vy[1] + 1)
    cols = slice(vx[0], vx[1] + 1)
    good = (dq[rows] & np.int16(sdqflags)) == 0
    medians = _medians_of_all_good(work[:, cols], good[:, cols], axis=0)
    for k, i in enumerate(range(vx[0], vx[1] + 1)):
        level = medians[k]
        if level is None:
            values = work[:, i][good[:, i]]
            level = median_f64(values) if values.size else None
        if level is not None:
            xs.append(float(i - mid))
            ys.append(level)
    fit = fit_line(np.array(xs), np.array(ys))
    return None if fit is None else fit[0]


def _default_bias_untrimmed(science: Imset, ccdbias: float) -> OverscanResult:
    """A frame too small for its layout: CCDBIAS (DN) subtracted, no trim (spec §6.7)."""
    sci, err, dq = science
    out_sci = np.subtract(sci, ccdbias, dtype=np.float64).astype(np.float32)
    return OverscanResult(
        imset=Imset(out_sci, readonly_view(err), readonly_view(dq)),
        meanblev_dn=ccdbias,
        trimmed=False,
        used_default_bias=True,
        drift_corrected=False,
        n_rows_without_level=0,
        left=0,
        bottom=0,
    )


def _subtract_levels(sci_window, blev, drift) -> NDArray[np.float32]:
    """``f32(f64(SCI) - blev(j) - drift(i))`` on the trimmed window, DN.

    Two double subtractions, in that order, block by block into the float32 output.
    """
    ny_out, nx_out = sci_window.shape
    out_sci = np.empty((ny_out, nx_out), dtype=np.float32)
    for rows in row_blocks(ny_out):
        level = np.subtract(sci_window[rows], blev[rows, None], dtype=np.float64)
        np.subtract(level, drift[None, :], out=level)
        out_sci[rows] = level
    return out_sci


def _row_level_fit(sci, dq, layout: OverscanLayout, ny_out: int, *, sdqflags: int):
    """The line through the rows' bias-section levels against ``j - ny_out//2`` (spec §6.3).

    Returns ``(number of rows with a level, (slope, intercept) or None)``,
    None for no usable row or a singular fit.
    """
    rows = range(layout.bottom, layout.bottom + ny_out)
    out_rows, levels = row_bias_levels(
        sci, dq, rows=rows, bias_cols=layout.bias_cols, sdqflags=sdqflags
    )
    fit = fit_line(np.array(out_rows, dtype=np.float64) - ny_out // 2, np.array(levels))
    return len(out_rows), fit


def subtract_overscan_bias(
    science: Imset,
    *,
    layout: OverscanLayout,
    sdqflags: int,
    ccdbias_dn: float,
    blev_clip: float,
) -> OverscanResult:
    """
    Fit and subtract the overscan bias level, then trim the overscan.

    Parameters
    ----------
    science : Imset
        Raw imset (SCI float32 DN with overscan, ERR, DQ after DQICORR).
    layout : OverscanLayout
        From `reference_impl.geometry.find_overscan` for this frame.
    sdqflags : int
        ``SDQFLAGS`` of the SCI header; flagged pixels are left out of medians.
    ccdbias_dn : float
        CCDBIAS from the CCDTAB (float32), DN: the fallback level.
    blev_clip : float
        BLEV_CLIP from the CCDTAB (float32): outlier clip, in sigma, for the
        virtual overscan.

    Returns
    -------
    OverscanResult
        The trimmed imset and the bookkeeping calstis writes to headers.

    Notes
    -----
    ``out[j, i] = f32(f64(SCI[j + bottom, i + left]) - blev(j) - drift(i))``
    with ``blev(j) = (j - ny_out//2)*slope + intercept`` and
    ``drift(i) = drift_slope*(i - zerocol)``, ``zerocol`` the bias-section centre
    in output columns. ``MEANBLEV = sum_j(blev(j) + drift(nx_out//2)) / ny_out``.
    A frame too small for the layout gets CCDBIAS subtracted with no trim
    (spec §6.7); a frame whose rows have no usable level, or a singular fit,
    gets CCDBIAS on every row but is still trimmed (spec §6.3).
    """
    sci, err, dq = science
    ccdbias = float(np.float32(ccdbias_dn))
    if layout.too_small:
        return _default_bias_untrimmed(science, ccdbias)

    ny, nx = sci.shape
    ny_out, nx_out = layout.trimmed_shape(ny, nx)
    y_mid = ny_out // 2
    n_rows_with_level, fit = _row_level_fit(sci, dq, layout, ny_out, sdqflags=sdqflags)
    slope, intercept = (0.0, ccdbias) if fit is None else fit

    drift_slope = _drift_slope(sci, dq, layout, sdqflags=sdqflags, blev_clip=blev_clip)
    zerocol = (layout.bias_cols[0] + layout.bias_cols[1]) / 2.0 - layout.left
    drift_slope_value = 0.0 if drift_slope is None else drift_slope

    j_out = np.arange(ny_out, dtype=np.float64)
    i_out = np.arange(nx_out, dtype=np.float64)
    blev = (j_out - y_mid) * slope + intercept
    drift = (i_out - zerocol) * drift_slope_value
    window = (
        slice(layout.bottom, layout.bottom + ny_out),
        slice(layout.left, layout.left + nx_out),
    )
    out_sci = _subtract_levels(sci[window], blev, drift)
    average_drift = (nx_out // 2 - zerocol) * drift_slope_value
    sumbias = 0.0
    for level in blev.tolist():
        sumbias += level + average_drift
    return OverscanResult(
        imset=Imset(out_sci, readonly_view(err[window]), readonly_view(dq[window])),
        meanblev_dn=sumbias / ny_out,
        trimmed=True,
        used_default_bias=fit is None,
        drift_corrected=drift_slope is not None,
        n_rows_without_level=ny_out - n_rows_with_level,
        left=layout.left,
        bottom=layout.bottom,
    )
