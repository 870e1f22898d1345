"""Cosmic rays: short charge tracks, deposited during each imset's exposure.

Events arrive as a Poisson process (``rate`` per cm^2 per second over the
rows read out; the STIS CCD has 21 micron pixels). Each deposits a
log-normal total charge along a straight track whose projected length follows
from an isotropic incidence angle on a 15 micron thick depletion layer, and
charge diffusion spreads it over neighbouring pixels.
"""

import numpy as np
from numpy.typing import NDArray

from stischeck.synth.scene import pixel_gaussian

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
    charge = np.zeros(shape)
    if n == 0:
        return charge, np.zeros(shape, bool), 0
    x0 = rng.uniform(-0.5, nx - 0.5, n)
    y0 = rng.uniform(-0.5, ny - 0.5, n)
    cos_theta = rng.uniform(0.05, 1.0, n)  # isotropic flux through a plane: uniform cos
    length = np.minimum(_DEPTH_PIX * np.sqrt(1.0 - cos_theta**2) / cos_theta, _MAX_LENGTH_PIX)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    total = rng.lognormal(np.log(_MEDIAN_E), _SIGMA_LN, n) * (1.0 + length / 4.0)
    for k in range(n):
        steps = max(1, int(np.ceil(length[k] / 0.5)))
        t = (np.arange(steps) + 0.5) / steps - 0.5
        xs = x0[k] + t * length[k] * np.cos(phi[k])
        ys = y0[k] + t * length[k] * np.sin(phi[k])
        xa, xb = int(np.floor(xs.min())) - 2, int(np.ceil(xs.max())) + 3
        ya, yb = int(np.floor(ys.min())) - 2, int(np.ceil(ys.max())) + 3
        xa, ya, xb, yb = max(xa, 0), max(ya, 0), min(xb, nx), min(yb, ny)
        if xb <= xa or yb <= ya:
            continue
        stamp = np.zeros((yb - ya, xb - xa))
        for x, y in zip(xs, ys, strict=True):
            stamp += np.outer(
                pixel_gaussian(y, _DIFFUSION_PIX, ya, yb - ya),
                pixel_gaussian(x, _DIFFUSION_PIX, xa, xb - xa),
            )
        charge[ya:yb, xa:xb] += stamp * (total[k] / steps)
    return charge, charge > truth_threshold_e, n
