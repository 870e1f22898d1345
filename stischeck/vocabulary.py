"""Words the harness shares: verdicts and their rank, the SDQFLAGS default, timeouts.

One module so the ranking, the calstis defaults and the time limits are written
once; the other modules import them from here.
"""

from __future__ import annotations

import enum

__all__ = ["DEFAULT_SDQFLAGS", "DEFAULT_TIMEOUT_S", "Verdict", "verdict_rank"]

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
