"""The product writer writes the header cards calstis writes, in calstis's order."""

import numpy as np
import pytest
from astropy.io import fits

from reference_impl.io.fitsheader import Header
from reference_impl.io.hstio_header import put
from reference_impl.io.products import _image_hdu, _write_hdu, product_path, write_product
from reference_impl.io.rawfile import read_raw
from reference_impl.pipeline import calibrate
from stischeck import environment
from tests.support.corpus import step_params, write_raw_with_switches

_CORPUS = environment.find_corpus()
STEPS = step_params(_CORPUS)


def header_cards(path, *, history: bool = True) -> list[list[str]]:
    """Every card image of every HDU, bar DATE (the day of writing) and optionally HISTORY."""
    with fits.open(path) as hdul:
        return [
            [
                c.image
                for c in hdu.header.cards
                if c.keyword != "DATE" and (history or c.keyword != "HISTORY")
            ]
            for hdu in hdul
        ]


@pytest.mark.corpus
@pytest.mark.parametrize("step", STEPS)
def test_products_have_calstis_cards_in_calstis_order(step, tmp_path):
    """Found by experiment with cs0.e 3.5.0: every card but DATE, byte for byte, HISTORY too."""
    raw_path = write_raw_with_switches(step, tmp_path / "in")
    raw = read_raw(raw_path)
    result = calibrate(raw, oref_dir=step.case_dir / "oref")
    assert result.products
    for product in result.products:
        ours = write_product(
            product, raw.primary_header, product_path(raw_path, f"{tmp_path}/new/", product.suffix)
        )
        truth = step.products[product.suffix]
        assert header_cards(ours) == header_cards(truth), ours.name


def test_null_extensions_keep_the_bitpix_of_their_array(tmp_path):
    """calstis writes a constant ERR/DQ as NAXIS = 0 with BITPIX -32/16, not astropy's 8."""
    for data, bitpix in ((np.zeros((3, 4), np.float32), -32), (np.zeros((3, 4), np.int16), 16)):
        path = tmp_path / f"null{bitpix}.fits"
        with path.open("wb") as stream:
            _write_hdu(stream, fits.PrimaryHDU().header.cards, None)
            _write_hdu(stream, *_image_hdu(data, Header(), "ERR", 1, allow_null=True))
        header = fits.getheader(path, 1)
        assert (header["BITPIX"], header["NAXIS"], header["NPIX1"]) == (bitpix, 0, 4)


def test_data_are_written_big_endian_and_padded(tmp_path):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    data[0, 0] = np.nan
    path = tmp_path / "d.fits"
    with path.open("wb") as stream:
        _write_hdu(stream, fits.PrimaryHDU().header.cards, None)
        view = data[:, ::-1][:, ::-1]  # a non-contiguous view is fine
        _write_hdu(stream, *_image_hdu(view, Header(), "SCI", 1, allow_null=False))
    assert path.stat().st_size % 2880 == 0
    with fits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[1].data, data)


@pytest.mark.corpus
@pytest.mark.parametrize("raw_bitpix", [8, 16])
def test_primary_header_says_bitpix_16_whatever_the_raw_says(raw_bitpix, tmp_path):
    """hstio writes a dataless primary with BITPIX 16 (hstio.c openOutputImage; seen with
    cs0.e 3.5.0 on raw primaries with BITPIX 8 and 16); astropy's default is 8."""
    step = STEPS[0].values[0]
    raw_path = write_raw_with_switches(step, tmp_path / "in")
    raw = read_raw(raw_path)
    put(raw.primary_header, "BITPIX", raw_bitpix)
    product = calibrate(raw, oref_dir=step.case_dir / "oref").products[0]
    out = write_product(product, raw.primary_header, tmp_path / "out_flt.fits")
    assert out.read_bytes()[80:110] == b"BITPIX  =                   16"
