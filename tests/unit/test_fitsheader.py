"""The reference's own header cards against astropy's, card for card, on real and corpus files.

`reference_impl.io.fitsheader` replaces astropy's ``Header`` on the reference's run
path (issue 17: importing astropy.io.fits costs as much as the pipeline). It must
give every card the keyword, value (and its type), comment and image astropy
gives it.
"""

import gzip
import math
from pathlib import Path

import pytest
from astropy.io import fits

from reference_impl.io.fitsheader import UNDEFINED, Card, Header, header_from_text

DATA = Path(__file__).resolve().parents[1] / "data"


def _headers_text(path: Path) -> list:
    """The header text of every HDU of a FITS file (gzipped or not), read by block."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    texts = []
    with fits.open(path) as hdul:
        for hdu in hdul:
            offset = hdu.fileinfo()["hdrLoc"]
            size = hdu.fileinfo()["datLoc"] - offset
            texts.append(raw[offset : offset + size].decode("ascii"))
    return texts


def _same_value(a, b) -> bool:
    if isinstance(b, fits.card.Undefined):
        return a is UNDEFINED
    if isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and math.isnan(a)
    return type(a) is type(b) and a == b


def _files(corpus_dir=None) -> list:
    files = sorted((DATA / "tastis").glob("*.fits*")) + sorted((DATA / "realacq").rglob("*.fits*"))
    files += sorted((DATA / "realheaders").rglob("*_raw.fits*"))
    return files


def _check(path: Path) -> int:
    n = 0
    for text in _headers_text(path):
        ours = header_from_text(text)
        theirs = fits.Header.fromstring(text)
        assert len(ours) == len(theirs), path
        for mine, card in zip(ours.cards, theirs.cards, strict=True):
            where = f"{path.name}: {card.image.rstrip()!r}"
            assert mine.keyword == card.keyword, where
            assert mine.image == card.image, where
            assert _same_value(mine.value, card.value), (where, mine.value, card.value)
            assert mine.comment == card.comment, (where, mine.comment, card.comment)
            n += 1
    return n


def test_every_card_of_the_real_stis_files_parses_as_astropy_parses_it():
    files = _files()
    assert len(files) >= 20
    assert sum(_check(f) for f in files) > 5000


@pytest.mark.corpus
def test_every_card_of_the_corpus_raw_and_reference_files_parses_as_astropy_parses_it(
    corpus_dir,
):
    files = sorted(corpus_dir.glob("*/*_raw.fits*")) + sorted(corpus_dir.glob("*/oref/*.fits*"))
    assert len(files) > 30
    for f in files:
        _check(f)


@pytest.mark.parametrize(
    "image",
    [
        "KEY1    = 'abc  ' / a comment  ",
        "KEY2    =                   12 /comment",
        "KEY3    = 1.5D+02 / x",
        "KEY4    =                    T",
        "KEY5    =  / only comment",
        "KEY6    = 'it''s'",
        "HISTORY   text here  ",
        "        blank keyword text",
        "KEY8    = 1e5",
        "KEY9    = .5",
        "KEYA    = +3",
        "KEYB    = 'abc/def' / c/d",
        "KEYC    = '   '",
        "KEYD    = 12.",
        "KEYE    =   1.0E+00/nospace",
        "KEYF    = -0",
        "KEYG    = (1, 2)",  # a complex value: astropy decides
        "lower   = 'x'",
    ],
)
def test_odd_cards_have_astropys_keyword_value_and_comment(image):
    mine, card = Card.fromstring(image), fits.Card.fromstring(image.ljust(80))
    assert (mine.keyword, mine.comment) == (card.keyword, card.comment)
    assert _same_value(mine.value, card.value)


def test_long_history_continues_on_further_cards_as_astropy_lays_it_out():
    text = "x" * 150
    assert Card.commentary("HISTORY", text).image == fits.Card("HISTORY", text).image
    assert Card.commentary("HISTORY", "short").image == fits.Card("HISTORY", "short").image


def test_header_lookups_follow_astropy():
    text = "".join(c.ljust(80) for c in ["A       = 1", "B       = 'x'", "A       = 2", "END"])
    ours, theirs = header_from_text(text.ljust(2880)), fits.Header.fromstring(text)
    for key in ("A", "a", "B"):
        assert ours[key] == theirs[key] and ours.index(key) == theirs.index(key)
    assert ours.get("missing", 7) == 7 and "b" in ours and "C" not in ours
    assert ours.cards["B"].image == theirs.cards["B"].image
    copy = ours.copy()
    del copy["A"]
    assert len(copy) == 2 and len(ours) == 3
    assert isinstance(Header().copy(), Header)
