"""FLATCORR: divide by the product of the flat fields (spec §10; hstcal ``cs1/doflat.c``).

``combine_flats`` builds PFLT x DFLT x expanded LFLT; the result is matched to
the science pixels (averaged over bins) by ``io/reffiles.py``; ``apply_flat``
divides.
"""

import numpy as np

from reference_impl import dqflags
from reference_impl.binning import expand_bilinear_blocks
from reference_impl.errors import NotImplementedStepError, ShapeMismatchError
from reference_impl.imset import Imset, readonly_view, require_same_shape
from reference_impl.numerics import row_blocks

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
    sci = np.multiply(a.sci, b.sci, dtype=np.float32)
    err = np.empty(sci.shape, dtype=np.float32)
    for rows in row_blocks(sci.shape[0]):  # block-sized float32 temporaries
        a_db = (a.sci[rows] * b.err[rows]).astype(np.float32)
        b_da = (b.sci[rows] * a.err[rows]).astype(np.float32)
        var = (a_db * a_db + b_da * b_da).astype(np.float32)
        err[rows] = np.sqrt(var.astype(np.float64))  # rounded once to float32
    return Imset(sci, err, np.bitwise_or(a.dq, b.dq, dtype=np.int16))


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
        flat = Imset(*(readonly_view(a) for a in pflt))
    elif dflt is not None:
        flat = Imset(*(readonly_view(a) for a in dflt))
    else:
        if lflt is None:
            raise ValueError("combine_flats needs at least one flat")
        raise NotImplementedStepError(
            "FLATCORR with only LFLTFILE (no PFLTFILE or DFLTFILE) is not implemented"
        )
    if lflt is not None:
        # mult2d(flat, unbin2d(L)), one block of the expanded L at a time.
        shape = flat.sci.shape
        out = Imset(
            np.empty(shape, np.float32), np.empty(shape, np.float32), np.empty(shape, np.int16)
        )
        for rows, expanded in expand_bilinear_blocks(lflt, shape):
            block = multiply_flats(Imset(*(a[rows] for a in flat)), expanded)
            for dest, values in zip(out, block, strict=True):
                dest[rows] = values
        flat = out
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
    shape = science.sci.shape
    out_sci = np.empty(shape, dtype=np.float32)
    out_err = np.empty(shape, dtype=np.float32)
    out_dq = np.empty(shape, dtype=np.int16)
    # Per pixel, block by block: the float32 temporaries are block-sized.
    for rows in row_blocks(shape[0]):
        a, e_a = science.sci[rows], science.err[rows]
        f, e_f = flat.sci[rows], flat.err[rows]
        zero = f == 0
        safe_f = np.where(zero, np.float32(1.0), f).astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            sci = (a / safe_f).astype(np.float32)
            a_expr = (e_a / safe_f).astype(np.float32)
            b_expr = (((e_f * a).astype(np.float32)) / safe_f).astype(np.float32) / safe_f
            b_expr = b_expr.astype(np.float32)
            var = (a_expr * a_expr + b_expr * b_expr).astype(np.float32)
            err = np.sqrt(var.astype(np.float64)).astype(np.float32)
        out_sci[rows] = np.where(zero, a, sci)
        out_err[rows] = np.where(zero, e_a, err)
        dq = science.dq[rows]
        dq = np.where(zero, dq | np.int16(dqflags.CALIBDEFECT), dq)
        out_dq[rows] = dq | flat.dq[rows]
    return Imset(out_sci, out_err, out_dq)
