"""FLATCORR: divide by the product of the flat fields (spec §10; hstcal ``cs1/doflat.c``).

``combine_flats`` builds PFLT x DFLT x expanded LFLT; the result is matched to
the science pixels (averaged over bins) by ``io/reffiles.py``; ``apply_flat``
divides.
"""

import numpy as np
from numpy.typing import NDArray

from reference_impl import dqflags
from reference_impl.binning import expand_bilinear_blocks
from reference_impl.errors import NotImplementedStepError, ShapeMismatchError
from reference_impl.imset import Imset, readonly_view, require_same_shape
from reference_impl.numerics import row_blocks, sqrt_f32

__all__ = [
    "multiply_flats",
    "combine_flats",
    "combine_flats_in_blocks",
    "combine_flat_dq",
    "apply_flat",
]


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
    sci = np.empty(a.sci.shape, dtype=np.float32)
    err = np.empty(a.sci.shape, dtype=np.float32)
    for rows in row_blocks(sci.shape[0]):  # block-sized float32 temporaries
        sci[rows], err[rows] = _mult2d(a.sci[rows], a.err[rows], b.sci[rows], b.err[rows])
    return Imset(sci, err, np.bitwise_or(a.dq, b.dq, dtype=np.int16))


def _mult2d(a_sci, a_err, b_sci, b_err):
    """SCI and ERR of mult2d.c for one block (float32; the sqrt in double, rounded once)."""
    sci = np.multiply(a_sci, b_sci, dtype=np.float32)
    a_db = np.multiply(a_sci, b_err, dtype=np.float32)
    b_da = np.multiply(b_sci, a_err, dtype=np.float32)
    np.multiply(a_db, a_db, out=a_db)
    np.multiply(b_da, b_da, out=b_da)
    var = np.add(a_db, b_da, out=a_db)
    return sci, sqrt_f32(var)


def combine_flats_in_blocks(p_sci, d_sci, err_blocks, lflt: Imset | None):
    """
    P x D (x expanded L) with the P and D ERR arrays arriving block by block.

    For flats read extension by extension, SCI whole, then ERR block by
    block, then DQ whole (their order in the file), so that the two flats
    and their product are never all in memory. Same numbers as
    `combine_flats`: every value is per pixel.

    Parameters
    ----------
    p_sci, d_sci : ndarray of float32, shape (ny, nx)
        PFLTFILE and DFLTFILE SCI, dimensionless.
    err_blocks : iterable of (slice, ndarray, ndarray)
        ``(rows, p_err[rows], d_err[rows])`` covering the rows in order.
    lflt : Imset or None
        LFLTFILE imset 1, expanded (`expand_bilinear_blocks`) and multiplied in.

    Returns
    -------
    tuple
        SCI and ERR of the product (float32) and the expanded LFLT DQ (int16,
        or None): the product's DQ is `combine_flat_dq` of P's, D's and that.

    Raises
    ------
    ShapeMismatchError
        If PFLT and DFLT differ in size, or the LFLT does not divide it.
    """
    if p_sci.shape != d_sci.shape:
        raise ShapeMismatchError(
            f"PFLTFILE is {p_sci.shape[::-1]} and DFLTFILE is {d_sci.shape[::-1]}"
        )
    shape = p_sci.shape
    sci = np.empty(shape, dtype=np.float32)
    err = np.empty(shape, dtype=np.float32)
    l_dq = np.empty(shape, dtype=np.int16) if lflt is not None else None
    expanded = expand_bilinear_blocks(lflt, shape) if lflt is not None else None
    covered = 0
    for rows, p_err, d_err in err_blocks:
        block_sci, block_err = _mult2d(p_sci[rows], p_err, d_sci[rows], d_err)
        if expanded is not None:
            # The same rows of the expanded LFLT: mult2d(P x D, unbin2d(L)).
            l_rows, low = next(expanded)
            if l_rows != rows:
                raise ValueError("LFLT blocks out of step with the flat blocks")
            block_sci, block_err = _mult2d(block_sci, block_err, low.sci, low.err)
            l_dq[rows] = low.dq
        sci[rows], err[rows] = block_sci, block_err
        covered = rows.stop
    if covered != shape[0]:
        raise ValueError("the ERR blocks do not cover the flat")
    return sci, err, l_dq


def combine_flat_dq(*dq_arrays) -> NDArray[np.int16]:
    """DQ of a flat product: the OR of its parts' DQ arrays (mult2d.c); None entries skipped."""
    parts = [d for d in dq_arrays if d is not None]
    out = np.bitwise_or(parts[0], parts[1], dtype=np.int16) if len(parts) > 1 else parts[0].copy()
    for d in parts[2:]:
        np.bitwise_or(out, d, out=out)
    return out


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
        safe_f = np.where(zero, np.float32(1.0), f)
        with np.errstate(invalid="ignore", over="ignore"):
            # Every operand is float32: each step is rounded to float32, in the C's order.
            sci = a / safe_f
            a_expr = e_a / safe_f
            b_expr = (e_f * a) / safe_f / safe_f
            var = a_expr * a_expr + b_expr * b_expr
            err = sqrt_f32(var)
        out_sci[rows] = np.where(zero, a, sci)
        out_err[rows] = np.where(zero, e_a, err)
        dq = science.dq[rows]
        dq = np.where(zero, dq | np.int16(dqflags.CALIBDEFECT), dq)
        out_dq[rows] = dq | flat.dq[rows]
    return Imset(out_sci, out_err, out_dq)
