"""DARKCORR: subtract the scaled dark reference image (spec §9; hstcal ``cs1/dodark.c``)."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reference_impl.imset import Imset, require_same_shape
from reference_impl.numerics import median_f32, quadrature_f32, row_blocks

__all__ = ["DarkResult", "dark_temperature_factor", "dark_scale", "subtract_dark"]

#: First MJD of side-2 electronics, after which the dark depends on temperature.
SIDE2_MJD = 52091.0


@dataclass(frozen=True)
class DarkResult:
    """The dark-subtracted imset and ``MEANDARK``.

    Attributes
    ----------
    imset : Imset
        SCI, ERR (float32, DN) and DQ after subtraction.
    meandark_dn : numpy.float32
        Median of the scaled dark over pixels whose dark DQ is exactly 0, DN.
    scale : numpy.float32
        The factor the dark (in electrons/s) was multiplied by, DN per unit.
    """

    imset: Imset
    meandark_dn: np.float32
    scale: np.float32


def dark_temperature_factor(
    *, occdhtav_c: float | None, expstart_mjd: float, ref_temp_c: float, drk_vs_t: float
) -> float:
    """
    Temperature factor for the side-2 CCD dark (dodark.c CCDFactor, getgrpinfo1.c).

    Parameters
    ----------
    occdhtav_c : float or None
        ``OCCDHTAV`` from the SCI header, degrees C; None if absent.
    expstart_mjd : float
        ``EXPSTART`` from the SCI header, MJD.
    ref_temp_c, drk_vs_t : float
        ``REF_TEMP`` (default 18.0) and ``DRK_VS_T`` (default 0.07) from the dark
        file's primary header.

    Returns
    -------
    float
        ``1 + drk_vs_t*(T - ref_temp)`` when ``EXPSTART >= 52091`` and ``T > 0``,
        else 1.
    """
    temperature = -1.0
    if occdhtav_c is not None and expstart_mjd >= SIDE2_MJD:
        temperature = float(occdhtav_c)
    if temperature <= 0.0:
        return 1.0
    return 1.0 + drk_vs_t * (temperature - ref_temp_c)


def dark_scale(*, factor: float, exptime_s: float, gain_e_per_dn: float) -> np.float32:
    """``f32(factor * EXPTIME / ATODGAIN)``, evaluated in double left to right."""
    return np.float32(factor * exptime_s / float(np.float32(gain_e_per_dn)))


def _median_of_scaled(good: NDArray[np.float32], k: np.float32) -> np.float32:
    """
    `median_f32` of ``f32(good * k)`` (``good`` itself when k is 1), 0 for no pixels.

    Rounding to float32 is monotonic, so the scaled values sort as ``good``
    does (reversed for k < 0, which keeps the same middle pair): only the
    middle values are scaled. ``good`` is this function's own copy and is
    reordered in place.
    """
    n = good.size
    if n == 0:
        return np.float32(0.0)
    middle_at = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    good.partition(middle_at)
    middle = good[middle_at]
    if k != np.float32(1.0):
        middle = (middle * k).astype(np.float32)
    return median_f32(middle)


def subtract_dark(science: Imset, dark: Imset, *, scale: np.float32) -> DarkResult:
    """
    Subtract a dark image scaled to the exposure.

    Parameters
    ----------
    science : Imset
        SCI, ERR in DN (float32), DQ int16; overscan trimmed.
    dark : Imset
        Dark reference cut to the science pixels and **summed** over each bin,
        in electrons per second (float32).
    scale : numpy.float32
        From `dark_scale`: temperature factor x EXPTIME / ATODGAIN.

    Returns
    -------
    DarkResult
        The new imset and MEANDARK.

    Notes
    -----
    The dark SCI and ERR are multiplied by ``scale`` in float32 (skipped when
    it is exactly 1, multk2d.c); MEANDARK is the float32 median of the scaled
    dark over pixels with dark DQ == 0 (0 if none); then SCI and ERR are
    combined as in sub2d.c and the DQ OR-ed.
    """
    require_same_shape(science.sci, dark.sci, what="dark image")
    k = np.float32(scale)
    # MEANDARK first, so that its copy of the good pixels is gone before the outputs come.
    meandark = _median_of_scaled(dark.sci[dark.dq == 0], k)
    shape = science.sci.shape
    out_sci = np.empty(shape, dtype=np.float32)
    out_err = np.empty(shape, dtype=np.float32)
    # Scale and subtract block by block: the scaled dark is never a whole image.
    for rows in row_blocks(shape[0]):
        dark_sci, dark_err = dark.sci[rows], dark.err[rows]
        if k != np.float32(1.0):
            dark_sci = (dark_sci * k).astype(np.float32)
            dark_err = (dark_err * k).astype(np.float32)
        # sub2d.c: SCI difference and ERR in quadrature, float32.
        np.subtract(science.sci[rows], dark_sci, out=out_sci[rows], dtype=np.float32)
        out_err[rows] = quadrature_f32(science.err[rows], dark_err)
    dq = np.bitwise_or(science.dq, dark.dq, dtype=np.int16)
    return DarkResult(imset=Imset(out_sci, out_err, dq), meandark_dn=meandark, scale=k)
