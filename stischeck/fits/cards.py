"""Primary-header cards of a raw file without astropy: read keywords, set switches, write copies.

`stischeck compare` must start cs0.e quickly, and importing astropy costs
0.3-0.6 s before anything else could happen. What the start needs from a raw
file is small: a few keyword values (INSTRUME, DETECTOR, ROOTNAME, EXPSCORR)
and copies of the file with string switch values changed. Both are plain FITS
card work (FITS 4.0 section 4: 80-character cards in 2880-byte blocks, fixed
format values), done here on the bytes, so that everything after the primary
header is copied through unchanged, byte for byte. Anything beyond that goes
through astropy as before.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from stischeck.fits.open import BLOCK, is_gzipped, read_file_bytes, read_leading_blocks

__all__ = [
    "PrimaryCards",
    "ends_header",
    "card_value",
    "parse_value",
    "read_primary_cards",
    "with_string_values",
    "extension_cards",
    "read_header_cards",
    "check_complete",
]

_CARD = 80
_END = "END" + " " * 77


def ends_header(block: bytes) -> bool:
    """True when a 2880-byte header block holds the END card."""
    end = _END.encode("ascii")
    return any(block[k : k + _CARD] == end for k in range(0, len(block), _CARD))


def _fits_string(text: str) -> str:
    """A FITS string value: quoted, quotes doubled, padded to at least 8 characters."""
    inner = text.replace("'", "''")
    return f"'{inner:<8}'"


@dataclass(frozen=True)
class PrimaryCards:
    """
    The primary header of a FITS file as its cards, and the bytes after it.

    Attributes
    ----------
    path : Path
        The file (``.fits`` or ``.fits.gz``).
    cards : tuple of str
        Every 80-character card up to, not including, END.
    rest : bytes or None
        Everything after the primary header's blocks (primary data, extensions),
        decompressed; None when read without it (``keep_rest=False``).
    """

    path: Path
    cards: tuple
    rest: bytes | None

    def __contains__(self, key: str) -> bool:
        return _find_card(self.cards, key) is not None

    def get(self, key: str, default=None):
        """A keyword's value (`card_value`); ``default`` if absent."""
        return card_value(self.cards, key, default)


def _find_card(cards, key: str) -> str | None:
    key = key.upper()
    for card in cards:
        if card[:8].rstrip() == key and card[8:10] == "= ":
            return card
    return None


#: A value field (columns 11-80) as FITS 4.0 section 4.2 writes it, then an optional comment.
_VALUE = re.compile(
    r"""^\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<logical>[TF])
      | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[EeDd][+-]?\d+)?)
      | (?P<complex>\(\s*[^,()]+,\s*[^,()]+\))
      | (?P<none>)
    )\s*(?:/.*)?$""",
    re.VERBOSE,
)
_INTEGER = re.compile(r"[+-]?\d+")


def parse_value(field: str) -> tuple[str, object] | None:
    """
    A card's value field (columns 11-80) read as FITS 4.0 section 4.2 writes values.

    Returns
    -------
    tuple or None
        ``(kind, value)``: ``("string", str)`` (quotes undoubled, trailing
        blanks removed), ``("logical", bool)``, ``("integer", int)``,
        ``("real", float)`` (E or D exponent, either case), ``("complex",
        its text)`` or ``("none", None)`` (no value); None when the field is
        none of these.
    """
    match = _VALUE.match(field)
    if match is None:
        return None
    if match["string"] is not None:
        return "string", match["string"][1:-1].replace("''", "'").rstrip()
    if match["logical"] is not None:
        return "logical", match["logical"] == "T"
    number = match["number"]
    if number is not None:
        if _INTEGER.fullmatch(number):
            return "integer", int(number)
        return "real", float(number.replace("D", "E").replace("d", "e"))
    if match["complex"] is not None:
        return "complex", match["complex"]
    return "none", None


#: The kinds of `parse_value` that `card_value` returns as values.
_SIMPLE_KINDS = frozenset({"string", "logical", "integer", "real"})


def card_value(cards, key: str, default=None):
    """
    A keyword's value in a header's cards: str (trailing blanks removed), bool, int or float.

    Only fixed-format values are read (`parse_value`: strings, logical T/F,
    integers and reals); a value of any other form is returned as its raw
    text. ``default`` when the keyword is absent or has no value.

    Parameters
    ----------
    cards : sequence of str
        80-character cards, as `PrimaryCards.cards` or one item of `extension_cards`.
    key : str
    default : optional
    """
    card = _find_card(cards, key)
    if card is None:
        return default
    parsed = parse_value(card[10:])
    if parsed is not None and parsed[0] in _SIMPLE_KINDS:
        return parsed[1]
    value = card[10:].split("/", 1)[0].strip()
    return value if value else default


def read_primary_cards(
    path: Path, *, error_cls, what: str = "file", keep_rest: bool = True
) -> PrimaryCards:
    """
    Read a FITS file's primary header cards and keep the rest of its bytes.

    ``keep_rest`` False reads only the primary header's blocks (for its
    keywords; a full-frame CRSPLIT = 8 raw file is 18 MB) and leaves
    ``rest`` None.

    Raises
    ------
    error_cls
        One line naming the file: missing, a directory, empty, not FITS
        (no SIMPLE card), or truncated inside the primary header.
    """
    path = Path(path)
    if keep_rest:
        data = read_file_bytes(path, error_cls=error_cls, what=what)
    else:
        data = read_leading_blocks(path, ends_header, error_cls=error_cls, what=what)
    if data[:8] != b"SIMPLE  ":
        raise error_cls(f"{path}: not a readable FITS {what} (no SIMPLE card: not a FITS file)")
    cards = []
    for start in range(0, len(data), _CARD):
        card = data[start : start + _CARD]
        if len(card) < _CARD:
            break
        text = card.decode("ascii", errors="replace")
        if text == _END:
            end = -(-(start + _CARD) // BLOCK) * BLOCK
            return PrimaryCards(path, tuple(cards), data[end:] if keep_rest else None)
        cards.append(text)
    raise error_cls(f"{path}: not a readable FITS {what} (file truncated inside a header)")


def with_string_values(primary: PrimaryCards, values: dict) -> bytes:
    """
    The whole file with string keyword values set in its primary header.

    An existing card keeps its place and its comment; an absent keyword is
    added before END (a header block is added when the last one is full).
    Every other card and every byte after the primary header are unchanged.

    Parameters
    ----------
    primary : PrimaryCards
    values : dict
        Keyword (at most 8 characters) -> string value (e.g. ``"PERFORM"``).

    Returns
    -------
    bytes
        The file's new content, uncompressed.
    """
    cards = list(primary.cards)
    index = {c[:8].rstrip(): k for k, c in reversed(list(enumerate(cards))) if c[8:10] == "= "}
    for key, value in values.items():
        key = key.upper()
        text = _fits_string(str(value))
        k = index.get(key)
        comment = ""
        if k is not None:
            comment = _comment(cards[k])
        card = f"{key:<8}= {text:<20}"
        if comment:
            card += f" / {comment}"
        card = f"{card[:_CARD]:<{_CARD}}"
        if k is None:
            cards.append(card)
            index[key] = len(cards) - 1
        else:
            cards[k] = card
    header = "".join(cards) + _END
    header += " " * (-len(header) % BLOCK)
    return header.encode("ascii") + primary.rest


def string_end(field: str) -> int:
    """Index of the quote that closes the FITS string opening ``field`` (``''`` is a quote).

    ``len(field)`` when the string is not closed.
    """
    k = 1
    while k < len(field):
        if field[k] == "'":
            if field[k + 1 : k + 2] != "'":
                return k
            k += 1
        k += 1
    return len(field)


def _comment(card: str) -> str:
    """The comment of a fixed-format card (after the value's ``/``), stripped."""
    field = card[10:]
    stripped = field.lstrip()
    if stripped.startswith("'"):
        rest = stripped[string_end(stripped) + 1 :]
    else:
        rest = stripped
    _, slash, comment = rest.partition("/")
    return comment.strip() if slash else ""


def _value(cards: list, key: str, default: int) -> int:
    for card in cards:
        if card[:8].rstrip() == key and card[8:10] == "= ":
            return int(card[10:].split("/", 1)[0].strip())
    return default


def _data_bytes(cards: list) -> int:
    """``|BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1 * ... * NAXISn)`` (FITS 4.0 section 4.4.1.1)."""
    naxis = _value(cards, "NAXIS", 0)
    if naxis == 0:
        return 0
    if not 0 < naxis <= 999:  # FITS 4.4.1.1; a damaged NAXIS must not loop for ever
        raise ValueError(f"NAXIS = {naxis} is out of range (0 to 999)")
    n = 1
    for k in range(1, naxis + 1):
        n *= _value(cards, f"NAXIS{k}", 0)
    bitpix = abs(_value(cards, "BITPIX", 8))
    return bitpix // 8 * _value(cards, "GCOUNT", 1) * (_value(cards, "PCOUNT", 0) + n)


def extension_cards(primary: PrimaryCards, *, error_cls, what: str = "file") -> list[tuple]:
    """
    The cards of every extension header after the primary one, checking that all data are there.

    Walks the headers after the primary one and adds up the data sizes their
    cards declare (padding of the last block may be short). Needs
    ``primary.rest`` (`read_primary_cards` with ``keep_rest=True``).

    Returns
    -------
    list of tuple of str
        One tuple of 80-character cards (END excluded) per extension, in file order.

    Raises
    ------
    error_cls
        One line naming the file when a header or data run past the end.
    """
    rest = primary.rest
    try:
        return _walk_extensions(lambda at, n: rest[at : at + n], len(rest), primary.cards)
    except ValueError as err:
        raise error_cls(f"{primary.path}: not a readable FITS {what} ({err})") from err


def read_header_cards(path, *, error_cls, what: str = "file") -> tuple[PrimaryCards, list[tuple]]:
    """
    Every header of a FITS file as its cards, reading no data.

    A plain file is read header block by header block, its data skipped by
    the sizes the cards declare and checked against the file's size; a
    ``.fits.gz`` is decompressed whole (`read_primary_cards`, `extension_cards`).

    Returns
    -------
    (PrimaryCards, list of tuple of str)
        The primary header (``rest`` None for a plain file) and each
        extension's cards, in file order.

    Raises
    ------
    error_cls
        One line naming the file: missing, not FITS, or truncated (a header
        or data declared past the end).
    """
    import os

    path = Path(path)
    if is_gzipped(path, error_cls=error_cls, what=what):
        primary = read_primary_cards(path, error_cls=error_cls, what=what)
        return primary, extension_cards(primary, error_cls=error_cls, what=what)
    primary = read_primary_cards(path, error_cls=error_cls, what=what, keep_rest=False)
    header_end = -(-(len(primary.cards) + 1) * _CARD // BLOCK) * BLOCK
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            cards = _walk_extensions(
                lambda at, n: os.pread(handle.fileno(), n, header_end + at),
                size - header_end,
                primary.cards,
            )
        except ValueError as err:
            raise error_cls(f"{path}: not a readable FITS {what} ({err})") from err
    return primary, cards


def _walk_extensions(read_at, size: int, primary_cards) -> list[tuple]:
    """
    The extension headers' cards, from the end of the primary header.

    ``read_at(offset, n)`` gives the bytes at ``offset`` after the primary
    header (fewer at the end), ``size`` how many there are. Raises ValueError
    naming what runs past the end.
    """
    primary_data = _data_bytes(list(primary_cards))
    offset = -(-primary_data // BLOCK) * BLOCK
    headers = []
    while offset < size:
        if read_at(offset, 8) != b"XTENSION":
            break  # trailing padding: nothing more to read
        cards, k, ended = [], offset, False
        while not ended:
            block = read_at(k, BLOCK)
            for at in range(0, len(block) - _CARD + 1, _CARD):
                text = block[at : at + _CARD].decode("ascii", errors="replace")
                if text == _END:
                    ended = True
                    break
                cards.append(text)
            if not ended and len(block) < BLOCK:
                raise ValueError("file truncated inside a header")
            k += BLOCK
        data_start = k
        data = _data_bytes(cards)
        if data_start + data > size:
            raise ValueError(f"file truncated: extension {len(headers) + 1} data end past the end")
        headers.append(tuple(cards))
        offset = data_start + -(-data // BLOCK) * BLOCK
    if primary_data > size:
        raise ValueError("file truncated: primary data end past the end")
    return headers


def check_complete(primary: PrimaryCards, *, error_cls, what: str = "file") -> int:
    """
    Check that every HDU's data are all there (`extension_cards`); return the number of extensions.

    Raises
    ------
    error_cls
        One line naming the file when a header or data run past the end.
    """
    return len(extension_cards(primary, error_cls=error_cls, what=what))
