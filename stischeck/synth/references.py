"""The detector's defects and the reference data calstis needs, built from one model.

One `DetectorModel` holds the truth (dark current, response, bias pattern,
defects) on the reference rows a data set needs; the science data are drawn
from it and the reference files are noisy measurements of it, as a real
calibration pipeline would have made them:

* BIASFILE: the 2-D bias pattern, binned like the science data (spec §7, §8);
* DARKFILE: dark rate in electrons/s, unbinned, DQ HOTPIX where hot (§9);
* PFLTFILE, DFLTFILE: unbinned pixel-to-pixel and delta flats; LFLTFILE: a
  4 x 4 binned low-order flat (§10);
* BPIXTAB rows in reference pixels (§4.3), CCDTAB rows for every amp, gain and
  binning (§2), CRREJTAB rows per CRSPLIT and MEANEXP (§12.2).
"""

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from stischeck.synth.detector import amp_constants
from stischeck.synth.geometry import CCD_NPIX, ReadoutGeometry

__all__ = [
    "BpixRow",
    "DetectorModel",
    "HOT_THRESHOLD_E_PER_S",
    "bias_reference",
    "ccdtab_rows",
    "crrejtab_rows",
    "dark_reference",
    "expand_low_order",
    "make_detector",
    "reference_band",
]

#: Dark rate above which the dark reference flags a pixel HOTPIX, electrons/s.
HOT_THRESHOLD_E_PER_S = 0.08
#: Effective exposure of the superdark (sets its noise), seconds.
_SUPERDARK_S = 80_000.0
#: Frames combined into the superbias.
SUPERBIAS_NCOMBINE = 60
#: DQ values (stisdq.h).
_DETECTORPROB, _HOTPIX, _LARGEBLEM, _CALIBDEFECT, _SMALLBLEM = 4, 16, 32, 512, 1024


@dataclass(frozen=True)
class BpixRow:
    """One BPIXTAB row: a run of ``length`` reference pixels from ``(pix1, pix2)`` (1-based)."""

    opt_elem: str
    pix1: int
    pix2: int
    length: int
    axis: int
    value: int


@dataclass
class DetectorModel:
    """
    The truth about the detector on reference rows ``band``.

    Attributes
    ----------
    band : tuple of int
        Reference rows ``[b0, b1)`` covered by every array here and by the reference images.
    dark_true : ndarray of float64, shape (b1 - b0, 1024)
        Dark current at the dark's REF_TEMP, electrons/s per unbinned pixel.
    dark_new : ndarray of bool, shape (b1 - b0, 1024)
        Hot pixels the dark reference does not know (they appeared after it was made).
    pflt, dflt : ndarray of float64, shape (b1 - b0, 1024)
        True pixel-to-pixel and delta flat responses.
    lflt : ndarray of float64, shape ((b1 - b0) // 4, 256)
        True low-order response, 4 x 4 binned.
    response_defects : ndarray of float64, shape (b1 - b0, 1024)
        Extra response factor of bad columns, dead pixels and blemishes (not in the flats).
    flat_bad : ndarray of bool, shape (b1 - b0, 1024)
        Pixel-to-pixel flat pixels whose value is unreliable (DQ CALIBDEFECT).
    flat_zero : ndarray of bool, shape (b1 - b0, 1024)
        Pixel-to-pixel flat pixels written as exactly 0.
    bpix_rows : list of BpixRow
    """

    band: tuple[int, int]
    dark_true: NDArray[np.float64]
    dark_new: NDArray[np.bool_]
    pflt: NDArray[np.float64]
    dflt: NDArray[np.float64]
    lflt: NDArray[np.float64]
    response_defects: NDArray[np.float64]
    flat_bad: NDArray[np.bool_]
    flat_zero: NDArray[np.bool_]
    bpix_rows: list = field(default_factory=list)

    @property
    def response(self) -> NDArray[np.float64]:
        """Total response of each unbinned pixel: flats times defects."""
        return self.pflt * self.dflt * expand_low_order(self.lflt) * self.response_defects


def reference_band(geometry: ReadoutGeometry, *, margin: int = 16) -> tuple[int, int]:
    """
    Reference rows ``[b0, b1)`` that the reference images cover.

    All 1024 rows for full frames; for a subarray a band around its rows,
    ``margin`` rows wider on each side and aligned to 4 rows so that the
    4 x 4 low-order flat tiles it.
    """
    if geometry.mode != "subarray":
        return (0, CCD_NPIX)
    v0, v1 = geometry.rows
    b0 = max(0, (v0 - margin) // 4 * 4)
    b1 = min(CCD_NPIX, -(-(v1 + margin) // 4) * 4)
    return (b0, b1)


def expand_low_order(lflt: NDArray, factor: int = 4) -> NDArray[np.float64]:
    """Bilinear expansion of a binned flat by ``factor``, extrapolating at the edges."""
    ny, nx = lflt.shape

    def weights(n_in: int):
        pos = (np.arange(n_in * factor) - (factor - 1) / 2.0) / factor
        i = np.clip(np.floor(pos).astype(int), 0, n_in - 2)
        return i, pos - i

    iy, qy = weights(ny)
    ix, qx = weights(nx)
    a = lflt[iy][:, ix]
    b = lflt[iy][:, ix + 1]
    c = lflt[iy + 1][:, ix]
    d = lflt[iy + 1][:, ix + 1]
    qx, qy = qx[None, :], qy[:, None]
    return (1 - qy) * ((1 - qx) * a + qx * b) + qy * ((1 - qx) * c + qx * d)


def _points(rng, n: int, margin: int = 0) -> tuple[NDArray, NDArray]:
    return (
        rng.integers(margin, CCD_NPIX - margin, n),
        rng.integers(margin, CCD_NPIX - margin, n),
    )


def make_detector(p, rng: np.random.Generator, band: tuple[int, int]) -> DetectorModel:
    """
    Draw the detector's truth for parameters ``p`` (a `SynthParams`) on rows ``band``.

    Defects are drawn over the whole 1024 x 1024 detector and cut to the band,
    so a subarray sees the share of them that falls on its rows.
    """
    b0, b1 = band
    nb = b1 - b0
    inband = lambda v: (v >= b0) & (v < b1)  # noqa: E731 - a short local predicate

    dark = np.full((nb, CCD_NPIX), p.dark_e_per_s) * rng.normal(1.0, 0.08, (nb, CCD_NPIX))
    dark = np.clip(dark, 0.2 * p.dark_e_per_s, None)
    for _ in range(p.n_hot_columns):
        u = int(rng.integers(0, CCD_NPIX))
        dark[:, u] += rng.uniform(0.01, 0.05)
    u, v = _points(rng, p.n_hot_pixels)
    rates = np.exp(rng.uniform(np.log(0.1), np.log(8.0), p.n_hot_pixels))
    keep = inband(v)
    dark[v[keep] - b0, u[keep]] += rates[keep]
    dark_new = np.zeros((nb, CCD_NPIX), bool)
    u, v = _points(rng, p.n_new_hot_pixels)
    rates = np.exp(rng.uniform(np.log(0.2), np.log(5.0), p.n_new_hot_pixels))
    keep = inband(v)
    dark_new[v[keep] - b0, u[keep]] = True
    dark_new_rate = np.zeros_like(dark)
    dark_new_rate[v[keep] - b0, u[keep]] = rates[keep]

    pflt = 1.0 + rng.normal(0.0, p.flat_rms, (nb, CCD_NPIX))
    yy, xx = np.mgrid[b0:b1, 0:CCD_NPIX]
    for _ in range(p.n_dust_motes):
        xc, yc = rng.uniform(40, CCD_NPIX - 40, 2)
        radius, width = rng.uniform(12.0, 35.0), rng.uniform(2.0, 4.0)
        depth = rng.uniform(0.03, 0.12)
        r = np.hypot(xx - xc, yy - yc)
        pflt *= 1.0 - depth * np.exp(-0.5 * ((r - radius) / width) ** 2)
    flat_bad = np.zeros((nb, CCD_NPIX), bool)
    u, v = _points(rng, max(1, p.n_bad_pixels // 4))
    keep = inband(v)
    flat_bad[v[keep] - b0, u[keep]] = True
    pflt[flat_bad] *= rng.uniform(0.2, 0.6, int(flat_bad.sum()))
    flat_zero = np.zeros((nb, CCD_NPIX), bool)
    u, v = _points(rng, p.n_flat_zero)
    keep = inband(v)
    flat_zero[v[keep] - b0, u[keep]] = True

    col = rng.normal(0.0, 0.0015, CCD_NPIX)
    dflt = 1.0 + col[None, :] + rng.normal(0.0, 0.0015, (nb, CCD_NPIX))
    gy, gx = np.mgrid[b0 // 4 : b1 // 4, 0:256] / 256.0
    c = rng.normal(0.0, 0.012, 6)
    lflt = 1.0 + c[0] * (gx - 0.5) + c[1] * (gy - 0.5) + c[2] * (gx - 0.5) ** 2
    lflt = lflt + c[3] * (gy - 0.5) ** 2 + c[4] * (gx - 0.5) * (gy - 0.5)
    lflt = lflt + 0.5 * abs(c[5]) * np.cos(2 * np.pi * (gx + gy))

    defects = np.ones((nb, CCD_NPIX))
    rows: list[BpixRow] = []
    for _ in range(p.n_bad_columns):
        u0 = int(rng.integers(2, CCD_NPIX - 2))
        start = int(rng.integers(0, CCD_NPIX // 2)) if rng.uniform() < 0.5 else 0
        length = CCD_NPIX - start if start == 0 else int(rng.integers(50, CCD_NPIX - start + 1))
        rows.append(BpixRow("ANY", u0 + 1, start + 1, length, 2, _DETECTORPROB))
        v_idx = np.arange(start, start + length)
        keep_v = v_idx[inband(v_idx)]
        defects[keep_v - b0, u0] *= rng.uniform(0.2, 0.7)
    u0, v0 = int(rng.integers(0, CCD_NPIX - 120)), int(rng.integers(0, CCD_NPIX))
    rows.append(BpixRow("ANY", u0 + 1, v0 + 1, 97, 1, _DETECTORPROB))
    if inband(np.array([v0]))[0]:
        defects[v0 - b0, u0 : u0 + 97] *= 0.5
    u, v = _points(rng, p.n_bad_pixels)
    for k in range(p.n_bad_pixels):
        hot = k % 3 == 2
        rows.append(BpixRow("ANY", int(u[k]) + 1, int(v[k]) + 1, 1, 1, _HOTPIX if hot else 4))
        if inband(v[k : k + 1])[0]:
            if hot:
                dark[v[k] - b0, u[k]] += 1.5
            else:
                defects[v[k] - b0, u[k]] *= 0.05
    for _ in range(p.n_blemishes):
        u0, v0 = int(rng.integers(0, CCD_NPIX - 6)), int(rng.integers(0, CCD_NPIX - 3))
        value = _SMALLBLEM if rng.uniform() < 0.75 else _LARGEBLEM
        for dv in range(2):
            rows.append(BpixRow("ANY", u0 + 1, v0 + dv + 1, 4, 1, value))
            if b0 <= v0 + dv < b1:
                defects[v0 + dv - b0, u0 : u0 + 4] *= 0.85
    for _ in range(3):  # rows for another grating, which calstis must ignore
        u0 = int(rng.integers(0, CCD_NPIX))
        rows.append(BpixRow("G750M", u0 + 1, 1, CCD_NPIX, 2, _DETECTORPROB))
    return DetectorModel(
        band=band,
        dark_true=dark + dark_new_rate,
        dark_new=dark_new,
        pflt=pflt,
        dflt=dflt,
        lflt=lflt,
        response_defects=defects,
        flat_bad=flat_bad,
        flat_zero=flat_zero,
        bpix_rows=rows,
    )


def dark_reference(model: DetectorModel, rng: np.random.Generator) -> tuple:
    """
    The superdark: the known dark rate measured over `_SUPERDARK_S` seconds.

    Returns
    -------
    (sci, err, dq)
        float32 electrons/s, float32 electrons/s, int16 HOTPIX where the rate is hot.
    """
    known = np.where(model.dark_new, np.median(model.dark_true), model.dark_true)
    err = np.sqrt(np.clip(known, 1e-4, None) * _SUPERDARK_S) / _SUPERDARK_S
    sci = np.clip(known + rng.normal(0.0, 1.0, known.shape) * err, 0.0, None)
    dq = np.where(sci > HOT_THRESHOLD_E_PER_S, _HOTPIX, 0).astype(np.int16)
    return sci.astype(np.float32), err.astype(np.float32), dq


def flat_references(model: DetectorModel, rng: np.random.Generator) -> dict:
    """
    The three flats as measured: ``{"PFLTFILE": (sci, err, dq), "DFLTFILE": ..., "LFLTFILE": ...}``.

    float32 SCI and ERR (unitless), int16 DQ; the pixel-to-pixel flat carries
    CALIBDEFECT on its unreliable pixels and exact zeros where asked.
    """
    out = {}
    perr = np.full(model.pflt.shape, 0.004)
    psci = model.pflt + rng.normal(0.0, 1.0, model.pflt.shape) * perr
    psci[model.flat_zero] = 0.0
    pdq = np.where(model.flat_bad | model.flat_zero, _CALIBDEFECT, 0).astype(np.int16)
    out["PFLTFILE"] = (psci.astype(np.float32), perr.astype(np.float32), pdq)
    derr = np.full(model.dflt.shape, 0.001)
    dsci = model.dflt + rng.normal(0.0, 1.0, model.dflt.shape) * derr
    out["DFLTFILE"] = (dsci.astype(np.float32), derr.astype(np.float32), np.zeros_like(pdq))
    lerr = np.full(model.lflt.shape, 0.0005)
    lsci = model.lflt + rng.normal(0.0, 1.0, model.lflt.shape) * lerr
    out["LFLTFILE"] = (
        lsci.astype(np.float32),
        lerr.astype(np.float32),
        np.zeros(model.lflt.shape, np.int16),
    )
    return out


def bias_reference(
    pattern: NDArray, *, noise_dn: float, n_defects: int, rng: np.random.Generator
) -> tuple:
    """
    The superbias: the 2-D bias pattern measured from `SUPERBIAS_NCOMBINE` frames.

    Parameters
    ----------
    pattern : ndarray of float, shape (ny, nx)
        True pattern on the superbias grid, DN.
    noise_dn : float
        Read noise of one frame, DN.
    n_defects : int
        Pixels whose bias is poorly determined (DQ CALIBDEFECT, offset value).
    rng : numpy.random.Generator

    Returns
    -------
    (sci, err, dq)
        float32 DN, float32 DN, int16.
    """
    sigma = noise_dn / np.sqrt(SUPERBIAS_NCOMBINE)
    sci = pattern + rng.normal(0.0, sigma, pattern.shape)
    err = np.full(pattern.shape, sigma)
    dq = np.zeros(pattern.shape, np.int16)
    ys = rng.integers(0, pattern.shape[0], n_defects)
    xs = rng.integers(0, pattern.shape[1], n_defects)
    dq[ys, xs] = _CALIBDEFECT
    sci[ys, xs] += rng.uniform(3.0, 8.0, n_defects)
    return sci.astype(np.float32), err.astype(np.float32), dq


def ccdtab_rows() -> list[dict]:
    """CCDTAB rows for amps A-D, gains 1, 2, 4, 8, binning 1/2/4 on each axis (CCDOFFST 3)."""
    rows = []
    for amp in "ABCD":
        for gain in (1, 2, 4, 8):
            for bx in (1, 2, 4):
                for by in (1, 2, 4):
                    c = amp_constants(amp, gain, (bx, by))
                    rows.append(
                        {
                            "CCDAMP": amp,
                            "CCDGAIN": gain,
                            "CCDOFFST": 3,
                            "BINAXIS1": bx,
                            "BINAXIS2": by,
                            "ATODGAIN": c.atodgain,
                            "CCDBIAS": c.ccdbias_dn,
                            "READNSE": c.readnoise_e,
                            "SATURATE": c.saturate_dn,
                            "BLEV_CLIP": 5.0,
                            "PEDIGREE": "MODEL",
                            "DESCRIP": f"synthetic amp {amp} gain {gain} bin {bx}x{by}",
                        }
                    )
    return rows


#: CRREJTAB parameters per MEANEXP row: short exposures start from the minimum,
#: long ones exclude saturated pixels (BADINPDQ 256) and allow more multiplicative noise.
CRREJ_ROWS = (
    dict(MEANEXP=60.0, SCALENSE=0.0, INITGUES="minimum", CRSIGMAS="5,4", CRRADIUS=1.5,
         CRTHRESH=0.8, BADINPDQ=0),
    dict(MEANEXP=600.0, SCALENSE=5.0, INITGUES="median", CRSIGMAS="6,5,4", CRRADIUS=1.5,
         CRTHRESH=0.8, BADINPDQ=0),
    dict(MEANEXP=1.0e10, SCALENSE=10.0, INITGUES="median", CRSIGMAS="5,4", CRRADIUS=1.0,
         CRTHRESH=0.5, BADINPDQ=256),
)  # fmt: skip


def crrejtab_rows(skysub: str) -> list[dict]:
    """CRREJTAB rows for CRSPLIT 1-8, three MEANEXP ranges each (spec §12.2)."""
    rows = []
    for crsplit in range(1, 9):
        for row in CRREJ_ROWS:
            rows.append({"CRSPLIT": crsplit, "SKYSUB": skysub, "CRMASK": 1, **row})
    return rows
