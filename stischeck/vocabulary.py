"""Words the harness shares, each written once.

Verdicts and their rank, the switches, the reference-file keywords, the
SDQFLAGS default, timeouts and the rootname rule. It imports nothing from
the project (the judge and the runners both use it).
"""

from __future__ import annotations

import enum
from pathlib import Path

__all__ = [
    "CALIBRATION_SWITCHES",
    "DEFAULT_SDQFLAGS",
    "DEFAULT_TIMEOUT_S",
    "HEADER_SWITCHES",
    "LADDER",
    "REFERENCE_KEYWORDS",
    "Verdict",
    "rootname",
    "verdict_rank",
]

#: The cumulative ladder of the 2-D CCD reduction, in calstis's order (spec §1.1).
LADDER = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")
#: Every calibration switch a STIS raw header carries; all OMIT unless a configuration says.
CALIBRATION_SWITCHES = (
    "DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR", "CRCORR", "RPTCORR", "EXPSCORR",
    "DARKCORR", "FLATCORR", "SHADCORR", "PHOTCORR", "WAVECORR", "X1DCORR", "BACKCORR",
    "HELCORR", "DISPCORR", "FLUXCORR", "CTECORR", "SC2DCORR", "X2DCORR", "GEOCORR",
    "SGEOCORR", "LORSCORR", "GLINCORR", "LFLGCORR", "DOPPCORR",
)  # fmt: skip
#: The calstis1/calstis2 CCD switches the HEADER configuration takes from the raw header.
HEADER_SWITCHES = (
    "DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR", "CRCORR", "RPTCORR", "EXPSCORR",
    "DARKCORR", "FLATCORR", "SHADCORR", "PHOTCORR",
)  # fmt: skip
#: Reference-file keywords of the 2-D CCD steps (spec §1.3), in the raw primary header.
REFERENCE_KEYWORDS = (
    "CCDTAB", "BPIXTAB", "CRREJTAB", "BIASFILE", "DARKFILE", "PFLTFILE", "DFLTFILE",
    "LFLTFILE", "ATODTAB", "SHADFILE", "IMPHTTAB", "TDSTAB",
)  # fmt: skip

#: SDQFLAGS when a header has none: calstis's default, 15 bits set (32767).
#: hstcal pkg/stis/lib/cs1/getgrpinfo1.c reads ``Get_KeyI(hdr, "SDQFLAGS", use_def, 32767, ...)``
#: and calstis1.c, calstis4.c, calstis7.c, calstis8.c initialise ``sdqflags = 32767``.
DEFAULT_SDQFLAGS = 32767

#: Time limit of one cs0.e (or reference) run, seconds.
DEFAULT_TIMEOUT_S = 600.0


class Verdict(enum.Enum):
    """Outcome of comparing one product; ``rank`` orders them from best to worst."""

    IDENTICAL = ("identical", 0)
    AGREE = ("agree", 1)
    EMPTY = ("empty", 1)
    DIFFER = ("differ", 2)
    ERROR = ("error", 3)

    def __init__(self, word: str, rank: int) -> None:
        self.word = word
        self.rank = rank

    def __str__(self) -> str:
        return self.word

    @classmethod
    def from_word(cls, word: str) -> Verdict:
        """The verdict spelled ``word`` (``"identical"``, ``"agree"``, ...)."""
        for v in cls:
            if v.word == word:
                return v
        raise ValueError(f"unknown verdict {word!r}")


def verdict_rank(word: str, unknown: int = Verdict.ERROR.rank) -> int:
    """Rank of the verdict spelled ``word``; ``unknown`` for a word that is none."""
    try:
        return Verdict.from_word(str(word)).rank
    except ValueError:
        return unknown


def rootname(header, path) -> str:
    """
    The data set's rootname: ROOTNAME from the raw primary header, lower case.

    Where the header has none, or a blank one, the file name up to its first
    ``_`` (``o8k401010_raw.fits`` -> ``o8k401010``), as calstis names products.

    Parameters
    ----------
    header : mapping
        The raw primary header (anything with ``.get``), or None.
    path : str or Path
        The raw file.
    """
    value = header.get("ROOTNAME", "") if header is not None else ""
    value = str(value).strip().lower()
    return value or Path(path).name.split("_")[0].split(".fits")[0].lower()
