"""Data types shared by io/, the steps and pipeline.py, so no import runs back up.

io/ builds these (``BadPixelRun`` from a BPIXTAB, ``CRRejectParameters`` from a
CRREJTAB) and writes ``Product``; the steps and ``pipeline.py`` use them. This
module imports nothing from io/, steps/ or pipeline.py.
"""

import re
from dataclasses import dataclass, field

import numpy as np

from reference_impl.imset import Imset

__all__ = [
    "BadPixelRun",
    "CRRejectParameters",
    "OutputImset",
    "Product",
    "RunResult",
    "parse_sigmas",
]


@dataclass(frozen=True)
class BadPixelRun:
    """One selected BPIXTAB row.

    Attributes
    ----------
    x0, y0 : int
        Zero-based start in reference coordinates (``PIX1 - 1``, ``PIX2 - 1``).
    length : int
        Number of pixels flagged (> 0).
    axis : int
        1 for a run along x, 2 along y.
    value : int
        DQ bits OR-ed into each pixel of the run.
    """

    x0: int
    y0: int
    length: int
    axis: int
    value: int


@dataclass(frozen=True)
class CRRejectParameters:
    """One CRREJTAB row, as calstis2 uses it.

    Attributes
    ----------
    sigmas : tuple of numpy.float32
        Rejection thresholds, one iteration each (CRSIGMAS parsed).
    sigmas_text : str
        CRSIGMAS as written in the table (echoed in the header).
    radius_pix : numpy.float32
        CRRADIUS, pixels.
    thresh : numpy.float32
        CRTHRESH, the spill threshold factor.
    initial : str
        ``"median"`` or ``"minimum"`` (first three letters decide).
    skysub : str
        ``"mode"`` or ``"none"`` (forced to none for spectroscopy by the caller).
    scalense_percent : numpy.float32
        SCALENSE, multiplicative noise in percent.
    badinpdq : int
        Input DQ bits excluded from the combination.
    crmask : bool
        Write the per-imset CR flags back into the inputs.
    """

    sigmas: tuple
    sigmas_text: str
    radius_pix: np.float32
    thresh: np.float32
    initial: str
    skysub: str
    scalense_percent: np.float32
    badinpdq: int
    crmask: bool


def parse_sigmas(text: str) -> tuple:
    """Parse CRSIGMAS (``"6,5,4"``; separators , ; / or blanks) into float32 values."""
    parts = [p for p in re.split(r"[,;/\s]+", text.strip()) if p]
    return tuple(np.float32(float(p)) for p in parts)


@dataclass
class OutputImset:
    """One imset of a product: arrays plus the keywords to set in each extension header.

    ``headers`` are the input imset's SCI, ERR and DQ headers ("SCI" -> Header),
    which the product's headers start from; the input's arrays are not kept.
    """

    imset: Imset
    headers: dict
    sci_keywords: dict = field(default_factory=dict)
    err_keywords: dict = field(default_factory=dict)
    dq_keywords: dict = field(default_factory=dict)
    all_keywords: dict = field(default_factory=dict)  # set in SCI, ERR and DQ
    #: What the steps did, for the primary HISTORY (blev_done, drift, noise_done).
    notes: dict = field(default_factory=dict)


@dataclass
class Product:
    """A calstis product the reference writes (``flt`` or ``crj``)."""

    suffix: str
    primary_keywords: dict
    #: HISTORY text in order, and ``(keyword, value)`` pairs set at that point of it.
    history: list
    imsets: list[OutputImset]
    #: Primary header of the file this product was made from (raw, _blv_tmp or _crj_tmp).
    base_header: object = None


@dataclass
class RunResult:
    """What a reference run produced.

    Attributes
    ----------
    products : list of Product
        Empty when calstis would write nothing (nothing to do).
    messages : list of str
        Warnings calstis would print, in words.
    nothing_to_do : str or None
        Why no product was written, when that is the outcome.
    notes : list of str
        Information about a normal run (the CR rejection's pixel count and sky), not warnings.
    """

    products: list[Product]
    messages: list[str]
    nothing_to_do: str | None = None
    notes: list[str] = field(default_factory=list)
