"""Product headers as calstis writes them for real raw headers (hstio rules).

Each rule cites hstcal's ``hstio/hstio.c`` or ``hstio/keyword.c`` and was
checked by experiment with cs0.e 3.5.0 (hstcal 5c1c1775) on real STIS raw
headers grafted onto synthetic frames (tests/support/realheaders.py; the live
check is tests/differential/test_real_headers_live.py).
"""

import re
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from reference_impl.io.fitsheader import Card, Header
from reference_impl.io.hstio_header import clean, hstio_value, is_reserved, put
from reference_impl.io.products import product_path, write_product
from reference_impl.io.rawfile import read_raw
from reference_impl.numerics import DoubleKeyword
from reference_impl.pipeline import calibrate

TASTIS = Path(__file__).resolve().parents[1] / "data" / "tastis"


def _header(*cards) -> Header:
    return Header([Card.fromstring(c) for c in cards])


def test_hstio_drops_its_reserved_keywords():
    """hstio.c reservedKwds/reservedCards: GROUPS, DATAMIN/DATAMAX, BSCALE/BZERO, DATE ..."""
    header = _header(
        "GROUPS  =                    F / image is in group format",
        "DATAMIN =               1399.0 / the minimum value of the data",
        "DATAMAX =              65535.0 / the maximum value of the data",
        "BSCALE  =                    1",
        "BZERO   =                32768",
        "DATE    = '2017-06-25'         / date this file was written (yyyy-mm-dd)",
        "ORIGIN  = 'NOAO-IRAF FITS Image Kernel July 2003' / FITS file originator",
        "COMMENT   FITS (Flexible Image Transport System) format is defined in 'Astronomy",
        "COMMENT   and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H",
        "COMMENT a comment of the observer",
        "DATE-OBS= '2016-09-29'         / UT date of start of observation (yyyy-mm-dd)",
        "NAXIS3  =                    1",
    )
    kept = [c.image.rstrip() for c in clean(header).cards]
    assert kept == [
        "COMMENT a comment of the observer",
        "DATE-OBS= '2016-09-29'         / UT date of start of observation (yyyy-mm-dd)",
    ]
    assert is_reserved(Card.fromstring("PTYPE1  = 'x'"))
    assert not is_reserved(Card.fromstring("PTYPE   = 'x'"))


def test_keywords_are_rewritten_in_hstio_format_in_place_comment_kept():
    """keyword.c: %12d, %#14.7E (float keywords), %#20.12E (doubles), strings padded to 8."""
    header = _header(
        "CCDAMP  = 'D  '                / CCD amplifier read out (A,B,C,D)",
        "ATODGAIN=             0.000000 / calibrated CCD amplifier gain value",
        "CRPIX2  =                  8.0 / y-coordinate of reference pixel",
        "NGOODPIX=                    0 / number of good pixels",
        "PHOTMODE= '                                                  ' / observation con",
        "FILENAME= 'ocmv0lw6q_raw.fits                     ' / name of file",
        "",
    )
    put(header, "ATODGAIN", 1.002)
    put(header, "CRPIX2", DoubleKeyword(8.0))
    put(header, "NGOODPIX", 512)
    put(header, "PHOTMODE", "")
    put(header, "FILENAME", "ocmv0lw6q_flt.fits")
    images = [c.image for c in header.cards]
    assert images[0] == "CCDAMP  = 'D  '                / CCD amplifier read out (A,B,C,D)".ljust(
        80
    )
    assert images[1].startswith("ATODGAIN=        1.0020000E+00 / calibrated CCD amplifier gain")
    assert images[2].startswith("CRPIX2  =   8.000000000000E+00 / y-coordinate of reference pix")
    assert images[3].startswith("NGOODPIX=                  512 / number of good pixels")
    assert images[4].rstrip() == "PHOTMODE= '        '           / observation con"
    assert images[5].rstrip() == "FILENAME= 'ocmv0lw6q_flt.fits' / name of file"
    assert images[6].strip() == ""  # the blank card stays where it was


def test_absent_keywords_are_appended_after_trailing_blank_cards():
    """keyword.c addXxxKw: at the very end, ``/`` and the (often empty) comment."""
    header = _header("INHERIT =                    T / inherit the primary header", "", "")
    put(header, "MEANEXP", np.float32(500.0).item())
    put(header, "SKYSUM", 2.8732853)
    images = [c.image.rstrip() for c in header.cards]
    assert images[1:3] == ["", ""]
    assert images[3] == "MEANEXP =        5.0000000E+02 /"
    assert images[4] == "SKYSUM  =        2.8732853E+00 / Total sky level (DN)"
    assert hstio_value(True) == f"{'T':>20}"


def dqicorr_product(tmp_path, raw_name: str):
    """The reference's ``_flt`` of a real ACQ raw file (tests/data/tastis), DQICORR = PERFORM."""
    from tests.support.realheaders import acq_oref

    oref = acq_oref(tmp_path / "oref")
    raw = tmp_path / raw_name
    with fits.open(TASTIS / raw_name) as hdul:
        hdul[0].header["DQICORR"] = "PERFORM"
        hdul.writeto(raw)
    exposure = read_raw(raw)
    (product,) = calibrate(exposure, oref_dir=oref).products
    out = write_product(product, exposure.primary_header, product_path(raw, tmp_path / "o/", "flt"))
    return raw, out


@pytest.fixture
def acq_products(tmp_path):
    """A real ACQ raw file (three imsets, 100x100, 100x100, 30x30) with DQICORR = PERFORM."""
    return dqicorr_product(tmp_path, "ocmv0lw6q_raw.fits")


def test_real_primary_keeps_its_cards_in_order_but_groups(acq_products):
    """Blank cards, section titles and padded strings are copied as read; GROUPS is not."""
    raw, out = acq_products
    raw_cards = [c.image for c in fits.getheader(raw).cards]
    with fits.open(out) as hdul:
        primary = hdul[0].header
        images = [c.image for c in primary.cards]
        assert "GROUPS" not in primary
        assert images[:9] == [
            "SIMPLE  =                    T / file does conform to FITS standard".ljust(80),
            "BITPIX  =                   16 / number of bits per data pixel".ljust(80),
            "NAXIS   =                    0 / number of data axes".ljust(80),
            "EXTEND  =                    T / FITS dataset may contain extensions".ljust(80),
            "COMMENT   FITS (Flexible Image Transport System) format is defined in 'Astronomy",
            "COMMENT   and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H ",
            "ORIGIN  = 'HSTIO/CFITSIO March 2010' / FITS file originator".ljust(80),
            images[7],
            raw_cards[4],  # NEXTEND, as in the raw file
        ]
        assert images[7].startswith("DATE    = '")
        for card in (
            "              / TARGET INFORMATION".ljust(80),
            "CCDAMP  = 'D  '                / CCD amplifier read out (A,B,C,D)".ljust(80),
            " " * 80,
        ):
            assert card in images
        # Every raw card calstis does not rewrite comes through byte for byte, in order.
        untouched = [c for c in raw_cards[6:] if c in images]
        assert len(untouched) > 150
        assert [c for c in images if c in untouched] == untouched


def test_extensions_lose_datamin_datamax_and_keep_null_cards_in_place(acq_products):
    """hstio.c: DATAMIN/DATAMAX reserved; PIXVALUE/NPIX1/NPIX2 updated where they stand."""
    raw, out = acq_products
    with fits.open(raw) as r, fits.open(out) as o:
        assert len(o) == 10
        for k in range(1, 10):
            assert "DATAMIN" not in o[k].header and "DATAMAX" not in o[k].header
        raw_err = [c.keyword for c in r[2].header.cards if c.keyword not in ("DATAMIN", "DATAMAX")]
        out_err = [c.keyword for c in o[2].header.cards]
        assert out_err[:9] == [
            "XTENSION",
            "BITPIX",
            "NAXIS",
            "PCOUNT",
            "GCOUNT",
            "ORIGIN",
            "DATE",
            "INHERIT",
            "EXTNAME",
        ]
        assert out_err[7:] == [
            k for k in raw_err if k not in ("XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT")
        ]
        assert re.match(
            r"PIXVALUE= +\d\.\d{7}E[+-]\d\d / values of pixels", o[2].header.cards["PIXVALUE"].image
        )
        assert [h.data.shape for h in o if h.name == "SCI"] == [(100, 100), (100, 100), (30, 30)]


def test_nextend_is_copied_from_a_raw_file_with_a_peakup_table(tmp_path):
    """calstis1 never updates NEXTEND: an ACQ/PEAK _flt says 4 with 3 extensions written."""
    _, out = dqicorr_product(tmp_path, "octka7jeq_raw.fits")
    with fits.open(out) as hdul:
        assert len(hdul) == 4 and hdul[0].header["NEXTEND"] == 4


def test_history_goes_at_the_very_end_after_keywords_added_before_it():
    """hstio addHistoryKw appends: a crj's part-b HISTORY follows calstis2's SKYSUM ..."""
    from reference_impl.io.hstio_header import add_history

    header = _header("HISTORY CCD parameters table ...", "ATODGAIN=        1.0020000E+00 /")
    put(header, "SKYSUM", 1.5)
    add_history(header, "DARKCORR complete ...")
    assert [c.keyword for c in header.cards] == ["HISTORY", "ATODGAIN", "SKYSUM", "HISTORY"]


def test_acquisition_history_says_the_default_bias_was_subtracted(tmp_path):
    """history1.c blevHistory: a 100x100 ACQ imset has no overscan (found with cs0.e 3.5.0)."""
    from tests.support.realheaders import acq_oref

    oref = acq_oref(tmp_path / "oref")
    raw = tmp_path / "ocmv0lw6q_raw.fits"
    with fits.open(TASTIS / "ocmv0lw6q_raw.fits") as hdul:
        hdul[0].header["BLEVCORR"] = "PERFORM"
        hdul.writeto(raw)
    exposure = read_raw(raw)
    (product,) = calibrate(exposure, oref_dir=oref).products
    assert product.history == [
        "CCD parameters table ...",
        "  reference table oref$16j1600do_ccd.fits",
        "    INFLIGHT 01/05/2009 01/05/2009",
        "    Updated read noise and gain values for all amps",
        "    gain and read noise from flight data",
        "BLEVCORR complete, but default bias level was subtracted.",
        "BLEVCORR does not include correction for drift along lines.",
        "Uncertainty array initialized.",
    ]


def test_a_string_rewritten_in_place_gets_a_slash_even_without_comment():
    """keyword.c putKwComm writes `` / `` whatever the comment (found with cs0.e 3.5.0)."""
    header = _header("DQICORR = 'PERFORM '")
    put(header, "DQICORR", "COMPLETE")
    assert header.cards[0].image.rstrip() == "DQICORR = 'COMPLETE'           /"


def test_blank_cards_before_the_first_keyword_are_dropped():
    """hstio.c putHeader skips leading blank cards (checked with cs0.e 3.5.0: blank cards
    between a raw SCI header's BZERO and INHERIT are gone from its _flt)."""
    from reference_impl.io.products import _image_hdu

    header = _header(
        "BZERO   =                32768", "", "", "INHERIT =                    T / inherit"
    )
    cards, _ = _image_hdu(np.ones((2, 3), np.float32), header, "SCI", 1, allow_null=False)
    keys = [c.keyword for c in cards]
    assert keys[:10] == [
        "XTENSION",
        "BITPIX",
        "NAXIS",
        "NAXIS1",
        "NAXIS2",
        "PCOUNT",
        "GCOUNT",
        "ORIGIN",
        "DATE",
        "INHERIT",
    ]


def test_apply_history_sets_a_keyword_after_the_history_logged_before_it():
    # dophot.c sets PHOTFLAM before photHistory: a header without it gets it after
    # the HISTORY of the earlier steps, before PHOTCORR's own lines.

    from reference_impl.io.hstio_header import apply_history

    header = _header("PHOTCORR= 'PERFORM '")
    apply_history(header, ["SHADCORR complete ...", ("PHOTFLAM", 1.5), "PHOTCORR complete ..."])
    assert [c.keyword for c in header.cards] == ["PHOTCORR", "HISTORY", "PHOTFLAM", "HISTORY"]
