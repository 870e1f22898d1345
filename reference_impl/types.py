"""Data types shared by io/, the steps and pipeline.py, so no import runs back up.

io/ builds these (``BadPixelRun`` from a BPIXTAB, ``CRRejectParameters`` from a
CRREJTAB, ``AtodRow`` from an ATODTAB, ``PhotTable``/``PhotRow`` from an
IMPHTTAB, ``TdsRow`` from a TDSTAB) and writes ``Product``; the steps and
``pipeline.py`` use them. This module imports nothing from io/, steps/ or
pipeline.py.
"""

import re
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from reference_impl.imset import Imset

__all__ = [
    "EXTENSION_QUANTITIES",
    "AtodRow",
    "BadPixelRun",
    "CRRejectParameters",
    "OutputImset",
    "PhotRow",
    "PhotTable",
    "Product",
    "RunResult",
    "TdsRow",
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


@dataclass(frozen=True)
class AtodRow:
    """One ATODTAB row.

    Attributes
    ----------
    ccdamp : str
    ccdgain : int
    ref_key : str
        SCI-header keyword compared with ``ref_key_value``.
    ref_key_value : float
    pedigree : str
    atod : ndarray of float32 or None
        The first NELEM values of the ATOD column (None when the row's array
        is shorter than NELEM: calstis stops if that row is chosen).
    has_pedigree : bool
        The table has a PEDIGREE column (then the row's value replaces the
        header's in HISTORY, rowpedigree.c).
    descrip : str or None
        The row's DESCRIP (HISTORY's second description), None without the column.
    """

    ccdamp: str
    ccdgain: int
    ref_key: str
    ref_key_value: float
    pedigree: str
    atod: NDArray[np.float32] | None
    has_pedigree: bool = False
    descrip: str | None = None


@dataclass(frozen=True)
class PhotRow:
    """One IMPHTTAB row as getphttab.c ReadPhotArray reads it.

    Attributes
    ----------
    obsmode : str
    pedigree : str
    nelem : tuple of int
        NELEM1..NELEMn (empty for a scalar row).
    parnames : tuple of str
        PAR1NAMES..PARnNAMES.
    parvals : tuple of tuple of float
        The first NELEMk values of PARkVALUES.
    results : tuple of float
        The result, or the first prod(NELEMk) values of the result array
        (first parameter varying fastest).
    failure : str
        Why calstis cannot read this row (a missing column): if it is the
        matching row, the look-up fails and PHOTCORR is SKIPPED.
    unsupported : str
        Why the reference cannot say what calstis does with this row (it
        reads outside its arrays); raised if it is the matching row.
    """

    obsmode: str
    pedigree: str = ""
    nelem: tuple = ()
    parnames: tuple = ()
    parvals: tuple = ()
    results: tuple = (0.0,)
    failure: str = ""
    unsupported: str = ""

    @property
    def ndim(self) -> int:
        """Number of parameters of the row."""
        return len(self.nelem)


@dataclass(frozen=True)
class PhotTable:
    """The parts of an IMPHTTAB calstis reads.

    Attributes
    ----------
    photzpt : float
        Primary PHOTZPT.
    extrap : bool
        Primary EXTRAP (default False): extrapolate an ``mjd#`` outside the table.
    extensions : dict
        Quantity (``"PHOTFLAM"``...) -> list of `PhotRow`, or -> str saying
        why calstis cannot read it (a missing column or extension), for the
        extensions 1..NEXTEND.
    """

    photzpt: float
    extrap: bool
    extensions: dict = field(default_factory=dict)


#: getphttab.c photnames[1:]: extension k (1-based) of the IMPHTTAB holds this quantity.
EXTENSION_QUANTITIES = ("PHOTFLAM", "PHOTPLAM", "PHOTBW", "PHTFLAM1", "PHTFLAM2")


@dataclass(frozen=True)
class TdsRow:
    """The TDSTAB row calstis uses (gettds1.c): float64 arrays of NWL values.

    ``ref_temp`` is -1 and ``temp_sens`` zeros when the table has no REFTEMP
    or TEMPSENS column.
    """

    wavelength: tuple
    temp_sens: tuple
    ref_temp: float


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
