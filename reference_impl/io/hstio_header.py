"""Header cards as calstis's I/O library (hstio) reads and writes them.

Sources of the facts: hstcal ``hstio/hstio.c`` (``reservedKwds``, ``reservedCards``,
``getHeader``, ``putHeader``, ``openOutputImage``) and ``hstio/keyword.c``
(``putIntKw``, ``putFloatKw``, ``putDoubleKw``, ``putString``, ``addXxxKw``), read for
their behaviour, and experiments with cs0.e 3.5.0 (hstcal 5c1c1775) on real STIS raw
headers (tests/unit/test_hstio_header.py).

- the reserved keywords are dropped from every header hstio reads and never copied
  (BITPIX, BSCALE, BZERO, DATAMAX, DATAMIN, DATATYPE, DATE, EXTEND, GCOUNT, GROUPS,
  NAXIS, NAXISn, ORIGIN, PCOUNT, PDTYPEn, PSIZE, PSIZEn, PTYPEn, SIMPLE, XTENSION,
  and the two ``COMMENT   FITS (Flexible Image Transport System)`` cards);
- blank cards just before END are free space to cfitsio: never read;
- a header written starts with cfitsio's structural cards, then ``ORIGIN`` and
  ``DATE``; blank cards before the first non-blank card are dropped;
- every other card is copied as read: blank cards, section titles, padded strings;
- a keyword calstis sets is rewritten in place in hstio's format, its comment kept,
  or appended at the very end of the header when absent; HISTORY cards too go at
  the very end (``addHistoryKw``), after keywords appended before them.
"""

import datetime
import re

import numpy as np

from reference_impl.io.fitsheader import Card
from reference_impl.numerics import DoubleKeyword

__all__ = [
    "RESERVED_CARDS",
    "add_history",
    "apply_history",
    "card_image",
    "clean",
    "date_card",
    "delete",
    "hstio_value",
    "is_reserved",
    "origin_card",
    "put",
    "strip_leading_blanks",
]


def card_image(card) -> str:
    """The 80 characters of a card (`reference_impl.io.fitsheader.Card.image`)."""
    return card.image


#: hstio's reserved keywords (hstio.c, ``reservedKwds``): never copied from a header.
_RESERVED = re.compile(
    r"(BITPIX|BSCALE|BZERO|DATAMAX|DATAMIN|DATATYPE|DATE|EXTEND|GCOUNT|GROUPS|NAXIS|"
    r"NAXIS\d|ORIGIN|PCOUNT|PDTYPE\d|PSIZE|PSIZE\d|PTYPE\d|SIMPLE|XTENSION)"
)
#: hstio's reserved whole cards (hstio.c, ``reservedCards``), compared on 79 characters.
RESERVED_CARDS = (
    "COMMENT   FITS (Flexible Image Transport System) format is defined in 'Astronomy",
    "COMMENT   and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H ",
)
_ORIGIN = "ORIGIN  = 'HSTIO/CFITSIO March 2010' / FITS file originator"


def is_reserved(card) -> bool:
    """True for a card hstio drops when it reads or writes a header (hstio.c, isReservedKwd)."""
    if _RESERVED.fullmatch(card.keyword):
        return True
    if card.keyword == "COMMENT":
        return card_image(card)[:79] in (c[:79] for c in RESERVED_CARDS)
    return False


def clean(header):
    """Remove the cards hstio does not copy from ``header`` (a copy the caller owns), in place.

    The reserved keywords, and the blank cards just before END: cfitsio counts those
    as free header space, not as keywords, so hstio never reads them (found by
    experiment with cs0.e 3.5.0 on the real ACQ file octr11h4q, whose last DQ header
    ends with two blank cards).
    """
    for k in [k for k, card in enumerate(header.cards) if is_reserved(card)][::-1]:
        del header[k]
    while len(header) and not card_image(header.cards[-1]).strip():
        del header[-1]
    return header


def hstio_value(value) -> str:
    """The value field of a card as hstio writes it (keyword.c, putXxxKw).

    ``bool`` -> ``T``/``F`` in column 30; integers ``%12d`` ending in column 30;
    doubles (`reference_impl.numerics.DoubleKeyword`, numpy float64) ``%#20.12E``;
    other floats (float keywords, already rounded to 8 digits) ``%#14.7E``, both
    ending in column 30; strings quoted, blank-padded to at least 8 characters.
    """
    if isinstance(value, (bool, np.bool_)):
        return f"{'T' if value else 'F':>20}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):>20d}"
    if isinstance(value, (DoubleKeyword, np.float64)):
        return f"{float(value):#20.12E}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):#20.7E}"
    text = str(value).replace("'", "''")[:68]
    return f"'{text:8}'".ljust(20)


#: Comments calstis gives the keywords it adds to a header that lacks them
#: (crrej_do.c; IMSET_OK: do2d.c, found by experiment with cs0.e 3.5.0 on a real ACQ/PEAK
#: file whose SCI is all zero); every other keyword is added with an empty comment
#: (``putKeyX(..., "")``).
ADDED_COMMENTS = {
    "SKYSUM": "Total sky level (DN)",
    "REJ_RATE": "Cosmic ray impact rate (pixels/sec)",
    "IMSET_OK": "is the current imset good?",
}


def put(header, key: str, value) -> None:
    """Set a keyword as hstio's putKeyX does: in place (comment kept) or appended at the end.

    ``value`` may be ``(value, comment)``; the comment is used only when the card is added.
    """
    comment = ADDED_COMMENTS.get(key, "")
    if isinstance(value, tuple):
        value, comment = value
    field = hstio_value(value)
    if key in header:
        k = header.index(key)
        old = card_image(header.cards[k])
        if isinstance(value, str) or len(field) > 20:
            # putStringKw: the value, then putKwComm puts " / " and the old comment
            # (empty or not) at column 31 or right after the value.
            image = f"{f'{key:8}= {field}':30} / {header.cards[k].comment}"
        else:
            image = f"{key:8}= {field} {old[31:]}"
        del header[k]
        header.insert(k, Card.fromstring(image))
        return
    image = f"{f'{key:8}= {field}':30} / {comment}"
    header.append(Card.fromstring(image))


def add_history(header, text: str) -> None:
    """Append a HISTORY card at the very end, as hstio's addHistoryKw does.

    astropy's ``add_history`` would put it after the last HISTORY card, before
    keywords appended since. Text beyond 72 characters continues on further cards.
    """
    header.append(Card.commentary("HISTORY", text))


def apply_history(header, entries) -> None:
    """Append HISTORY text and set ``(keyword, value)`` pairs, in the order calstis does.

    A step sets its keywords before its HISTORY is logged (dophot.c before
    photHistory): a keyword the header lacks lands after the HISTORY written so far.
    """
    for entry in entries:
        if isinstance(entry, tuple):
            put(header, *entry)
        else:
            add_history(header, entry)


def delete(header, key: str) -> None:
    """Remove a keyword if the header has it (hstio delKw)."""
    if key in header:
        del header[key]


def strip_leading_blanks(cards: list) -> list:
    """Hstio's putHeader skips blank cards before the first non-blank one."""
    k = 0
    while k < len(cards) and not card_image(cards[k]).strip():
        k += 1
    return cards[k:]


def date_card():
    """``DATE`` as hstio writes it: the local date, comment right after the value (hstio.c)."""
    today = datetime.datetime.now().strftime("%Y-%m-%d")
    return Card.fromstring(f"DATE    = '{today}' / date this file was written (yyyy-mm-dd)")


def origin_card():
    """``ORIGIN`` as hstio writes it after the structural cards."""
    return Card.fromstring(_ORIGIN)
