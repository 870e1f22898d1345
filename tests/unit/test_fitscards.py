"""Primary-header cards without astropy: values read, switches set, every other byte kept."""

import gzip

import numpy as np
import pytest
from astropy.io import fits

from stischeck.errors import InputFileError
from stischeck.fits.cards import (
    card_value,
    check_complete,
    read_header_cards,
    read_primary_cards,
    with_string_values,
)


@pytest.fixture
def raw(tmp_path):
    primary = fits.PrimaryHDU()
    h = primary.header
    h["ROOTNAME"] = ("o8k401010", "rootname of the observation set")
    h["DQICORR"] = ("OMIT", "data quality initialization")
    h["STATFLAG"] = (True, "Calculate statistics?")
    h["NEXTEND"] = 3
    h["TEXPTIME"] = 1.5e3
    h["TARGNAME"] = "O'BRIEN"
    sci = fits.ImageHDU(np.arange(12, dtype=np.uint16).reshape(3, 4), name="SCI")
    path = tmp_path / "o8k401010_raw.fits"
    fits.HDUList([primary, sci]).writeto(path)
    return path


def test_values_are_read_as_fits_defines_them(raw):
    cards = read_primary_cards(raw, error_cls=InputFileError)
    assert cards.get("ROOTNAME") == "o8k401010"
    assert cards.get("STATFLAG") is True
    assert cards.get("NEXTEND") == 3
    assert cards.get("TEXPTIME") == 1500.0
    assert cards.get("TARGNAME") == "O'BRIEN"
    assert cards.get("NOPE", "x") == "x" and "NOPE" not in cards


def test_setting_switches_changes_those_cards_only(raw):
    cards = read_primary_cards(raw, error_cls=InputFileError)
    copy = raw.with_name("copy.fits")
    copy.write_bytes(with_string_values(cards, {"DQICORR": "PERFORM", "BLEVCORR": "PERFORM"}))
    with fits.open(raw) as before, fits.open(copy) as after:
        assert after[0].header["DQICORR"] == "PERFORM"
        assert after[0].header.comments["DQICORR"] == "data quality initialization"
        assert after[0].header["BLEVCORR"] == "PERFORM"  # absent before: added
        for key in before[0].header:
            if key != "DQICORR":
                assert after[0].header[key] == before[0].header[key], key
        assert np.array_equal(after["SCI"].data, before["SCI"].data)
        assert after["SCI"].data.dtype == before["SCI"].data.dtype
    # Everything after the primary header is the same bytes.
    old, new = raw.read_bytes(), copy.read_bytes()
    assert old[2880:] == new[2880:]


def test_a_full_header_block_grows_by_one(tmp_path):
    primary = fits.PrimaryHDU()
    for k in range(36 - len(primary.header) - 1):  # fill the block, END last
        primary.header[f"KEY{k}"] = k
    path = tmp_path / "full.fits"
    fits.HDUList([primary, fits.ImageHDU(np.ones((2, 2), np.float32))]).writeto(path)
    cards = read_primary_cards(path, error_cls=InputFileError)
    data = with_string_values(cards, {"DQICORR": "PERFORM"})
    assert len(data) == path.stat().st_size + 2880
    copy = tmp_path / "copy.fits"
    copy.write_bytes(data)
    with fits.open(copy) as hdul:
        assert hdul[0].header["DQICORR"] == "PERFORM"
        assert hdul[1].data.sum() == 4.0


def test_gzipped_files_are_read_and_truncation_is_one_line(raw, tmp_path):
    gz = tmp_path / "o8k401010_raw.fits.gz"
    gz.write_bytes(gzip.compress(raw.read_bytes()))
    cards = read_primary_cards(gz, error_cls=InputFileError)
    assert check_complete(cards, error_cls=InputFileError) == 1
    short = tmp_path / "short_raw.fits"
    short.write_bytes(raw.read_bytes()[: 2880 * 2 + 10])
    cards = read_primary_cards(short, error_cls=InputFileError)
    with pytest.raises(InputFileError, match=r"short_raw.fits: not a readable FITS file \(file tr"):
        check_complete(cards, error_cls=InputFileError)
    plain = tmp_path / "plain.txt"
    plain.write_text("not fits")
    with pytest.raises(InputFileError, match="no SIMPLE card"):
        read_primary_cards(plain, error_cls=InputFileError)


@pytest.fixture
def product(tmp_path):
    """A calstis-like product: primary, two imsets (one a null ERR), a table, unpadded end."""
    primary = fits.PrimaryHDU()
    primary.header["ROOTNAME"] = "o8k401010"
    primary.header["FLATCORR"] = "COMPLETE"
    hdus = [primary]
    for imset in (1, 2):
        sci = fits.ImageHDU(np.full((5, 7), imset, np.float32), name="SCI", ver=imset)
        sci.header["IMSET_OK"] = imset == 1
        for k in range(40):  # a second header block
            sci.header[f"HIST{k}"] = k
        err = fits.ImageHDU(name="ERR", ver=imset)
        err.header["PIXVALUE"] = 0.0
        hdus += [sci, err, fits.ImageHDU(np.zeros((5, 7), np.int16), name="DQ", ver=imset)]
    hdus.append(fits.BinTableHDU.from_columns([fits.Column("A", "J", array=[1, 2, 3])]))
    path = tmp_path / "o8k401010_flt.fits"
    fits.HDUList(hdus).writeto(path)
    return path


def test_every_header_is_read_as_astropy_reads_it(product, tmp_path):
    gz = tmp_path / "gz_flt.fits.gz"
    gz.write_bytes(gzip.compress(product.read_bytes()))
    for path in (product, gz):
        primary, extensions = read_header_cards(path, error_cls=InputFileError)
        with fits.open(path) as hdul:
            assert len(extensions) == len(hdul) - 1
            assert primary.get("FLATCORR") == hdul[0].header["FLATCORR"]
            for cards, hdu in zip(extensions, hdul[1:], strict=True):
                assert [c[:8].rstrip() for c in cards] == list(hdu.header.keys())
                assert card_value(cards, "EXTNAME") == hdu.header.get("EXTNAME")
                assert card_value(cards, "IMSET_OK", True) == hdu.header.get("IMSET_OK", True)


@pytest.mark.parametrize(
    "cut, reason",
    [
        (2880 * 2 + 100, "truncated inside a header"),  # inside SCI,1's second header block
        (-2880, "data end past the end"),  # the table's data block is gone
    ],
)
def test_a_truncated_product_is_one_line_naming_it(product, tmp_path, cut, reason):
    short = tmp_path / "short_flt.fits"
    data = product.read_bytes()
    short.write_bytes(data[:cut])
    with pytest.raises(
        InputFileError, match=rf"short_flt.fits: not a readable FITS product .*{reason}"
    ):
        read_header_cards(short, error_cls=InputFileError, what="product")
