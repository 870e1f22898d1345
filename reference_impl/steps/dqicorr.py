"""DQICORR: initialise the data-quality array (spec §4; hstcal ``cs1/dodqi.c``, ``flagfilter.c``).

Three operations, in calstis's order, each OR-ing into the existing DQ (raw
telemetry flags such as DATALOST are kept):

1. `flag_saturation` -- SATPIXEL where the raw DN exceed SATURATE;
2. `flag_beyond_aperture` -- DETECTORPROB outside the aperture's field of view;
3. `flag_from_bpixtab` -- the bad-pixel table rows, in reference coordinates.
"""

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reference_impl import dqflags
from reference_impl.imset import Imset, readonly_view
from reference_impl.numerics import nint
from reference_impl.types import BadPixelRun  # noqa: F401 (re-exported)

__all__ = [
    "BadPixelRun",
    "ApertureGeometry",
    "flag_bad_pixels",
    "flag_saturation",
    "flag_beyond_aperture",
    "flag_from_bpixtab",
    "parse_aper_fov",
]

CCD_NPIX = 1024
SHORT_SLIT_ARCSEC = 5.0
LONG_SLIT_ARCSEC = 45.0
APERTURE_BORDER_PIX = 10
_STRTOD = re.compile(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")


@dataclass(frozen=True)
class ApertureGeometry:
    """What FlagFilter needs to know about the aperture and the plate scale.

    Attributes
    ----------
    height_arcsec, width_arcsec : float
        Parsed from ``APER_FOV`` (``"<height>X<width>"``).
    cdelt_deg : tuple of float
        Degrees per unbinned pixel on x and y (from the CD matrix, spec §4.2).
    is_imaging : bool
        OBSTYPE is IMAGING: also flag columns left and right of the aperture.
    """

    height_arcsec: float
    width_arcsec: float
    cdelt_deg: tuple[float, float]
    is_imaging: bool


def parse_aper_fov(aper_fov: str) -> tuple[float, float]:
    """Parse ``APER_FOV`` as C ``strtod`` does in flagfilter.c: ``(height, width)`` arcsec.

    A number that cannot be read gives 0.0 (calstis then flags nothing).

    Examples
    --------
    >>> parse_aper_fov("28X50")
    (28.0, 50.0)
    """

    def strtod(s: str) -> tuple[float, int]:
        m = _STRTOD.match(s)
        if not m:
            return 0.0, 0
        return float(m.group(0)), m.end()

    height, end = strtod(aper_fov)
    if height == 0.0:
        return 0.0, 0.0
    width, _ = strtod(aper_fov[end + 1 :])  # skip the one separator character
    return height, width


def flag_saturation(
    sci: NDArray[np.float32], dq: NDArray[np.int16], *, saturate_dn: float
) -> NDArray[np.int16]:
    """
    OR SATPIXEL into DQ where ``trunc(SCI) > SATURATE``.

    Parameters
    ----------
    sci : ndarray of float32, shape (ny, nx)
        Raw SCI in DN, before any subtraction, overscan included.
    dq : ndarray of int16, shape (ny, nx)
        Existing DQ.
    saturate_dn : float
        SATURATE from the CCDTAB row (float32), DN.

    Returns
    -------
    ndarray of int16
        New DQ array.

    Notes
    -----
    The C code converts SCI to int by truncation and compares it, strictly,
    with the float32 threshold (``dodqi.c``).
    """
    threshold = np.float32(saturate_dn)
    if 0 <= threshold < 2**24:
        # trunc(x) > s for s >= 0 is x >= floor(s) + 1, an exact float32 here
        # (NaN and -inf fail both tests, +inf passes both): one pass, no trunc.
        saturated = sci >= np.float32(np.floor(threshold) + 1)
    else:
        # trunc and the comparison are exact in float32: the same as int against float.
        saturated = np.trunc(sci) > threshold
    flags = np.multiply(saturated, np.int16(dqflags.SATPIXEL), dtype=np.int16)
    return np.bitwise_or(dq, flags, out=flags)


def flag_beyond_aperture(
    dq: NDArray[np.int16],
    *,
    aperture: ApertureGeometry,
    ltm: tuple[float, float],
    ltv0: tuple[float, float],
    overwrite: bool = False,
) -> NDArray[np.int16]:
    """
    OR DETECTORPROB into DQ outside the aperture's field of view (FlagFilter).

    Parameters
    ----------
    dq : ndarray of int16, shape (ny, nx)
        Existing DQ.
    aperture : ApertureGeometry
        Aperture size in arcsec, plate scale, imaging or spectroscopy.
    ltm : tuple of float
        ``(LTM1_1, LTM2_2)``.
    ltv0 : tuple of float
        Zero-indexed offsets ``LTV + LTM - 1`` on x and y (getlt0.c).
    overwrite : bool
        Flag ``dq`` itself (an array the caller owns) instead of a copy.

    Returns
    -------
    ndarray of int16
        New DQ array (``dq`` itself with ``overwrite``); unchanged when the
        aperture height is outside 5-45 arcsec, when APER_FOV cannot be read,
        or when the image lies outside the aperture.

    Notes
    -----
    The aperture box is centred on reference pixel (512, 512) with a
    10-pixel margin. Whole illuminated rows below and above it are flagged;
    for imaging also the illuminated columns left and right of it, within its
    rows. Overscan is never flagged (spec §4.2).
    """
    out = dq if overwrite else dq.copy()
    ny, nx = dq.shape
    height, width = aperture.height_arcsec, aperture.width_arcsec
    if height == 0.0 or width == 0.0:
        return out
    if height < SHORT_SLIT_ARCSEC or height > LONG_SLIT_ARCSEC:
        return out
    m0, m1 = ltm
    v0, v1 = ltv0
    det_xlow, det_xhigh = nint(v0), nint((CCD_NPIX - 1.0) * m0 + v0)
    det_ylow, det_yhigh = nint(v1), nint((CCD_NPIX - 1.0) * m1 + v1)
    center = CCD_NPIX / 2.0
    cdelt1 = abs(aperture.cdelt_deg[0] * m0) * 3600.0
    cdelt2 = abs(aperture.cdelt_deg[1] * m1) * 3600.0
    xlow = nint((center - width / cdelt1 / 2.0 - APERTURE_BORDER_PIX) * m0 + v0)
    xhigh = nint((center + width / cdelt1 / 2.0 + APERTURE_BORDER_PIX) * m0 + v0)
    ylow = nint((center - height / cdelt2 / 2.0 - APERTURE_BORDER_PIX) * m1 + v1)
    yhigh = nint((center + height / cdelt2 / 2.0 + APERTURE_BORDER_PIX) * m1 + v1)
    if aperture.is_imaging and (xlow > nx - 1 or xhigh < 0):
        return out
    if ylow > ny - 1 or yhigh < 0:
        return out
    det_xlow, det_xhigh = max(det_xlow, 0), min(det_xhigh, nx - 1)
    det_ylow, det_yhigh = max(det_ylow, 0), min(det_yhigh, ny - 1)
    xlow, xhigh = max(xlow, 0), min(xhigh, nx - 1)
    ylow, yhigh = max(ylow, 0), min(yhigh, ny - 1)

    flag = np.int16(dqflags.DETECTORPROB)
    cols = slice(det_xlow, det_xhigh + 1) if det_xhigh >= det_xlow else slice(0, 0)
    if ylow > det_ylow:
        out[det_ylow:ylow, cols] |= flag
    if aperture.is_imaging and yhigh >= ylow:
        if xlow > det_xlow:
            out[ylow : yhigh + 1, det_xlow:xlow] |= flag
        if det_xhigh > xhigh:
            out[ylow : yhigh + 1, xhigh + 1 : det_xhigh + 1] |= flag
    if det_yhigh > yhigh:
        out[yhigh + 1 : det_yhigh + 1, cols] |= flag
    return out


def _paint_run(target: NDArray[np.int16], run: BadPixelRun, xstart: int, ystart: int) -> None:
    """OR one run into ``target`` in place, clipped to its bounds (DQINormal)."""
    ny, nx = target.shape
    if run.axis == 1:
        xlow, xhigh = xstart, xstart + run.length - 1
        if xhigh < 0 or xlow >= nx or ystart < 0 or ystart >= ny:
            return
        target[ystart, max(xlow, 0) : min(xhigh, nx - 1) + 1] |= np.int16(run.value)
    else:
        ylow, yhigh = ystart, ystart + run.length - 1
        if xstart < 0 or xstart >= nx or yhigh < 0 or ylow >= ny:
            return
        target[max(ylow, 0) : min(yhigh, ny - 1) + 1, xstart] |= np.int16(run.value)


def _first_last(ltm: float, ltv0: float, n_scratch: int, n_image: int) -> tuple[int, int, int]:
    """Overlap of the image with the reference-pixel scratch array on one axis (FirstLast)."""
    tolerance = 0.001
    first = sfirst = None
    for i in range(n_image):
        scr = (i - 0.5 - ltv0) / ltm
        if scr + tolerance >= -0.5:
            first, sfirst = i, nint(scr + 0.5)
            break
    last = None
    for i in range(n_image - 1, 0, -1):
        scr = (i + 0.5 - ltv0) / ltm
        if scr - tolerance <= n_scratch - 1.0 + 0.5:
            last = i
            break
    if first is None or last is None:
        return 0, -1, 0
    return first, last, sfirst


def flag_from_bpixtab(
    dq: NDArray[np.int16],
    *,
    runs: list[BadPixelRun],
    table_shape: tuple[int, int],
    ltm: tuple[float, float],
    ltv0: tuple[float, float],
    overwrite: bool = False,
) -> NDArray[np.int16]:
    """
    OR the bad-pixel-table runs into DQ.

    Parameters
    ----------
    dq : ndarray of int16, shape (ny, nx)
        Existing DQ.
    runs : list of BadPixelRun
        Rows already selected by OPT_ELEM, in table order.
    table_shape : tuple of int
        ``(SIZAXIS2, SIZAXIS1)`` of the table: the reference-pixel frame.
    ltm : tuple of float
        ``(LTM1_1, LTM2_2)``.
    ltv0 : tuple of float
        Zero-indexed offsets ``LTV + LTM - 1``.
    overwrite : bool
        Flag ``dq`` itself (an array the caller owns) instead of a copy.

    Returns
    -------
    ndarray of int16
        New DQ array (``dq`` itself with ``overwrite``).

    Notes
    -----
    Unbinned data receive the runs directly at ``trunc(start + ltv0)``.
    Binned data: the runs are painted into a zero scratch array of the table's
    size, which is OR-reduced in whole blocks onto the image pixels that lie
    entirely inside it, so overscan and mixed pixels get nothing (``dodqi.c``,
    FirstLast). Rows starting outside the table size are skipped with a
    warning by calstis; the caller drops them.
    """
    out = dq if overwrite else dq.copy()
    snpy, snpx = table_shape
    bin_x, bin_y = nint(1.0 / ltm[0]), nint(1.0 / ltm[1])
    if bin_x == 1 and bin_y == 1:
        for run in runs:
            # C assigns double to int: truncation toward zero.
            _paint_run(out, run, int(run.x0 + ltv0[0]), int(run.y0 + ltv0[1]))
        return out

    scratch = np.zeros((snpy, snpx), dtype=np.int16)
    for run in runs:
        _paint_run(scratch, run, run.x0, run.y0)
    ny, nx = dq.shape
    fx, lx, sx = _first_last(ltm[0], ltv0[0], snpx, nx)
    fy, ly, sy = _first_last(ltm[1], ltv0[1], snpy, ny)
    if lx < fx or ly < fy:
        return out
    n_out_x, n_out_y = lx - fx + 1, ly - fy + 1
    # Pad so that blocks reaching past the scratch edge read zeros.
    pad_y = max(0, sy + n_out_y * bin_y - snpy)
    pad_x = max(0, sx + n_out_x * bin_x - snpx)
    padded = np.pad(scratch, ((0, pad_y), (0, pad_x)))
    window = padded[sy : sy + n_out_y * bin_y, sx : sx + n_out_x * bin_x]
    blocks = window.reshape(n_out_y, bin_y, n_out_x, bin_x)
    reduced = np.bitwise_or.reduce(np.bitwise_or.reduce(blocks, axis=3), axis=1)
    out[fy : ly + 1, fx : lx + 1] |= reduced.astype(np.int16)
    return out


def flag_bad_pixels(
    science: Imset,
    *,
    saturate_dn: float,
    aperture: ApertureGeometry | None,
    runs: list[BadPixelRun] | None,
    table_shape: tuple[int, int] | None,
    ltm: tuple[float, float],
    ltv0: tuple[float, float],
) -> Imset:
    """
    Apply DQICORR to one raw imset: saturation, aperture edges, bad-pixel table.

    Parameters
    ----------
    science : Imset
        Raw imset: SCI in DN (float32, overscan included), ERR, DQ int16.
    saturate_dn : float
        SATURATE from the CCDTAB, DN.
    aperture : ApertureGeometry or None
        None when FlagFilter is skipped (TARGNAME BIAS or DARK).
    runs : list of BadPixelRun or None
        Selected BPIXTAB rows; None when there is no table or it is DUMMY.
    table_shape : tuple of int or None
        ``(SIZAXIS2, SIZAXIS1)`` of the BPIXTAB.
    ltm, ltv0 : tuple of float
        ``(LTM1_1, LTM2_2)`` and zero-indexed ``LTV + LTM - 1``.

    Returns
    -------
    Imset
        SCI and ERR unchanged (read-only views), new DQ.
    """
    dq = flag_saturation(science.sci, science.dq, saturate_dn=saturate_dn)  # a new array
    # The later flags go into that new array: ours to change.
    if aperture is not None:
        dq = flag_beyond_aperture(dq, aperture=aperture, ltm=ltm, ltv0=ltv0, overwrite=True)
    if runs is not None and table_shape is not None:
        dq = flag_from_bpixtab(
            dq, runs=runs, table_shape=table_shape, ltm=ltm, ltv0=ltv0, overwrite=True
        )
    return Imset(readonly_view(science.sci), readonly_view(science.err), dq)
