"""FITS header cards and headers for the reference's readers and writer, without astropy.

Why not astropy's ``Header``: importing ``astropy.io.fits`` costs about 0.3 s
(it imports ``astropy.units``), as long as the whole reference pipeline on a
full-frame CR-SPLIT=2 exposure; ``stischeck reference`` is measured as a whole
process against cs0.e (issue 17, ``benchmarks/bench_pipeline.py``). The reference
needs only what this module gives: the 80-character card images as read (they
are written back as they are, the way hstio copies them), and the values and
comments of the value cards, parsed as astropy parses them (FITS standard 4.0
§4.2). Every card whose value this parser does not recognise is handed to
astropy on first access (`Card.value`), so an odd card is never given a value
astropy would not give it. ``tests/unit/test_fitsheader.py`` checks keyword,
value, type and comment against astropy on every card of the corpus, the real
STIS headers and the reference files.

Only the part of astropy's interface the reference uses is here: ``get``,
``[key]``, ``in``, ``index``, ``cards`` (also indexed by keyword), ``insert``,
``append``, ``del``, ``len`` and ``copy``.
"""

from __future__ import annotations

import re

__all__ = ["Card", "Header", "UNDEFINED", "header_from_text"]

_CARD = 80
_COMMENTARY = frozenset({"COMMENT", "HISTORY", ""})
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][+-]?\d+)?")


class _Undefined:
    """The value of a value card with an empty value field (astropy's ``UNDEFINED``)."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()
_UNPARSED = object()


def _string_end(field: str) -> int | None:
    """Index of the closing quote of the string starting at ``field[0]``, or None."""
    k = 1
    while k < len(field):
        if field[k] == "'":
            if k + 1 < len(field) and field[k + 1] == "'":
                k += 2
                continue
            return k
        k += 1
    return None


def _parse_value_field(field: str):
    """(value, comment) of columns 11-80 of a value card; value `_UNPARSED` if not standard."""
    text = field.lstrip()
    if text.startswith("'"):
        end = _string_end(text)
        if end is None:
            return _UNPARSED, ""
        rest = text[end + 1 :].lstrip()
        if rest and not rest.startswith("/"):
            return _UNPARSED, ""
        value = text[1:end].replace("''", "'").rstrip()
        return value, rest[1:].strip() if rest else ""
    token, slash, comment = text.partition("/")
    token = token.strip()
    comment = comment.strip() if slash else ""
    if token == "":
        return UNDEFINED, comment
    if token in ("T", "F"):
        return token == "T", comment
    if _INT.fullmatch(token):
        return int(token), comment
    if _FLOAT.fullmatch(token):
        return float(token.replace("D", "E").replace("d", "e")), comment
    return _UNPARSED, ""


class Card:
    """One 80-character header card: its image as read, keyword, value and comment.

    Attributes
    ----------
    image : str
        The 80 characters (several cards' worth for a long HISTORY, as astropy
        gives a long commentary card).
    keyword : str
        Columns 1-8 without trailing blanks, upper case.
    comment : str
        The comment of a value card, stripped; "" for commentary cards.
    """

    __slots__ = ("image", "keyword", "comment", "_value")

    def __init__(self, image: str):
        self.image = image
        self.keyword = image[:8].rstrip().upper()
        if self.keyword not in _COMMENTARY and image[8:10] == "= ":
            self._value, self.comment = _parse_value_field(image[10:_CARD])
        else:
            self._value, self.comment = image[8:].rstrip(), ""

    @classmethod
    def fromstring(cls, image: str) -> Card:
        """The card of an image, padded or cut to 80 characters."""
        return cls(image[:_CARD].ljust(_CARD))

    @classmethod
    def commentary(cls, keyword: str, text: str) -> Card:
        """A HISTORY or COMMENT card; text beyond 72 characters continues on further cards.

        That is how astropy lays out ``Card("HISTORY", text)``, which this replaces.
        """
        chunks = [text[k : k + 72] for k in range(0, len(text), 72)] or [""]
        return cls("".join(f"{keyword:8}{chunk}".ljust(_CARD) for chunk in chunks))

    @property
    def value(self):
        """The value as astropy gives it (str, bool, int, float or `UNDEFINED`)."""
        if self._value is _UNPARSED:
            from astropy.io import fits  # a card this parser does not know: astropy decides

            image = self.image if len(self.image) > _CARD else self.image[:_CARD]
            self._value = fits.Card.fromstring(image).value
        return self._value

    def __repr__(self) -> str:
        return self.image.rstrip()


class _Cards(list):
    """The cards of a header; ``cards["EXPTIME"]`` is the first card with that keyword."""

    def __getitem__(self, key):
        if isinstance(key, str):
            key = _index(self, key)
        return list.__getitem__(self, key)


def _index(cards, key: str) -> int:
    key = key.upper()
    for k, card in enumerate(cards):
        if card.keyword == key:
            return k
    raise KeyError(f"Keyword {key!r} not found.")


class Header:
    """An ordered list of `Card` with the lookups of astropy's ``Header`` the reference uses."""

    def __init__(self, cards=()):
        self._cards = _Cards(cards)

    @property
    def cards(self) -> _Cards:
        """The cards in order (a list; a keyword indexes its first card)."""
        return self._cards

    def __len__(self) -> int:
        return len(self._cards)

    def __contains__(self, key) -> bool:
        key = str(key).upper()
        return any(card.keyword == key for card in self._cards)

    def index(self, key: str) -> int:
        """Position of the first card with ``key``; KeyError if none."""
        return _index(self._cards, key)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._cards[key].value
        return self._cards[_index(self._cards, key)].value

    def get(self, key: str, default=None):
        """The value of the first card with ``key``, or ``default``."""
        key = key.upper()
        for card in self._cards:
            if card.keyword == key:
                return card.value
        return default

    def __delitem__(self, key) -> None:
        if isinstance(key, str):
            key = _index(self._cards, key)
        del self._cards[key]

    def insert(self, index: int, card: Card) -> None:
        """Insert ``card`` before position ``index`` (blank cards are never reused)."""
        self._cards.insert(index, card)

    def append(self, card: Card) -> None:
        """Append ``card`` after the last card (blank cards are never reused)."""
        self._cards.append(card)

    def copy(self) -> Header:
        """A new header with the same cards (cards are not modified in place, so shared)."""
        return Header(self._cards)

    def tostring(self, *, endcard: bool = True, padding: bool = True) -> str:
        """The card images, then END and blank padding to 2880 characters (as astropy's)."""
        text = "".join(card.image for card in self._cards)
        if endcard:
            text += "END".ljust(_CARD)
        if padding:
            text += " " * (-len(text) % 2880)
        return text


def header_from_text(text: str) -> Header:
    """
    The header of FITS header text: its cards up to, not including, END.

    Parameters
    ----------
    text : str
        ASCII header text, a multiple of 80 characters, ending with an END
        card and blank padding.

    Returns
    -------
    Header
    """
    cards = []
    for k in range(0, len(text) - _CARD + 1, _CARD):
        image = text[k : k + _CARD]
        if image[:8] == "END     ":
            break
        if image[:8] == "CONTINUE" and cards:
            # A long string continued (FITS 4.0 §4.2.1.2): one card of several images, as
            # astropy groups them; its value is astropy's to give.
            cards[-1] = Card(cards[-1].image + image)
            cards[-1]._value = _UNPARSED
            continue
        cards.append(Card(image))
    return Header(cards)
