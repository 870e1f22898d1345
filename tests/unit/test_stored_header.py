"""Stored headers: the keywords, texts and values astropy reads, without importing it for them."""

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.io import fits

from stischeck.fits.stored_header import StoredCard, StoredHeader, stored_header

DATA = Path(__file__).parents[1] / "data"
REAL_FILES = sorted(p for p in DATA.rglob("*.fits*") if p.suffix in (".fits", ".gz"))


def _stored_header_texts(path: Path) -> list[str]:
    """Each header of a file as its stored text, through astropy's offsets."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    with fits.open(path) as hdul:
        spans = [(hdul.fileinfo(k)["hdrLoc"], hdul.fileinfo(k)["datLoc"]) for k in range(len(hdul))]
    return [data[start:end].decode("latin-1") for start, end in spans]


def _assert_same_as_astropy(text: str) -> StoredHeader:
    ours, theirs = stored_header(text), fits.Header.fromstring(text)
    assert isinstance(ours, StoredHeader)
    assert [c.keyword for c in ours.cards] == [c.keyword for c in theirs.cards]
    assert [c.image for c in ours.cards] == [c.image for c in theirs.cards]
    assert ours.tostring() == theirs.tostring()
    for card, theirs_card in zip(ours.cards, theirs.cards, strict=True):
        value = StoredCard(card.keyword, card.image).value
        assert type(value) is type(theirs_card.value) and value == theirs_card.value
    for key in {c.keyword for c in theirs.cards} - {"", "COMMENT", "HISTORY"}:
        assert key in ours and key.lower() in ours
        assert type(ours[key]) is type(theirs[key]) and ours.get(key) == theirs[key]
    return ours


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_real_headers_read_as_astropy_reads_them(path):
    # MAST raw files and CRDS reference files: ~200 cards, blank and section cards.
    for text in _stored_header_texts(path):
        _assert_same_as_astropy(text)


def test_corpus_product_headers_read_as_astropy_reads_them(corpus_dir):
    products = sorted(corpus_dir.glob("*/FLATCORR/*_*.fits.gz"))
    assert products
    for path in products:
        for text in _stored_header_texts(path):
            _assert_same_as_astropy(text)


def _text(*cards: str) -> str:
    text = "".join(c.ljust(80) for c in (*cards, "END"))
    return text.ljust(-(-len(text) // 2880) * 2880)


def test_fixed_format_values_and_their_edges():
    header = _assert_same_as_astropy(
        _text(
            "SIMPLE  =                    T / conforms",
            "BITPIX  =                  -32",
            "NAXIS   =                    0",
            "EXTNAME = 'SCI     '           / padded string",
            "QUOTED  = 'O''HARA / x'        / a slash and a quote inside",
            "LEADING = '  two blanks'",
            "EMPTY   = ''",
            "REAL    =            1.5E+01",
            "DREAL   =              2.5D-03",
            "BARE    =                   1.",
            "POINT   =                  -.5",
            "SIGNED  =                 +007",
            "BIG     = 123456789012345678901",
            "FALSE   =                    F",
            "",
            "COMMENT   a comment card with = signs",
            "HISTORY first",
            "HISTORY second",
            "        / a section card",
        )
    )
    assert header["EXTNAME"] == "SCI" and header["QUOTED"] == "O'HARA / x"
    assert header["DREAL"] == 2.5e-3 and header["SIGNED"] == 7 and header.get("NOPE", 9) == 9
    with pytest.raises(KeyError):
        header["NOPE"]


@pytest.mark.filterwarnings("ignore:The following header keyword is invalid")
@pytest.mark.parametrize(
    "odd",
    [
        "HIERARCH ESO DET CHIP = 'x'",
        "LONGSTR = 'abc&'",
        "lower   =                    1",
        "NOEQUALS  1",
        "CPLX    = (1.0, 2.0)",
        "UNDEF   =",
    ],
)
def test_cards_that_are_not_plain_go_to_astropy(odd):
    cards = ["SIMPLE  =                    T", odd]
    if odd.startswith("LONGSTR"):
        cards.append("CONTINUE  'def'")
    header = stored_header(_text(*cards))
    theirs = fits.Header.fromstring(_text(*cards))
    if isinstance(header, StoredHeader):  # a plain card whose value astropy parses
        assert [repr(c.value) for c in header.cards] == [repr(c.value) for c in theirs.cards]
    else:
        assert isinstance(header, fits.Header)
        assert header.tostring() == theirs.tostring()


def test_comparing_agreeing_products_imports_no_astropy(tmp_path):
    import numpy as np

    primary = fits.PrimaryHDU()
    primary.header["ROOTNAME"] = "o8k401010"
    primary.header["DATE"] = "2026-12-08"  # ignored by the default policy
    sci = fits.ImageHDU(np.arange(12, dtype=np.float32).reshape(3, 4), name="SCI")
    sci.header["SDQFLAGS"] = 31743
    path = tmp_path / "a_flt.fits"
    fits.HDUList([primary, sci]).writeto(path)
    script = (
        "import sys\n"
        "from stischeck.diff import diff_products\n"
        "r = diff_products(sys.argv[1], sys.argv[1])\n"
        "print(r.verdict, 'astropy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["identical", "False"]
    # A product whose cards differ in fixed-format values is compared without astropy too.
    other = tmp_path / "b_flt.fits"
    sci.header["SDQFLAGS"] = 16
    primary.header["ROOTNAME"] = "o8k402020"
    fits.HDUList([primary, sci]).writeto(other)
    script = script.replace("sys.argv[1], sys.argv[1]", "sys.argv[1], sys.argv[2]")
    out = subprocess.run(
        [sys.executable, "-c", script, str(path), str(other)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["differ", "False"]
