"""The CCD itself: amplifier constants, bias structure, full-well bleeding, readout to DN.

Numbers are synthetic but of STIS's order: gains near the nominal 1, 2, 4, 8
electrons per DN, read noise 5-12 electrons, bias levels near 1400 DN, a full
well of 144,000 electrons and a 16-bit converter (hstcal's CCDTAB columns,
spec §2).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stischeck.synth.geometry import ReadoutGeometry

__all__ = [
    "AmpConstants",
    "FULL_WELL_E",
    "amp_constants",
    "bias_pattern",
    "bleed_columns",
    "overscan_bias",
    "read_out",
]

#: Full well of an unbinned pixel, electrons.
FULL_WELL_E = 144_000.0
#: Largest value the 16-bit converter delivers, DN.
ADC_MAX_DN = 65535

_GAIN_E_PER_DN = {1: 1.0, 2: 2.0, 4: 4.0, 8: 8.0}
_AMP_GAIN_OFFSET = {"A": 0.009, "B": -0.004, "C": 0.012, "D": 0.002}
_READ_NOISE_E = {1: 5.4, 2: 5.9, 4: 7.6, 8: 11.2}
_AMP_NOISE_OFFSET = {"A": 0.15, "B": 0.0, "C": 0.25, "D": -0.1}
_BIAS_DN = {1: 1380.0, 2: 1392.0, 4: 1405.0, 8: 1418.0}
_AMP_BIAS_OFFSET = {"A": 0.0, "B": 61.0, "C": -27.0, "D": 34.0}
#: SATURATE (DN, raw): at gain 1 and 2 the converter saturates first; at 4 and 8 the full well.
_SATURATE_DN = {1: 65000.0, 2: 65000.0, 4: 36500.0, 8: 19000.0}


@dataclass(frozen=True)
class AmpConstants:
    """
    What the CCD parameters table (CCDTAB) says about one amp, gain and binning.

    Attributes
    ----------
    atodgain : float
        Electrons per DN (``ATODGAIN``).
    readnoise_e : float
        Read noise per raw pixel read, electrons (``READNSE``).
    ccdbias_dn : float
        Default bias level, DN (``CCDBIAS``).
    saturate_dn : float
        Raw DN above which calstis flags SATPIXEL (``SATURATE``).
    """

    atodgain: float
    readnoise_e: float
    ccdbias_dn: float
    saturate_dn: float


def amp_constants(amp: str, gain: int, binning: tuple[int, int]) -> AmpConstants:
    """
    CCDTAB values for one readout.

    Parameters
    ----------
    amp : str
        A-D.
    gain : int
        Commanded gain 1, 2, 4 or 8.
    binning : tuple of int
        ``(bin_x, bin_y)``; binned readouts have slightly more read noise
        (longer serial clocking), as in the STIS tables.

    Returns
    -------
    AmpConstants
        Values as written to the table (4 and 3 decimals); calstis reads them as float32.
    """
    bx, by = binning
    n_binned_axes = (bx > 1) + (by > 1)
    noise = _READ_NOISE_E[gain] + _AMP_NOISE_OFFSET[amp] + 0.18 * n_binned_axes * (gain**0.5)
    return AmpConstants(
        atodgain=round(_GAIN_E_PER_DN[gain] * (1 + _AMP_GAIN_OFFSET[amp]), 4),
        readnoise_e=round(noise, 3),
        ccdbias_dn=float(_BIAS_DN[gain] + _AMP_BIAS_OFFSET[amp]),
        saturate_dn=_SATURATE_DN[gain],
    )


def bleed_columns(electrons: NDArray, full_well_e: float = FULL_WELL_E) -> NDArray[np.float64]:
    """
    Spill charge above the full well up and down the columns (parallel direction).

    Each over-full pixel keeps ``full_well_e`` and passes half its excess to
    each side; the excess fills the next pixels that still have room. Charge
    reaching the top or bottom edge is lost (clocked into the register).

    Parameters
    ----------
    electrons : ndarray, shape (ny, nx)
        Unbinned charge, electrons; not modified.
    full_well_e : float
        Capacity of one pixel, electrons.

    Returns
    -------
    ndarray of float64, shape (ny, nx)
        Charge after bleeding; no pixel exceeds the full well, and the total is
        kept except for what leaves the array.
    """
    q = np.array(electrons, dtype=np.float64)
    cols = np.flatnonzero((q > full_well_e).any(axis=0))
    if cols.size == 0:
        return q
    sub = q[:, cols]
    excess = np.clip(sub - full_well_e, 0.0, None)
    sub = np.minimum(sub, full_well_e)
    half = excess / 2.0
    n = sub.shape[0]
    carry = np.zeros(sub.shape[1])
    for j in range(n):  # upward: charge from below moves to higher rows
        room = full_well_e - sub[j]
        take = np.minimum(room, carry)
        sub[j] += take
        carry = carry - take + half[j]
    carry[:] = 0.0
    for j in range(n - 1, -1, -1):  # downward
        room = full_well_e - sub[j]
        take = np.minimum(room, carry)
        sub[j] += take
        carry = carry - take + half[j]
    q[:, cols] = sub
    return q


def bias_pattern(shape: tuple[int, int], rms_dn: float, rng: np.random.Generator) -> NDArray:
    """
    Fixed 2-D bias structure per raw pixel (the part a superbias removes), DN.

    A white component plus a weak column pattern (amplifier pickup), of total
    rms ``rms_dn``; mean zero.
    """
    white = rng.normal(0.0, 0.9 * rms_dn, size=shape)
    columns = rng.normal(0.0, 0.43 * rms_dn, size=(1, shape[1]))
    pattern = white + columns
    return pattern - pattern.mean()


def overscan_bias(
    geometry: ReadoutGeometry,
    *,
    level_dn: float,
    row_drift_dn: float,
    col_drift_dn: float,
    ripple_dn: float,
    ripple_phase: float,
) -> NDArray[np.float64]:
    """
    The large-scale bias of one readout, DN per raw pixel (what BLEVCORR measures).

    Parameters
    ----------
    geometry : ReadoutGeometry
    level_dn : float
        Bias level at the first row read, DN.
    row_drift_dn : float
        Linear change from the first to the last row read, DN.
    col_drift_dn : float
        Linear change along each row, from the first to the last column read, DN.
    ripple_dn, ripple_phase : float
        Amplitude (DN) and phase (radians) of a slow sinusoid along the rows.

    Returns
    -------
    ndarray of float64, shape (ny, nx)
    """
    ny, nx = geometry.ny, geometry.nx
    # Time order of the readout: C/D read the rows top-down in image order, B/D
    # the columns right to left.
    t_row = np.linspace(0.0, 1.0, ny)
    if geometry.amp in "CD":
        t_row = t_row[::-1]
    t_col = np.linspace(0.0, 1.0, nx)
    if geometry.amp in "BD":
        t_col = t_col[::-1]
    rows = (
        level_dn + row_drift_dn * t_row + ripple_dn * np.sin(2 * np.pi * 3.0 * t_row + ripple_phase)
    )
    return rows[:, None] + col_drift_dn * t_col[None, :]


def read_out(
    electrons: NDArray,
    bias_dn: NDArray,
    *,
    atodgain: float,
    readnoise_e: float,
    rng: np.random.Generator,
) -> NDArray[np.uint16]:
    """
    Convert charge per raw pixel to raw DN: gain, bias, read noise, 16-bit converter.

    Parameters
    ----------
    electrons : ndarray of float, shape (ny, nx)
        Charge per raw pixel, electrons.
    bias_dn : ndarray of float, shape (ny, nx)
        Bias per raw pixel, DN.
    atodgain : float
        Electrons per DN.
    readnoise_e : float
        Read noise per pixel read, electrons.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of uint16, shape (ny, nx)
        ``round(e / g + bias + noise)`` clipped to 0..65535 DN.
    """
    dn = electrons / atodgain + bias_dn + rng.normal(0.0, readnoise_e / atodgain, electrons.shape)
    return np.clip(np.rint(dn), 0, ADC_MAX_DN).astype(np.uint16)
