"""Byte-level damage to FITS files, for the fuzz tests and the damage campaign.

Every mutation works on the file's bytes, as a broken disk, a hand edit or a
faulty writer would leave them: a card's value text replaced (so that it need
not parse), a card removed, bytes flipped, the file cut short. The HDU layout
is read once from the undamaged bytes (80-character cards, 2880-byte blocks).
"""

import gzip
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Layout", "layout", "load", "set_card", "delete_card", "flip", "truncate", "hdu_index"]

BLOCK = 2880
CARD = 80


@dataclass(frozen=True)
class Hdu:
    """Where one HDU is: header start, header end (after END's block), data end; its cards."""

    start: int
    data_start: int
    end: int
    cards: tuple  # (offset, keyword)
    extname: str
    extver: int


@dataclass(frozen=True)
class Layout:
    hdus: tuple


def load(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _value(text: str) -> str:
    return text[10:].split("/")[0].strip().strip("'").strip()


def layout(data: bytes) -> Layout:
    """Every HDU's extent and cards, read from undamaged bytes."""
    hdus, pos = [], 0
    while pos + BLOCK <= len(data):
        start, cards, values = pos, [], {}
        while True:
            block = data[pos : pos + BLOCK]
            if len(block) < BLOCK:
                return Layout(tuple(hdus))
            pos += BLOCK
            done = False
            for k in range(0, BLOCK, CARD):
                text = block[k : k + CARD].decode("ascii", "replace")
                key = text[:8].strip()
                if key == "END":
                    done = True
                    break
                if key:
                    cards.append((pos - BLOCK + k, key))
                    if text[8:10] == "= ":
                        values[key] = _value(text)
            if done:
                break
        naxis = int(values.get("NAXIS", 0))
        size = 0
        if naxis:
            size = abs(int(values.get("BITPIX", 8))) // 8
            for n in range(1, naxis + 1):
                size *= int(values.get(f"NAXIS{n}", 0))
            size = (size + int(values.get("PCOUNT", 0))) * int(values.get("GCOUNT", 1))
        data_start = pos
        pos += -(-size // BLOCK) * BLOCK
        hdus.append(
            Hdu(
                start,
                data_start,
                pos,
                tuple(cards),
                values.get("EXTNAME", "PRIMARY" if not hdus else ""),
                int(values.get("EXTVER", 1) or 1),
            )
        )
    return Layout(tuple(hdus))


def hdu_index(lay: Layout, extname: str, extver: int = 1) -> int:
    """Index of the HDU (EXTNAME, EXTVER); ``"PRIMARY"`` is 0."""
    for k, hdu in enumerate(lay.hdus):
        if hdu.extname == extname and (extname == "PRIMARY" or hdu.extver == extver):
            return k
    raise KeyError(f"{extname},{extver}")


def _card_offset(lay: Layout, index: int, keyword: str) -> int | None:
    for offset, key in lay.hdus[index].cards:
        if key == keyword:
            return offset
    return None


def set_card(data: bytes, lay: Layout, index: int, keyword: str, value_text: str) -> bytes:
    """Replace (or add, in place of the first blank card) ``keyword = value_text`` verbatim."""
    # Fixed format (FITS 4.2): a string starts in column 11, a number ends in column 30.
    text = value_text if value_text.startswith("'") else f"{value_text:>20}"
    card = f"{keyword:<8}= {text}".encode("latin-1")[:CARD].ljust(CARD)
    offset = _card_offset(lay, index, keyword)
    if offset is None:
        hdu = lay.hdus[index]
        for end in range(hdu.start, hdu.data_start, CARD):
            if data[end : end + 8] == b"END     ":
                break
        else:
            return data
        if end + 2 * CARD > hdu.data_start:
            return data  # no room before the data: leave it
        return data[:end] + card + b"END".ljust(CARD) + data[end + 2 * CARD :]
    return data[:offset] + card + data[offset + CARD :]


def delete_card(data: bytes, lay: Layout, index: int, keyword: str) -> bytes:
    """Blank out the card (a blank card is ignored by every reader)."""
    offset = _card_offset(lay, index, keyword)
    if offset is None:
        return data
    return data[:offset] + b" " * CARD + data[offset + CARD :]


def flip(data: bytes, offset: int, value: int) -> bytes:
    """Set one byte."""
    offset %= len(data)
    return data[:offset] + bytes([value & 0xFF]) + data[offset + 1 :]


def truncate(data: bytes, fraction: float) -> bytes:
    """The first ``fraction`` of the bytes."""
    return data[: max(0, int(len(data) * fraction))]
