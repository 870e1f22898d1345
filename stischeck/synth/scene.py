"""What falls on the detector: sky, stars, a spectral trace, the aperture's footprint.

Every function returns a count rate in **electrons per second per unbinned
pixel** on a window of reference rows ``[v0, v1)`` x 1024 columns (float64),
before the flat-field response and dark current are applied.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stischeck.synth.detector import FULL_WELL_E

__all__ = [
    "PLATE_SCALE_ARCSEC",
    "Source",
    "aperture_footprint",
    "imaging_scene",
    "pixel_gaussian",
    "render_sources",
    "spectral_scene",
]


def erf(x: NDArray) -> NDArray[np.float64]:
    """The error function, to 1.5e-7 (Abramowitz & Stegun 7.1.26); numpy only."""
    x = np.asarray(x, dtype=np.float64)
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


#: STIS CCD plate scale, arcsec per unbinned pixel.
PLATE_SCALE_ARCSEC = 0.05078
_CCD = 1024
#: PSF: a core and a halo Gaussian (sigma in pixels, flux fraction), a STIS-like 2-pixel FWHM.
_PSF = ((0.85, 0.88), (2.8, 0.12))


@dataclass(frozen=True)
class Source:
    """A point source: centre ``(x, y)`` in reference pixels (zero-based) and total e-/s."""

    x: float
    y: float
    rate: float


def pixel_gaussian(centre: float, sigma: float, first: int, n: int) -> NDArray[np.float64]:
    """Fraction of a 1-D Gaussian falling in each of the pixels ``first .. first + n - 1``."""
    edges = np.arange(first, first + n + 1) - 0.5
    c = erf((edges - centre) / (sigma * np.sqrt(2.0)))
    return 0.5 * np.diff(c)


def render_sources(
    sources: list[Source], rows: tuple[int, int], *, psf=_PSF, radius: int = 12
) -> NDArray[np.float64]:
    """
    Image of point sources on reference rows ``rows``, e-/s per unbinned pixel.

    Parameters
    ----------
    sources : list of Source
    rows : tuple of int
        ``[v0, v1)`` reference rows of the window.
    psf : sequence of (sigma_pix, fraction)
        Gaussian components of the PSF.
    radius : int
        Half-size of the stamp each source is drawn into, pixels (bright
        sources get a larger one so that their wings are not cut).

    Returns
    -------
    ndarray of float64, shape (v1 - v0, 1024)
    """
    v0, v1 = rows
    image = np.zeros((v1 - v0, _CCD))
    for s in sources:
        r = radius if s.rate < 5e4 else 3 * radius
        x0, y0 = int(np.floor(s.x)) - r, int(np.floor(s.y)) - r
        n = 2 * r + 1
        ys, xs = max(y0, v0), max(x0, 0)
        ye, xe = min(y0 + n, v1), min(x0 + n, _CCD)
        if ye <= ys or xe <= xs:
            continue
        stamp = np.zeros((ye - ys, xe - xs))
        for sigma, frac in psf:
            gy = pixel_gaussian(s.y, sigma, ys, ye - ys)
            gx = pixel_gaussian(s.x, sigma, xs, xe - xs)
            stamp += frac * np.outer(gy, gx)
        image[ys - v0 : ye - v0, xs:xe] += s.rate * stamp
    return image


def aperture_footprint(
    aper_fov: str, obstype: str, rows: tuple[int, int], *, edge_pix: float = 3.0
) -> NDArray[np.float64]:
    """
    Transmission of the aperture on the detector (1 inside, 0 outside, soft edges).

    The aperture is centred on reference pixel (512, 512) as calstis assumes
    (spec §4.2). For imaging, light reaches only the ``height x width``
    rectangle; for spectroscopy the dispersion spreads the slit along x, so only
    the slit height limits the rows.

    Parameters
    ----------
    aper_fov : str
        ``"<height>x<width>"`` in arcsec (``APER_FOV``).
    obstype : str
        ``IMAGING`` or ``SPECTROSCOPIC``.
    rows : tuple of int
        ``[v0, v1)`` reference rows.
    edge_pix : float
        Width of the soft edge, pixels.

    Returns
    -------
    ndarray of float64, shape (v1 - v0, 1024)
    """
    height, width = (float(t) for t in aper_fov.lower().split("x"))
    v0, v1 = rows
    y = np.arange(v0, v1) + 0.0
    x = np.arange(_CCD) + 0.0

    def window(coord, size_arcsec):
        half = size_arcsec / PLATE_SCALE_ARCSEC / 2.0
        d = np.abs(coord - (_CCD / 2.0 - 0.5)) - half
        return np.clip(0.5 - d / edge_pix, 0.0, 1.0)

    ty = window(y, height)
    tx = window(x, width) if obstype == "IMAGING" else np.ones(_CCD)
    return np.outer(ty, tx)


def _stars(rng, n: int, flux: tuple[float, float], footprint_rows: tuple[int, int]) -> list:
    lo, hi = flux
    xs = rng.uniform(5.0, _CCD - 5.0, n)
    ys = rng.uniform(5.0, _CCD - 5.0, n)
    rates = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    del footprint_rows
    return [Source(float(x), float(y), float(r)) for x, y, r in zip(xs, ys, rates, strict=True)]


def _saturating_rate(rng, t_imset_s: float) -> float:
    """A total rate whose peak pixel holds 2-20 full wells in one imset."""
    peak_fraction = 0.88 * pixel_gaussian(0.0, 0.85, 0, 1)[0] ** 2
    return float(rng.uniform(2.0, 20.0) * FULL_WELL_E / peak_fraction / t_imset_s)


def imaging_scene(
    rng: np.random.Generator,
    *,
    rows: tuple[int, int],
    read_rows: tuple[int, int],
    aper_fov: str,
    sky_e_per_s: float,
    n_stars: int,
    star_flux: tuple[float, float],
    n_saturated: int,
    t_imset_s: float,
) -> tuple[NDArray[np.float64], list[Source]]:
    """
    A star field through an imaging aperture.

    Parameters
    ----------
    rng : numpy.random.Generator
    rows : tuple of int
        Reference rows ``[v0, v1)`` to render.
    read_rows : tuple of int
        Reference rows the readout contains; saturated stars are placed there.
    aper_fov : str
        ``APER_FOV``, height x width in arcsec.
    sky_e_per_s : float
        Sky, e-/s per unbinned pixel.
    n_stars : int
        Stars over the whole detector.
    star_flux : tuple of float
        Range of total rates, e-/s (log-uniform).
    n_saturated : int
        Stars whose peak exceeds the full well in one imset.
    t_imset_s : float
        Exposure time of one imset, seconds (sets the saturated stars' rates).

    Returns
    -------
    (rate, sources)
        Rate in e-/s per unbinned pixel, shape (v1 - v0, 1024), float64, and the sources drawn.
    """
    sources = _stars(rng, n_stars, star_flux, rows)
    r0, r1 = read_rows
    height, width = (float(t) for t in aper_fov.lower().split("x"))
    half_w = min(width / PLATE_SCALE_ARCSEC / 2.0 - 30.0, _CCD / 2.0 - 30.0)
    half_h = height / PLATE_SCALE_ARCSEC / 2.0 - 30.0
    y_lo = max(r0 + 2.0, _CCD / 2.0 - half_h)
    y_hi = min(r1 - 3.0, _CCD / 2.0 + half_h)
    if y_hi <= y_lo:  # the rows read lie outside the aperture: put them on the rows anyway
        y_lo, y_hi = r0 + 0.5, max(r1 - 1.5, r0 + 0.5)
    for _ in range(n_saturated):
        x = rng.uniform(_CCD / 2.0 - half_w, _CCD / 2.0 + half_w)
        y = rng.uniform(y_lo, y_hi)
        sources.append(Source(float(x), float(y), _saturating_rate(rng, t_imset_s)))
    footprint = aperture_footprint(aper_fov, "IMAGING", rows)
    rate = (sky_e_per_s + render_sources(sources, rows)) * footprint
    return rate, sources


def spectral_scene(
    rng: np.random.Generator,
    *,
    rows: tuple[int, int],
    aper_fov: str,
    sky_e_per_s: float,
    trace_e_per_s: float,
    trace_row: float,
    n_saturated: int,
    t_imset_s: float,
) -> tuple[NDArray[np.float64], dict]:
    """
    A long-slit spectrum: a continuum trace with absorption lines, sky with emission lines.

    Dispersion runs along x (``DISPAXIS = 1``). ``n_saturated`` bright emission
    lines on the trace exceed the full well and bleed along the slit.

    Parameters
    ----------
    rng : numpy.random.Generator
    rows : tuple of int
        Reference rows ``[v0, v1)`` to render.
    aper_fov : str
        ``APER_FOV``; only its height (the slit length) limits the rows.
    sky_e_per_s : float
        Sky continuum, e-/s per unbinned pixel.
    trace_e_per_s : float
        Continuum of the trace, e-/s per column (summed over the profile).
    trace_row : float
        Trace centre at column 512, reference row (zero-based).
    n_saturated : int
        Saturating emission lines on the trace.
    t_imset_s : float
        Exposure time of one imset, seconds.

    Returns
    -------
    (rate, description)
        Rate in e-/s per unbinned pixel, shape (v1 - v0, 1024), float64, and the
        line positions drawn.
    """
    v0, v1 = rows
    x = np.arange(_CCD)
    tilt = rng.uniform(-0.004, 0.004)
    centre = trace_row + tilt * (x - 512.0)
    sed = 0.35 + 0.65 * np.sin(np.pi * (x + 80.0) / (_CCD + 160.0)) ** 1.5
    absorption = rng.uniform(20, _CCD - 20, 12)
    for xa in absorption:
        sed = sed * (1.0 - 0.6 * np.exp(-0.5 * ((x - xa) / 2.0) ** 2))
    continuum = trace_e_per_s * sed
    emission = rng.uniform(60, _CCD - 60, n_saturated)
    sigma_line = 1.1
    for xe in emission:
        line = _saturating_rate(rng, t_imset_s) * np.exp(-0.5 * ((x - xe) / sigma_line) ** 2)
        continuum = continuum + line / (np.sqrt(2 * np.pi) * sigma_line)
    y = np.arange(v0, v1)
    sigma_trace = 1.3
    edges = np.arange(v0, v1 + 1)[:, None] - 0.5
    cdf = erf((edges - centre[None, :]) / (sigma_trace * np.sqrt(2.0)))
    profile = 0.5 * np.diff(cdf, axis=0)
    rate = profile * continuum[None, :]
    sky_lines = rng.uniform(10, _CCD - 10, 6)
    sky = np.full(_CCD, sky_e_per_s)
    for xs in sky_lines:
        sky = sky + 25.0 * sky_e_per_s * np.exp(-0.5 * ((x - xs) / 1.2) ** 2)
    footprint = aperture_footprint(aper_fov, "SPECTROSCOPIC", rows)
    rate = (rate + sky[None, :] * np.ones((len(y), 1))) * footprint
    return rate, {
        "absorption_columns": [round(float(a), 2) for a in absorption],
        "saturated_line_columns": [round(float(e), 2) for e in emission],
        "sky_line_columns": [round(float(s), 2) for s in sky_lines],
        "trace_tilt": float(tilt),
    }
