"""FLATCORR as it was before the block-wise rewrite (commit 77ffea2), kept as an oracle.

Validated bit for bit against calstis 3.5.0 on the corpus and the live
differential suite; the block-wise version must give the same numbers.
"""
# ruff: noqa

import numpy as np

from reference_impl import dqflags
from tests.unit.oracles.binning_v1 import expand_bilinear
from reference_impl.errors import NotImplementedStepError, ShapeMismatchError
from reference_impl.imset import Imset, require_same_shape

__all__ = ["multiply_flats", "combine_flats", "apply_flat"]


def multiply_flats(a: Imset, b: Imset) -> Imset:
    """
    Multiply two flat imsets (mult2d.c).

    Parameters
    ----------
    a, b : Imset
        Flats of the same shape, dimensionless float32.

    Returns
    -------
    Imset
        ``SCI = a*b``, ``ERR = sqrt((a*e_b)^2 + (b*e_a)^2)`` in float32, DQ OR.
    """
    require_same_shape(a.sci, b.sci, what="flat field")
    sci = (a.sci * b.sci).astype(np.float32)
    a_db = (a.sci * b.err).astype(np.float32)
    b_da = (b.sci * a.err).astype(np.float32)
    var = (a_db * a_db + b_da * b_da).astype(np.float32)
    err = np.sqrt(var.astype(np.float64)).astype(np.float32)
    return Imset(sci, err, (a.dq | b.dq).astype(np.int16))


def combine_flats(pflt: Imset | None, dflt: Imset | None, lflt: Imset | None) -> Imset:
    """
    Combine the pixel-to-pixel, delta and low-order flats into one.

    Parameters
    ----------
    pflt, dflt : Imset or None
        PFLTFILE and DFLTFILE imset 1 (unbinned reference pixels), or None if
        that part is not used.
    lflt : Imset or None
        LFLTFILE imset 1 (binned, e.g. 4x4), expanded to the P/D size by
        `reference_impl.binning.expand_bilinear` before multiplying.

    Returns
    -------
    Imset
        The product, still in reference pixels (not yet matched to the science).

    Raises
    ------
    ShapeMismatchError
        If PFLT and DFLT differ in size, or the LFLT does not divide it.
    NotImplementedStepError
        For an LFLT used alone (calstis then expands it to the science binning;
        a path no corpus or known data set exercises).
    """
    if pflt is not None and dflt is not None:
        if pflt.sci.shape != dflt.sci.shape:
            raise ShapeMismatchError(
                f"PFLTFILE is {pflt.sci.shape[::-1]} and DFLTFILE is {dflt.sci.shape[::-1]}"
            )
        flat = multiply_flats(pflt, dflt)
    elif pflt is not None:
        flat = pflt.copy()
    elif dflt is not None:
        flat = dflt.copy()
    else:
        if lflt is None:
            raise ValueError("combine_flats needs at least one flat")
        raise NotImplementedStepError(
            "FLATCORR with only LFLTFILE (no PFLTFILE or DFLTFILE) is not implemented"
        )
    if lflt is not None:
        flat = multiply_flats(flat, expand_bilinear(lflt, flat.sci.shape))
    return flat


def apply_flat(science: Imset, flat: Imset) -> Imset:
    """
    Divide a science imset by a flat field (div2d.c).

    Parameters
    ----------
    science : Imset
        SCI, ERR in DN (float32), DQ int16.
    flat : Imset
        Combined flat matched to the science pixels (averaged over bins).

    Returns
    -------
    Imset
        ``SCI/F``; ``ERR = sqrt((ERR/F)^2 + (e_F*SCI/F/F)^2)`` in float32 with
        that operation order; DQ OR the flat's DQ. Where ``F == 0`` SCI and ERR
        are left unchanged and CALIBDEFECT (512) is set.
    """
    require_same_shape(science.sci, flat.sci, what="flat field")
    a, e_a = science.sci, science.err
    f, e_f = flat.sci, flat.err
    zero = f == 0
    safe_f = np.where(zero, np.float32(1.0), f).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        sci = (a / safe_f).astype(np.float32)
        a_expr = (e_a / safe_f).astype(np.float32)
        b_expr = (((e_f * a).astype(np.float32)) / safe_f).astype(np.float32) / safe_f
        b_expr = b_expr.astype(np.float32)
        var = (a_expr * a_expr + b_expr * b_expr).astype(np.float32)
        err = np.sqrt(var.astype(np.float64)).astype(np.float32)
    sci = np.where(zero, a, sci).astype(np.float32)
    err = np.where(zero, e_a, err).astype(np.float32)
    dq = np.where(zero, science.dq | np.int16(dqflags.CALIBDEFECT), science.dq)
    return Imset(sci, err, (dq | flat.dq).astype(np.int16))
