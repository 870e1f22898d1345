"""BIASCORR: subtract the bias reference image (spec §8; hstcal ``cs1/dobias.c``)."""

import numpy as np

from reference_impl.imset import Imset, require_same_shape
from reference_impl.numerics import sub2d

__all__ = ["subtract_bias"]


def subtract_bias(science: Imset, bias: Imset, *, ncombine: int = 1) -> Imset:
    """
    Subtract a bias image from a science imset.

    Parameters
    ----------
    science : Imset
        SCI, ERR in DN, float32, shape (ny, nx), overscan trimmed; DQ int16.
    bias : Imset
        Bias reference image cut to the science pixels (summed over each bin
        if it had to be binned), DN.
    ncombine : int
        NCOMBINE of the science imset; the bias is scaled by it when > 1.

    Returns
    -------
    Imset
        New arrays: SCI difference, ERR in quadrature, DQ bitwise OR.

    Raises
    ------
    ShapeMismatchError
        If the bias does not cover the science array pixel for pixel.

    Notes
    -----
    Spec: docs/calstis-ccd-2d.md §8 (``dobias.c``, ``sub2d.c``, ``multk2d.c``).
    Float32 throughout, as calstis stores the arrays.
    """
    require_same_shape(science.sci, bias.sci, what="bias image")
    bias_sci, bias_err = bias.sci, bias.err
    if ncombine != 1:
        k = np.float32(ncombine)
        bias_sci = (bias_sci * k).astype(np.float32)
        bias_err = (bias_err * k).astype(np.float32)
    sci, err, dq = sub2d(science.sci, science.err, science.dq, bias_sci, bias_err, bias.dq)
    return Imset(sci, err, dq)
