"""ATODCORR: the analog-to-digital correction table look-up (hstcal ``cs1/doatod.c``).

The spec (``docs/calstis-ccd-2d.md``) does not cover this step; the facts here
were read from hstcal 5c1c1775 and checked against cs0.e 3.5.0
(tests/differential/test_cs1_rest_vs_live_calstis.py).

What calstis does
-----------------
* ``cs0/calstis0.c``, ``cs0/sciflags.c``: ATODCORR belongs to the part of
  calstis1 that runs before cosmic-ray rejection (with DQICORR, BLEVCORR,
  BIASCORR); the ATODTAB must exist. ``cs1/getflags1.c`` checkAtoD: a header
  PEDIGREE starting with DUMMY makes the step DUMMY (switch SKIPPED).
* ``cs1/do2d.c``: the step runs after DQICORR and before BLEVCORR, on each
  imset.
* ``cs1/doatod.c``: NCOMBINE > 1 is an error. Among the rows whose CCDAMP is
  the exposure's amplifier (or ``ANY``) and whose CCDGAIN is its gain (or
  -1), the row with the smallest ``|value - REF_KEY_VALUE|`` is used (the
  first one on a tie), where ``value`` is the imset's SCI-header keyword named
  by the row's REF_KEY (a missing keyword is an error). No such row: an
  error. The row's PEDIGREE starting with DUMMY makes the switch DUMMY from
  this imset on (SKIPPED if it is the first imset) and leaves the imset
  unchanged. Otherwise each SCI pixel, truncated to an int, indexes the row's
  ATOD array (NELEM float32 values): ``ival >= NELEM`` gives ``ATOD[NELEM-1]``
  and DQ ``|= SATPIXEL`` (256); ``0 <= ival < NELEM`` gives ``ATOD[ival]``;
  negative values are left alone. ERR is not touched.
"""

import numpy as np
from numpy.typing import NDArray

from reference_impl.imset import Imset
from reference_impl.types import AtodRow  # noqa: F401 (re-exported)

__all__ = ["SATPIXEL", "AtodRow", "apply_atod", "select_atod_row"]

#: stisdq.h: saturated pixel.
SATPIXEL = 256
#: sameint.c wildcards.
_ANY_AMP, _ANY_GAIN = "ANY", -1


def select_atod_row(rows, *, ccdamp: str, ccdgain: int, key_value) -> int | None:
    """
    Index of the row doatod.c uses, or None when no row has the amp and gain.

    Parameters
    ----------
    rows : sequence of AtodRow
    ccdamp : str
    ccdgain : int
    key_value : callable
        ``key_value(name)`` -> the imset's header value of keyword ``name`` as
        a double (it raises for a missing keyword, as calstis stops).
    """
    best, best_dt = None, None
    for k, row in enumerate(rows):
        amp_ok = row.ccdamp == _ANY_AMP or row.ccdamp == ccdamp
        gain_ok = row.ccdgain == _ANY_GAIN or row.ccdgain == ccdgain
        if not (amp_ok and gain_ok):
            continue
        dt = abs(key_value(row.ref_key) - row.ref_key_value)
        if best is None or dt < best_dt:
            best, best_dt = k, dt
    return best


def apply_atod(science: Imset, atod: NDArray[np.float32]) -> Imset:
    """
    Replace each SCI value by the ATOD correction it indexes (doatod.c).

    Parameters
    ----------
    science : Imset
        SCI float32 holding raw integers (DN), DQ int16; ERR passes through.
    atod : ndarray of float32, shape (NELEM,)

    Returns
    -------
    Imset
        New SCI and DQ (SATPIXEL added where ``int(SCI) >= NELEM``); the same ERR.
    """
    atod = np.asarray(atod, dtype=np.float32)
    nelem = atod.size
    ival = science.sci.astype(np.int64)  # C (int) cast: truncation toward zero
    high = ival >= nelem
    inside = (ival >= 0) & ~high
    sci = science.sci.copy()
    sci[inside] = atod[ival[inside]]
    sci[high] = atod[nelem - 1]
    dq = science.dq.copy()
    dq[high] |= np.int16(SATPIXEL)
    return Imset(sci, science.err, dq)
