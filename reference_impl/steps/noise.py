"""ERR initialisation: the CCD noise model (spec §3; hstcal ``cs1/donoise.c``)."""

import numpy as np
from numpy.typing import NDArray

from reference_impl.imset import Imset, readonly_view
from reference_impl.numerics import row_blocks

__all__ = ["init_errors", "needs_error_init"]


def needs_error_init(err: NDArray[np.float32]) -> bool:
    """Return True when calstis would initialise the ERR array (every pixel exactly 0)."""
    return not np.any(err)


def init_errors(
    science: Imset, *, bias_dn: float, gain_e_per_dn: float, readnoise_e: float
) -> Imset:
    """
    Fill the ERR array from Poisson and read noise.

    Parameters
    ----------
    science : Imset
        SCI in DN, float32, shape (ny, nx); ERR must be all zero (use
        `needs_error_init`); DQ is passed through.
    bias_dn : float
        Bias level still present in SCI, DN: 0 when BLEVCORR ran in this same
        calstis1 run, otherwise CCDBIAS from the CCDTAB.
    gain_e_per_dn : float
        ATODGAIN from the CCDTAB row (float32), electrons per DN.
    readnoise_e : float
        READNSE from the CCDTAB row (float32), electrons.

    Returns
    -------
    Imset
        Same SCI and DQ (read-only views); ERR in DN, float32:
        ``sqrt((SCI - b) g + r^2) / g`` where ``(SCI - b) g > 0``, else ``r / g``.

    Notes
    -----
    Exact arithmetic (spec §3, verified bit-exact against calstis 3.5.0):
    ``v = f32(f32(SCI - b) * g)``, ``r2 = f32(r * r)``,
    ``ERR = f32(sqrt(f64(f32(v + r2))) / f64(g))``; the floor is the float32
    division ``f32(r / g)``. The step runs after BLEVCORR, so overscan pixels
    are covered only when BLEVCORR is off.
    """
    g = np.float32(gain_e_per_dn)
    r = np.float32(readnoise_e)
    b, r2, floor = np.float32(bias_dn), np.float32(r * r), np.float32(r / g)
    err = np.empty(science.sci.shape, dtype=np.float32)
    for rows in row_blocks(err.shape[0]):  # block-sized float32 temporaries
        electrons = science.sci[rows] - b  # float32, a new array
        if g != np.float32(1.0):  # x * 1 is x exactly (NaN, inf and -0 included)
            np.multiply(electrons, g, out=electrons)
        at_or_below = ~(electrons > 0)  # True for NaN too: those get the floor, as in C
        variance = np.add(electrons, r2, out=electrons)
        out = err[rows]
        with np.errstate(invalid="ignore"):  # negative variances get the floor below
            if g == np.float32(1.0):
                # Dividing by 1 is exact, and float32 sqrt is correctly rounded, which
                # equals rounding the double sqrt to float32 (53 >= 2*24 + 2 bits).
                np.sqrt(variance, out=out)
            else:
                root = np.sqrt(variance, dtype=np.float64)
                np.divide(root, np.float64(g), out=out, casting="same_kind")  # rounded once
        np.copyto(out, floor, where=at_or_below)
    return Imset(sci=readonly_view(science.sci), err=err, dq=readonly_view(science.dq))
