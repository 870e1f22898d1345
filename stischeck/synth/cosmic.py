"""Cosmic rays: short charge tracks, deposited during each imset's exposure.

Events arrive as a Poisson process (``rate`` per cm^2 per second over the
rows read out; the STIS CCD has 21 micron pixels). Each deposits a
log-normal total charge along a straight track whose projected length follows
from an isotropic incidence angle on a 15 micron thick depletion layer, and
charge diffusion spreads it over neighbouring pixels.
"""

import numpy as np
from numpy.typing import NDArray

from stischeck.synth.scene import erf

__all__ = ["PIXEL_CM", "cosmic_ray_charge"]

#: Pixel pitch of the STIS CCD, cm.
PIXEL_CM = 21e-4
_DEPTH_PIX = 15.0 / 21.0  # depletion depth in pixel units
_DIFFUSION_PIX = 0.45
_MEDIAN_E = 1100.0
_SIGMA_LN = 0.75
_MAX_LENGTH_PIX = 40.0


def cosmic_ray_charge(
    rng: np.random.Generator,
    shape: tuple[int, int],
    *,
    rate_per_cm2_s: float,
    exptime_s: float,
    truth_threshold_e: float,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], int]:
    """
    Charge deposited by cosmic rays in one exposure.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
        ``(ny, nx)`` of the unbinned window, pixels.
    rate_per_cm2_s : float
        Events per cm^2 per second.
    exptime_s : float
        Exposure time, seconds.
    truth_threshold_e : float
        A pixel counts as hit in the returned mask when it received more than
        this many electrons (e.g. three times the read noise).

    Returns
    -------
    (charge, hit, n_events)
        ``charge``: float64 electrons, shape ``shape``; ``hit``: bool mask of
        pixels above ``truth_threshold_e``; ``n_events``: events drawn.
    """
    ny, nx = shape
    area = ny * nx * PIXEL_CM**2
    n = int(rng.poisson(rate_per_cm2_s * area * exptime_s))
    if n == 0:
        return np.zeros(shape), np.zeros(shape, bool), 0
    x0 = rng.uniform(-0.5, nx - 0.5, n)
    y0 = rng.uniform(-0.5, ny - 0.5, n)
    cos_theta = rng.uniform(0.05, 1.0, n)  # isotropic flux through a plane: uniform cos
    length = np.minimum(_DEPTH_PIX * np.sqrt(1.0 - cos_theta**2) / cos_theta, _MAX_LENGTH_PIX)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    total = rng.lognormal(np.log(_MEDIAN_E), _SIGMA_LN, n) * (1.0 + length / 4.0)
    # Sample each track every half pixel; every sample spreads its charge over a
    # 5 x 5 box by diffusion (pixel-integrated Gaussian), all events at once.
    steps = np.maximum(1, np.ceil(length / 0.5).astype(np.int64))
    event = np.repeat(np.arange(n), steps)
    first = np.cumsum(steps) - steps
    t = (np.arange(event.size) - first[event] + 0.5) / steps[event] - 0.5
    xs = x0[event] + t * length[event] * np.cos(phi[event])
    ys = y0[event] + t * length[event] * np.sin(phi[event])
    q = total[event] / steps[event]
    offsets = np.arange(-2, 3)
    xc, yc = np.rint(xs).astype(np.int64), np.rint(ys).astype(np.int64)
    wx = _box_weights(xs, xc, offsets)
    wy = _box_weights(ys, yc, offsets)
    px = xc[:, None, None] + offsets[None, None, :]
    py = yc[:, None, None] + offsets[None, :, None]
    w = q[:, None, None] * wy[:, :, None] * wx[:, None, :]
    inside = (px >= 0) & (px < nx) & (py >= 0) & (py < ny)
    flat = (py * nx + px)[inside]
    charge = np.bincount(flat, weights=w[inside], minlength=ny * nx).reshape(shape)
    return charge, charge > truth_threshold_e, n


def _box_weights(pos: NDArray, centre: NDArray, offsets: NDArray) -> NDArray[np.float64]:
    """Diffusion weights of the pixels ``centre + offsets`` around each ``pos``, normalised."""
    lo = (centre[:, None] + offsets[None, :] - 0.5 - pos[:, None]) / (_DIFFUSION_PIX * np.sqrt(2))
    hi = lo + 1.0 / (_DIFFUSION_PIX * np.sqrt(2))
    w = 0.5 * (erf(hi) - erf(lo))
    return w / w.sum(axis=1, keepdims=True)
