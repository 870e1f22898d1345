"""Heliocentric radial velocity of a target, as calstis writes it to V_HELIO.

calstis1 (``do2d.c``) writes ``V_HELIO`` (km/s) into the SCI header of every
imset of a spectroscopic, non-wavecal exposure, for the imset's mid-exposure
time ``(EXPSTART + EXPEND) / 2``. The velocity is minus the component of the
Earth's orbital velocity towards the target; the target's own space motion is
ignored. The Earth's velocity comes from the Astronomical Almanac's
low-precision solar coordinates (p. C24) differentiated in time; the target's
J2000 direction is precessed to the date with the IAU 1976 angles (Lieske et
al. 1977). Source of the facts: hstcal ``pkg/stis/lib/radialvel.c``.
"""

import math

__all__ = ["heliocentric_radial_velocity_km_s"]

_DEG = math.pi / 180.0
_ARCSEC = math.pi / (180.0 * 3600.0)
_MJD_J2000 = 51544.5  # 2000 Jan 1.5 UT
_KM_PER_AU = 1.4959787e8
_SECONDS_PER_DAY = 86400.0


def heliocentric_radial_velocity_km_s(ra_deg: float, dec_deg: float, mjd: float) -> float:
    """
    Radial velocity of a target due to the Earth's orbital motion, km/s.

    Parameters
    ----------
    ra_deg, dec_deg : float
        Target position (J2000), degrees (``RA_TARG``, ``DEC_TARG``).
    mjd : float
        Modified Julian Date of the observation (mid-exposure).

    Returns
    -------
    float
        Positive when the Earth moves away from the target. Double precision,
        evaluated in calstis's order of operations.
    """
    ra, dec = ra_deg * _DEG, dec_deg * _DEG
    target = (math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec))
    target = _precess_from_j2000(mjd, target)
    velocity = _earth_velocity_km_s(mjd)
    toward = 0.0
    for v, t in zip(velocity, target, strict=True):
        toward += v * t
    return -toward


def _mod_two_pi(x: float) -> float:
    quotient = x / (2.0 * math.pi)
    whole = int(quotient)  # C's (long) truncates towards zero
    if quotient < 0.0:
        whole -= 1
    return x - float(whole) * 2.0 * math.pi


def _earth_velocity_km_s(mjd: float) -> tuple:
    """The Earth's velocity around the Sun, equatorial rectangular coordinates, km/s."""
    days = mjd - _MJD_J2000
    anomaly_rate = 0.9856003 * _DEG  # radians per day
    longitude_rate = 0.9856474 * _DEG
    obliquity = (23.439 - 0.0000004 * days) * _DEG
    anomaly = _mod_two_pi((357.528 + 0.9856003 * days) * _DEG)
    longitude = _mod_two_pi((280.461 + 0.9856474 * days) * _DEG)
    # Ecliptic longitude of the Sun (equation of centre 1.915 deg, 0.020 deg) and its rate.
    elong = longitude + 0.033423 * math.sin(anomaly) + 0.000349 * math.sin(2.0 * anomaly)
    elong_rate = (
        longitude_rate
        + 0.033423 * math.cos(anomaly) * anomaly_rate
        + 0.000349 * math.cos(2.0 * anomaly) * 2.0 * anomaly_rate
    )
    radius = 1.00014 - 0.01671 * math.cos(anomaly) - 0.00014 * math.cos(2.0 * anomaly)
    radius_rate = (
        0.01671 * math.sin(anomaly) * anomaly_rate
        + 0.00014 * math.sin(2.0 * anomaly) * 2.0 * anomaly_rate
    )
    # Velocity of the Sun seen from the Earth, rotated from ecliptic to equatorial axes.
    x_rate = radius_rate * math.cos(elong) - radius * math.sin(elong) * elong_rate
    y_rate = (
        radius_rate * math.cos(obliquity) * math.sin(elong)
        + radius * math.cos(obliquity) * math.cos(elong) * elong_rate
    )
    z_rate = (
        radius_rate * math.sin(obliquity) * math.sin(elong)
        + radius * math.sin(obliquity) * math.cos(elong) * elong_rate
    )
    scale = _KM_PER_AU / _SECONDS_PER_DAY
    # The Earth moves opposite to the Sun's apparent motion.
    return (-x_rate * scale, -y_rate * scale, -z_rate * scale)


def _precess_from_j2000(mjd: float, v: tuple) -> tuple:
    """Precess a J2000 unit vector to the equinox of date (IAU 1976 zeta, z, theta)."""
    t = (mjd - _MJD_J2000) / 36525.0
    t2, t3 = t * t, t * t * t
    zeta = (2306.2181 * t + 0.30188 * t2 + 0.017998 * t3) * _ARCSEC
    z = (2306.2181 * t + 1.09468 * t2 + 0.018203 * t3) * _ARCSEC
    theta = (2004.3109 * t - 0.42665 * t2 - 0.041833 * t3) * _ARCSEC
    cz, sz = math.cos(z), math.sin(z)
    ct, st = math.cos(theta), math.sin(theta)
    cze, sze = math.cos(zeta), math.sin(zeta)
    rows = (
        (cz * ct * cze - sz * sze, -cz * ct * sze - sz * cze, -cz * st),
        (sz * ct * cze + cz * sze, -sz * ct * sze + cz * cze, -sz * st),
        (st * cze, -st * sze, ct),
    )
    return tuple(r[0] * v[0] + r[1] * v[1] + r[2] * v[2] for r in rows)
