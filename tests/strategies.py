"""Hypothesis strategies: synthetic data-set parameters, small float32 frames, DQ bits, references.

Sizes stay small so that a property runs in milliseconds; the data-set
strategy leans to the cheap readouts (small subarrays, binned frames) and
draws a full unbinned frame now and then. `budget` gives a test its example
count in the ``ci`` profile and leaves the ``thorough`` profile's count alone.
"""

import os

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference_impl.imset import Imset
from stischeck.synth import APERTURES, SynthParams

#: Every DQ bit calstis knows (stisdq.h), as int16 values.
DQ_BITS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)


def budget(ci: int, **kw) -> settings:
    """``settings(max_examples=ci)`` in the ``ci`` profile; the profile's own count otherwise."""
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci":
        return settings(max_examples=ci, **kw)
    return settings(**kw)


# --- data sets ---------------------------------------------------------------------------

_IMAGING = [a for a, v in APERTURES.items() if v[1] == "IMAGING"]
_SPECTRO = [a for a, v in APERTURES.items() if v[1] == "SPECTROSCOPIC"]
_BINNINGS = [(4, 4), (2, 2), (4, 2), (2, 4), (4, 1), (1, 4), (2, 1), (1, 2)]


#: Binnings whose full frames are small (at most 271 x 522 raw pixels): fast on both sides.
_SMALL_BINNINGS = [(4, 4), (4, 2), (2, 4)]


@st.composite
def readouts(draw, *, size: str = "small"):
    """
    ``(binning, subarray)`` of a readout.

    ``size="small"``: subarrays of 4-40 rows and the 4x4, 4x2, 2x4 binned full
    frames (about a second per calstis run); ``"any"`` adds 64-row subarrays,
    every binning and, now and then, the unbinned 1062 x 1044 full frame.
    """
    kinds = ["sub", "bin"] if size == "small" else ["sub", "bin"] * 4 + ["full"]
    kind = draw(st.sampled_from(kinds))
    if kind == "sub":
        n = draw(st.integers(4, 40 if size == "small" else 64))
        first = draw(st.integers(1, 1025 - n))
        return (1, 1), (first, n)
    if kind == "bin":
        return draw(st.sampled_from(_SMALL_BINNINGS if size == "small" else _BINNINGS)), None
    return (1, 1), None


@st.composite
def dataset_params(draw, *, size: str = "small") -> SynthParams:
    """Parameters of a synthetic data set, covering every option `stischeck synth` has.

    ``size`` as in `readouts`.
    """
    binning, subarray = draw(readouts(size=size))
    obstype = draw(st.sampled_from(["IMAGING", "SPECTROSCOPIC"]))
    aperture = draw(st.sampled_from(_IMAGING if obstype == "IMAGING" else _SPECTRO))
    side1 = draw(st.booleans())
    occ = None
    if not side1 and draw(st.integers(0, 9)) > 0:
        occ = draw(st.sampled_from([19.0, 17.5, 21.3, 23.9]))
    return SynthParams(
        seed=draw(st.integers(0, 2**16)),
        obstype=obstype,
        aperture=aperture,
        amp=draw(st.sampled_from("DABC")),
        gain=draw(st.sampled_from([1, 4])),
        binning=binning,
        subarray=subarray,
        crsplit=draw(st.sampled_from([2, 1, 3, 4, 8])),
        nrptexp=draw(st.sampled_from([1, 2, 3])),
        exptime_s=draw(st.sampled_from([600.0, 20.0, 100.0, 1200.0, 3000.0, 9000.0])),
        expstart_mjd=51650.4 if side1 else draw(st.sampled_from([58500.25, 52091.0, 55000.7])),
        occdhtav_c=occ,
        cr_rate=draw(st.sampled_from([1.2, 0.0, 0.4, 3.0, 12.0])),
        n_stars=draw(st.sampled_from([80, 0, 300])),
        n_saturated=draw(st.integers(0, 4)),
        dropouts=draw(st.sampled_from([0, 1, 4])),
        n_flat_zero=draw(st.sampled_from([0, 5, 200])),
        n_new_hot_pixels=draw(st.sampled_from([20, 0, 200])),
        skysub=draw(st.sampled_from(["mode", "none"])),
        expscorr=draw(st.booleans()),
    )


# --- frames and bitfields ----------------------------------------------------------------

shapes = st.tuples(st.integers(1, 12), st.integers(1, 12))
#: float32 values of raw-to-calibrated CCD data, DN.
dn_values = st.floats(-1e4, 6.6e4, width=32, allow_nan=False)


def frames(shape, elements=dn_values):
    """float32 arrays of ``shape`` with ``elements``."""
    return arrays(np.float32, shape, elements=elements)


def dq_arrays(shape):
    """int16 DQ arrays whose pixels OR together any subset of the STIS bits."""
    bits = st.lists(st.sampled_from(DQ_BITS), max_size=4).map(
        lambda b: int(np.bitwise_or.reduce(b or [0]))
    )
    return arrays(np.int16, shape, elements=bits.map(lambda v: v - 65536 if v > 32767 else v))


@st.composite
def imsets(draw, shape=None, *, err_zero: bool = False, elements=dn_values):
    """An `Imset`: SCI in DN, ERR >= 0 (or all zero), DQ with random bits."""
    shape = shape or draw(shapes)
    sci = draw(frames(shape, elements))
    if err_zero:
        err = np.zeros(shape, np.float32)
    else:
        err = draw(frames(shape, st.floats(0.0, 300.0, width=32)))
    return Imset(sci, err, draw(dq_arrays(shape)))


@st.composite
def reference_imsets(draw, shape, *, kind: str):
    """A reference image cut to the science: ``bias`` (DN), ``dark`` (e-/s) or ``flat``."""
    values = {
        "bias": st.floats(-20.0, 20.0, width=32),
        "dark": st.floats(0.0, 10.0, width=32),
        "flat": st.floats(0.25, 2.0, width=32),
    }[kind]
    sci = draw(frames(shape, values))
    err = draw(frames(shape, st.floats(0.0, 0.5, width=32)))
    return Imset(sci, err, draw(dq_arrays(shape)))


@st.composite
def cs1_dataset_params(draw, *, size: str = "small") -> SynthParams:
    """`dataset_params` with ATODCORR, SHADCORR and PHOTCORR drawn too (every table variant)."""
    from dataclasses import replace

    from stischeck.synth.photometry import (
        ATODTAB_KINDS,
        IMPHTTAB_KINDS,
        SHADFILE_KINDS,
        TDSTAB_KINDS,
    )

    base = draw(dataset_params(size=size))
    return replace(
        base,
        photcorr=draw(st.booleans()) or base.obstype == "IMAGING",
        imphttab=draw(st.sampled_from(list(IMPHTTAB_KINDS))),
        tdstab=draw(st.sampled_from(list(TDSTAB_KINDS))),
        atodcorr=draw(st.sampled_from([None, *ATODTAB_KINDS])),
        shadcorr=draw(st.sampled_from([None, *SHADFILE_KINDS])),
    )
