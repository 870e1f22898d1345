"""SHADCORR: the shutter-shading correction (hstcal ``cs1/doshad.c``).

The spec (``docs/calstis-ccd-2d.md``) does not cover this step; the facts here
were read from hstcal 5c1c1775 and checked against cs0.e 3.5.0
(tests/differential/test_cs1_rest_vs_live_calstis.py).

What calstis does
-----------------
* ``cs0/calstis0.c``: SHADCORR belongs to the calstis1 run after cosmic-ray
  rejection (on the ``_crj``, and on each ``_flt`` with EXPSCORR); the SHADFILE
  must exist. ``cs1/getflags1.c`` checkShad: a primary PEDIGREE starting with
  DUMMY makes the step DUMMY (switch SKIPPED).
* ``cs1/do2d.c``: the step runs after FLATCORR and before PHOTCORR.
* ``cs1/doshad.c``: EXPTIME <= 0 sets the switch SKIPPED. Otherwise, with
  ``t = (float)(EXPTIME / NCOMBINE)`` (EXPTIME a double, from the imset's SCI
  header), imset 1 of the SHADFILE is matched to the science pixels like a
  flat (``FindBin``; averaged over each bin with ``bin2d``: the same cut as
  FLATCORR's), then ``multk2d`` by ``k = (float)(1. / t)`` (SCI and ERR; not
  when k == 1), ``addk2d`` 1 (SCI only) and the science imset is divided by
  the result with ``div2d``: ``SCI / (1 + S/t)``, ERR propagated, DQ ORed, a
  zero divisor flagged CALIBDEFECT. The SHADFILE's SCI is in seconds.
"""

import numpy as np

from reference_impl.imset import Imset
from reference_impl.steps.flatcorr import apply_flat

__all__ = ["shading_divisor", "shading_scale", "correct_shutter_shading"]


def shading_scale(exptime_s: float, ncombine: int) -> np.float32:
    """``k = (float)(1. / (float)(EXPTIME / NCOMBINE))`` as doshad.c computes it."""
    t = np.float32(float(exptime_s) / int(ncombine))
    return np.float32(1.0 / float(t))


def shading_divisor(shade: Imset, k: np.float32) -> Imset:
    """
    ``1 + k * S`` with ``k * ERR`` (multk2d then addk2d, float32).

    Parameters
    ----------
    shade : Imset
        The SHADFILE matched to the science pixels, seconds.
    k : numpy.float32
        `shading_scale`.
    """
    sci, err = shade.sci, shade.err
    if k != np.float32(1.0):
        sci = (k * sci).astype(np.float32)
        err = (k * err).astype(np.float32)
    sci = (np.float32(1.0) + sci).astype(np.float32)
    return Imset(sci, err, shade.dq)


def correct_shutter_shading(science: Imset, shade: Imset, *, exptime_s: float, ncombine: int):
    """
    Divide by ``1 + S / (EXPTIME / NCOMBINE)`` (doshad.c).

    Parameters
    ----------
    science : Imset
        SCI, ERR (DN) float32, DQ int16, overscan trimmed.
    shade : Imset
        SHADFILE imset 1 cut to the science pixels (bin-averaged), seconds.
    exptime_s : float
        EXPTIME of the imset as calstis reads it (double), > 0.
    ncombine : int
        NCOMBINE of the imset.

    Returns
    -------
    Imset
        New arrays (div2d: `reference_impl.steps.flatcorr.apply_flat`).
    """
    return apply_flat(science, shading_divisor(shade, shading_scale(exptime_s, ncombine)))
