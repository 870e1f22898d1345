"""Where each raw pixel of a STIS CCD readout lies on the detector.

The CCD has 1024 x 1024 illuminated pixels ("reference coordinates", numpy
``[v, u]``, zero-based). A readout adds serial overscan columns (19 leading,
the rest trailing) and, for full frames, virtual overscan rows after the last
row. Amplifiers B and D read the serial register from the other end, C and D
the parallel direction from the other end; raw images are always stored in
the same orientation on the sky, so for B/D the leading overscan is on the
right and for C/D the virtual rows are at the bottom. On-chip binning sums
``bin`` unbinned pixels per axis; a binned column can straddle overscan and
illuminated pixels (the "mixed" pixel calstis trims).

The layout follows the STIS Instrument Handbook and matches the hard-coded
regions calstis uses (spec §6.1, hstcal ``pkg/stis/lib/cs1/findover.c``):
the unit tests check the trims derived here against that table.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ReadoutGeometry", "readout_geometry", "bin_to_raw", "raw_shape"]

CCD_NPIX = 1024
LEADING_SERIAL = 19  # unbinned leading serial overscan columns
SUBARRAY_LEADING = 18  # a 1060-wide subarray loses one overscan column on each side
VIRTUAL_ROWS_FULL = 20
#: Raw NAXIS1 / NAXIS2 of binned full-frame readouts, per bin factor.
BINNED_NX = {1: 1054, 2: 532, 4: 271}
BINNED_NY = {1: 1034, 2: 522, 4: 266}


@dataclass(frozen=True)
class ReadoutGeometry:
    """
    The layout of one raw readout.

    Attributes
    ----------
    amp : str
        Amplifier A-D.
    bin_x, bin_y : int
        Unbinned pixels per raw pixel along x (serial) and y (parallel).
    nx, ny : int
        Raw ``NAXIS1``, ``NAXIS2``.
    rows : tuple of int
        Reference rows ``[v0, v1)`` the readout covers (the whole detector for full frames).
    umap : ndarray of int, shape (nx, bin_x)
        Reference column of each unbinned pixel summed into raw column ``c``; -1 for overscan.
    vmap : ndarray of int, shape (ny, bin_y)
        Reference row (minus ``rows[0]``) of each unbinned pixel in raw row ``r``; -1 for overscan.
    ltv, ltm : tuple of float
        ``(LTV1, LTV2)`` and ``(LTM1_1, LTM2_2)``: image = LTM * reference + LTV (1-based).
    trim : tuple of int
        ``(left, right, bottom, top)``: raw columns/rows that are not fully illuminated.
    mode : str
        ``full``, ``binned`` or ``subarray`` (calstis's readout modes).
    """

    amp: str
    bin_x: int
    bin_y: int
    nx: int
    ny: int
    rows: tuple[int, int]
    umap: NDArray[np.int64]
    vmap: NDArray[np.int64]
    ltv: tuple[float, float]
    ltm: tuple[float, float]
    trim: tuple[int, int, int, int]
    mode: str

    @property
    def trimmed_shape(self) -> tuple[int, int]:
        """``(ny, nx)`` after calstis's BLEVCORR trim."""
        left, right, bottom, top = self.trim
        return (self.ny - bottom - top, self.nx - left - right)

    @property
    def trimmed_ltv(self) -> tuple[float, float]:
        """``(LTV1, LTV2)`` of the trimmed image."""
        left, _, bottom, _ = self.trim
        return (self.ltv[0] - left, self.ltv[1] - bottom)

    @property
    def bias_section(self) -> tuple[int, int]:
        """Zero-based, inclusive raw columns calstis takes the bias level from (spec §6.1)."""
        if self.mode == "full":
            a = (1046, 1060)
        elif self.mode == "subarray":
            a = (1046, 1059)
        else:
            a = {1: (1046, 1052), 2: (524, 530), 4: (263, 269)}[self.bin_x]
        if self.amp in "BD":
            return (self.nx - 1 - a[1], self.nx - 1 - a[0])
        return a

    @property
    def virtual_rows(self) -> tuple[int, int] | None:
        """Zero-based, inclusive raw rows of the virtual overscan; None for subarrays."""
        left, right, bottom, top = self.trim
        if self.mode == "subarray":
            return None
        if self.amp in "AB":
            return (self.ny - top, self.ny - 1)
        return (0, bottom - 1)

    def describe(self) -> dict:
        """Plain data for the manifest."""
        left, right, bottom, top = self.trim
        tny, tnx = self.trimmed_shape
        return {
            "mode": self.mode,
            "naxis1": self.nx,
            "naxis2": self.ny,
            "ltv1": self.ltv[0],
            "ltv2": self.ltv[1],
            "ltm1_1": self.ltm[0],
            "ltm2_2": self.ltm[1],
            "trim_left": left,
            "trim_right": right,
            "trim_bottom": bottom,
            "trim_top": top,
            "trimmed_naxis1": tnx,
            "trimmed_naxis2": tny,
            "trimmed_ltv1": self.trimmed_ltv[0],
            "trimmed_ltv2": self.trimmed_ltv[1],
            "bias_section_0indexed": list(self.bias_section),
            "virtual_rows_0indexed": list(self.virtual_rows or []),
            "detector_rows_0indexed": list(self.rows),
        }


def raw_shape(binning: tuple[int, int], subarray: tuple[int, int] | None) -> tuple[int, int]:
    """``(NAXIS2, NAXIS1)`` of a raw readout."""
    bx, by = binning
    if subarray is not None:
        return (subarray[1], CCD_NPIX + 2 * SUBARRAY_LEADING)
    if (bx, by) == (1, 1):
        return (CCD_NPIX + VIRTUAL_ROWS_FULL, CCD_NPIX + 2 * LEADING_SERIAL)
    return (BINNED_NY[by], BINNED_NX[bx])


def _axis_map(n_raw: int, b: int, lead: int, mirrored: bool, n_ill: int) -> NDArray[np.int64]:
    """Illuminated index of each unbinned pixel of each raw pixel on one axis (-1: overscan)."""
    c = np.arange(n_raw)
    from_readout = (n_raw - 1 - c) if mirrored else c
    x = from_readout[:, None] * b + np.arange(b)[None, :] - lead
    idx = (n_ill - 1 - x) if mirrored else x.copy()
    idx[(x < 0) | (x >= n_ill)] = -1
    return idx


def _ltv(idx: NDArray[np.int64], b: int, offset: int) -> float:
    """LTV on one axis from the first fully illuminated raw pixel (1-based FITS convention)."""
    full = np.flatnonzero((idx >= 0).all(axis=1))
    c = int(full[0])
    centre = float(idx[c].mean()) + offset  # zero-based reference coordinate
    return (c + 1) - (centre + 1) / b


def _trims(idx: NDArray[np.int64]) -> tuple[int, int]:
    full = np.flatnonzero((idx >= 0).all(axis=1))
    return int(full[0]), int(len(idx) - 1 - full[-1])


def readout_geometry(
    amp: str, binning: tuple[int, int], subarray: tuple[int, int] | None
) -> ReadoutGeometry:
    """
    The layout of a readout with amplifier ``amp``, ``binning`` and ``subarray``.

    Parameters
    ----------
    amp : str
        A, B, C or D.
    binning : tuple of int
        ``(bin_x, bin_y)``, each 1, 2 or 4; binned readouts must be full frame.
    subarray : tuple of int or None
        ``(first_row, n_rows)``, 1-based detector rows; None for full frame.

    Returns
    -------
    ReadoutGeometry

    Examples
    --------
    >>> g = readout_geometry("D", (4, 4), None)
    >>> (g.nx, g.ny, g.ltv, g.trim)
    (271, 266, (10.625, 10.375), (11, 5, 10, 0))
    """
    bx, by = binning
    ny, nx = raw_shape(binning, subarray)
    if subarray is not None:
        first, n = subarray
        rows = (first - 1, first - 1 + n)
        umap = _axis_map(nx, 1, SUBARRAY_LEADING, amp in "BD", CCD_NPIX)
        vmap = _axis_map(ny, 1, 0, False, n)
        mode = "subarray"
    else:
        rows = (0, CCD_NPIX)
        umap = _axis_map(nx, bx, LEADING_SERIAL, amp in "BD", CCD_NPIX)
        vmap = _axis_map(ny, by, 0, amp in "CD", CCD_NPIX)
        mode = "full" if (bx, by) == (1, 1) else "binned"
    ltv = (_ltv(umap, bx, 0), _ltv(vmap, by, rows[0]))
    left, right = _trims(umap)
    bottom, top = _trims(vmap)
    return ReadoutGeometry(
        amp=amp,
        bin_x=bx,
        bin_y=by,
        nx=nx,
        ny=ny,
        rows=rows,
        umap=umap,
        vmap=vmap,
        ltv=ltv,
        ltm=(1.0 / bx, 1.0 / by),
        trim=(left, right, bottom, top),
        mode=mode,
    )


def bin_to_raw(electrons: NDArray, geometry: ReadoutGeometry) -> NDArray[np.float64]:
    """
    Collect unbinned charge into the raw pixels of a readout (on-chip binning).

    Parameters
    ----------
    electrons : ndarray, shape (v1 - v0, 1024)
        Charge in electrons of the reference rows ``geometry.rows``.
    geometry : ReadoutGeometry

    Returns
    -------
    ndarray of float64, shape (ny, nx)
        Electrons per raw pixel; overscan pixels get none, mixed pixels their
        illuminated part.
    """
    v0, v1 = geometry.rows
    if electrons.shape != (v1 - v0, CCD_NPIX):
        raise ValueError(f"charge image has shape {electrons.shape}, expected {(v1 - v0, 1024)}")
    # Index -1 picks the appended zero row/column: overscan collects no charge.
    padded = np.zeros((electrons.shape[0] + 1, CCD_NPIX + 1))
    padded[:-1, :-1] = electrons
    cols = sum(padded[:, geometry.umap[:, k]] for k in range(geometry.bin_x))
    return sum(cols[geometry.vmap[:, k], :] for k in range(geometry.bin_y))
