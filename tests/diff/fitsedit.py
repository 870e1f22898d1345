"""Edit FITS header cards on the bytes, so that a test changes exactly one card.

astropy rewrites what it writes (a dataless primary HDU always gets BITPIX = 8,
structural comments are its own), so header mutations are made here: the file
is split into HDUs (80-character cards up to END, then the data bytes as
stored), cards are edited as text, and the file is written back with every
other byte unchanged.
"""

import gzip
import shutil
from dataclasses import dataclass, field
from pathlib import Path

BLOCK = 2880
CARD = 80


@dataclass
class Hdu:
    """One HDU: its cards (80-character strings, END left out) and its padded data bytes."""

    cards: list
    data: bytes = b""
    extname: str = field(default="")

    def index(self, keyword: str, occurrence: int = 1) -> int:
        """Position of the n-th card with ``keyword``."""
        seen = 0
        for k, card in enumerate(self.cards):
            if card[:8].rstrip() == keyword:
                seen += 1
                if seen == occurrence:
                    return k
        raise KeyError(keyword)

    def set(self, keyword: str, value: str, comment: str = "") -> None:
        """Replace (or append before END) ``keyword`` with a fixed-format value text."""
        card = card_text(keyword, value, comment)
        try:
            self.cards[self.index(keyword)] = card
        except KeyError:
            self.cards.append(card)

    def insert_after(self, after: str, keyword: str, value: str, comment: str = "") -> None:
        """Insert a new card after the card ``after``."""
        self.cards.insert(self.index(after) + 1, card_text(keyword, value, comment))

    def delete(self, keyword: str) -> None:
        """Remove the first card with ``keyword``."""
        del self.cards[self.index(keyword)]

    def value(self, keyword: str) -> str:
        """The value text of ``keyword`` (columns 11-80 up to a comment slash, stripped)."""
        text = self.cards[self.index(keyword)][10:]
        return text.split("/", 1)[0].strip() if not text.lstrip().startswith("'") else text.strip()


def card_text(keyword: str, value: str, comment: str = "") -> str:
    """An 80-character fixed-format card: value right-justified to column 30 unless a string."""
    value = value if value.startswith("'") else value.rjust(20)
    text = f"{keyword:<8}= {value}" + (f" / {comment}" if comment else "")
    assert len(text) <= CARD, text
    return text.ljust(CARD)


def _data_bytes(cards: list) -> int:
    values = {}
    for card in cards:
        key = card[:8].rstrip()
        if card[8:10] == "= " and (key in ("BITPIX", "PCOUNT", "GCOUNT") or key[:5] == "NAXIS"):
            values[key] = int(card[10:].split("/", 1)[0])
    naxis = values.get("NAXIS", 0)
    if naxis == 0:
        return 0
    size = 1
    for k in range(1, naxis + 1):
        size *= values[f"NAXIS{k}"]
    size = abs(values["BITPIX"]) // 8 * values.get("GCOUNT", 1) * (values.get("PCOUNT", 0) + size)
    return size + (-size % BLOCK)


def read_hdus(path: Path) -> list:
    """Every HDU of a ``.fits`` or ``.fits.gz`` file."""
    raw = gzip.decompress(path.read_bytes()) if str(path).endswith(".gz") else path.read_bytes()
    hdus, pos = [], 0
    while pos < len(raw):
        cards = []
        while True:
            block = raw[pos : pos + BLOCK].decode("ascii")
            pos += BLOCK
            chunk = [block[k : k + CARD] for k in range(0, BLOCK, CARD)]
            ends = [k for k, c in enumerate(chunk) if c.rstrip() == "END"]
            if ends:
                end = ends[0]
                cards += chunk[:end]
                break
            cards += chunk
        size = _data_bytes(cards)
        hdus.append(Hdu(cards, raw[pos : pos + size]))
        pos += size
    return hdus


def write_hdus(path: Path, hdus: list) -> Path:
    """Write HDUs back: cards, END, blank padding, the data bytes as they were."""
    with Path(path).open("wb") as out:
        for hdu in hdus:
            text = "".join(hdu.cards) + "END".ljust(CARD)
            text += " " * (-len(text) % BLOCK)
            out.write(text.encode("ascii"))
            out.write(hdu.data)
    return Path(path)


def decompress(src: Path, dst: Path) -> Path:
    """A plain copy of a ``.fits.gz`` (or ``.fits``) file."""
    if str(src).endswith(".gz"):
        with gzip.open(src) as fin, dst.open("wb") as fout:
            shutil.copyfileobj(fin, fout)
    else:
        shutil.copy(src, dst)
    return dst


def edited(src: Path, dst: Path, change) -> Path:
    """``dst``: ``src`` with ``change(hdus)`` applied to its list of `Hdu`."""
    hdus = read_hdus(src)
    change(hdus)
    return write_hdus(dst, hdus)


def keep_primary_bitpix(written: Path, original: Path) -> Path:
    """Put ``original``'s primary BITPIX card back into ``written`` (astropy writes 8)."""
    card = read_hdus(original)[0]
    hdus = read_hdus(written)
    hdus[0].cards[hdus[0].index("BITPIX")] = card.cards[card.index("BITPIX")]
    return write_hdus(written, hdus)
