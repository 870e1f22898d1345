"""A FITS header as its stored cards, parsed by astropy only where a value is needed.

Two agreeing products have headers whose cards are the same text, and the
comparator then needs no card's value (`stischeck.diff.headers` compares
stored images first); what it does need is a dozen structural values (BITPIX,
NAXISn, EXTNAME, EXTVER, SDQFLAGS, ...), all plain fixed-format numbers,
strings or logicals (FITS 4.0 section 4.2). Importing astropy.io.fits for
that costs 0.16-0.23 s of CPU (it imports astropy.units), and parsing every
card into an astropy ``Card`` 1 ms a header: a third of a whole ``stischeck
diff`` and, in ``stischeck compare``, CPU that cs0.e's runs need.

`stored_header` keeps a header of plain cards as a `StoredHeader`: each
card's keyword and 80-character text. A card's value is read when it is
first asked for: a fixed-format number, string or logical directly (the same
value and type as astropy's, tested on every card of the real and corpus
files), anything else by astropy (``Card.fromstring(image).value``). A header
with any card that is not plain (HIERARCH, CONTINUE, a lower-case or
non-ASCII keyword, a value card without ``= ``) is parsed by astropy whole,
as before.
"""

import math
import re

from stischeck.fits.cards import parse_value

__all__ = ["StoredCard", "StoredHeader", "stored_header"]

_CARD = 80
_COMMENTARY = frozenset({"", "COMMENT", "HISTORY"})
_KEYWORD = re.compile(r"[A-Z0-9_-]* *")
#: The kinds of `parse_value` read here (the same values and types as astropy's).
_READ_HERE = frozenset({"string", "logical", "integer", "real"})


class StoredCard:
    """
    One stored card: its keyword, its text, and its value as astropy parses it.

    Attributes
    ----------
    keyword : str
        Columns 1-8, blanks stripped (upper case: only such cards are kept).
    image : str
        The 80 characters as stored.
    """

    __slots__ = ("keyword", "image", "_value")

    _UNPARSED = object()

    def __init__(self, keyword: str, image: str):
        self.keyword = keyword
        self.image = image
        self._value = self._UNPARSED

    @property
    def value(self):
        """The card's value, as ``astropy.io.fits.Card.fromstring(image).value`` gives it.

        Commentary text (COMMENT, HISTORY, blank keyword) and a fixed-format
        string (trailing blanks removed, as astropy does by default), logical,
        integer or finite real (`stischeck.fits.cards.parse_value`) are read
        here; anything else by astropy.
        """
        if self._value is self._UNPARSED:
            self._value = self._parse()
        return self._value

    def _parse(self):
        if self.keyword in _COMMENTARY:
            return self.image[8:].rstrip()  # the text after the keyword, as astropy gives it
        parsed = parse_value(self.image[10:])
        if parsed is not None:
            kind, value = parsed
            if kind in _READ_HERE and (kind != "real" or math.isfinite(value)):
                return value
        from astropy.io import fits

        return fits.Card.fromstring(self.image).value


class StoredHeader:
    """
    The plain cards of one header, in order (END and what follows it left out).

    Looks up as ``astropy.io.fits.Header`` does for what the comparator asks:
    `get`, ``key in header``, ``header[key]`` (the first card of a keyword,
    case-insensitive) and `cards`.
    """

    def __init__(self, cards: tuple):
        self.cards = cards
        self._first = {}
        for card in cards:
            self._first.setdefault(card.keyword, card)

    def __contains__(self, key: str) -> bool:
        return key.upper() in self._first

    def __getitem__(self, key: str):
        try:
            return self._first[key.upper()].value
        except KeyError:
            raise KeyError(f"Keyword {key!r} not found.") from None

    def get(self, key: str, default=None):
        """The value of the first ``key`` card, or ``default``."""
        card = self._first.get(key.upper())
        return default if card is None else card.value

    def __len__(self) -> int:
        return len(self.cards)

    def tostring(self) -> str:
        """The header as stored: its cards, END, blank padding to a 2880-byte block."""
        text = "".join(card.image for card in self.cards) + "END".ljust(_CARD)
        return text.ljust(-(-len(text) // 2880) * 2880)


def stored_header(text: str):
    """
    A header from its stored text (cards up to and including END).

    Returns
    -------
    StoredHeader or astropy.io.fits.Header
        A `StoredHeader` when every card is plain (see the module docstring),
        else astropy's ``Header.fromstring(text)``.
    """
    cards = []
    for k in range(0, len(text), _CARD):
        image = text[k : k + _CARD]
        name = image[:8]
        if name == "END     ":
            return StoredHeader(tuple(cards))
        keyword = name.rstrip()
        plain = (
            len(image) == _CARD
            and image.isascii()
            and image.isprintable()
            and _KEYWORD.fullmatch(name) is not None
            and keyword not in ("HIERARCH", "CONTINUE")
            and (keyword in _COMMENTARY or image[8:10] == "= ")
        )
        if not plain:
            break
        cards.append(StoredCard(keyword, image))
    from astropy.io import fits

    return fits.Header.fromstring(text)
