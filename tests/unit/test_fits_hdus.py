"""The comparator's reader: the plain-image path gives what astropy's path gives."""

import gzip

import numpy as np
import pytest
from astropy.io import fits

from stischeck.errors import InputFileError
from stischeck.fits.hdus import _read_plain_images, _read_with_astropy, native, read_hdus


def _same_views(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.extname, x.extver, x.bitpix, x.null, x.is_table) == (
            y.extname,
            y.extver,
            y.bitpix,
            y.null,
            y.is_table,
        )
        assert x.header.tostring() == y.header.tostring()
        if y.data is None:
            assert x.data is None
        else:
            # The plain path keeps the stored (big-endian) order; the values are the same.
            xs, ys = native(x.data), native(y.data)
            assert xs.dtype == ys.dtype and xs.shape == ys.shape and xs.dtype.isnative
            assert np.array_equal(xs.view(np.uint8), ys.view(np.uint8))


def _product(path, *, extra=()):
    primary = fits.PrimaryHDU()
    primary.header["ROOTNAME"] = "o8k401010"
    hdus = [primary]
    rng = np.random.default_rng(3)
    for imset in (1, 2):
        sci = rng.normal(0, 5, (6, 9)).astype(np.float32)
        sci[0, 0] = np.nan
        err = fits.ImageHDU(name="ERR", ver=imset)
        err.header["PIXVALUE"] = 1.5
        err.header["NPIX1"], err.header["NPIX2"] = 9, 6
        hdus += [
            fits.ImageHDU(sci, name="SCI", ver=imset),
            err,
            fits.ImageHDU(rng.integers(0, 2**15, (6, 9)).astype(np.int16), name="DQ", ver=imset),
        ]
    hdus += [fits.ImageHDU(np.arange(4, dtype=dtype), name=f"X{k}") for k, dtype in extra]
    fits.HDUList(hdus).writeto(path)
    return path


def test_plain_images_read_as_astropy_reads_them(tmp_path):
    path = _product(tmp_path / "p_flt.fits", extra=[(1, np.uint8), (2, np.int32), (3, np.float64)])
    gz = tmp_path / "p_flt.fits.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    for p in (path, gz):
        fast = _read_plain_images(p)
        assert fast is not None
        _same_views(fast, _read_with_astropy(p))


@pytest.mark.parametrize(
    "extra",
    [
        fits.BinTableHDU.from_columns([fits.Column("A", "J", array=[1, 2])], name="TAB"),
        fits.ImageHDU(np.arange(4, dtype=np.uint16), name="U16"),  # BZERO = 32768
    ],
    ids=["table", "scaled"],
)
def test_other_files_go_through_astropy_with_the_same_result(tmp_path, extra):
    path = _product(tmp_path / "p_flt.fits")
    with fits.open(path) as hdul:
        fits.HDUList([*hdul, extra]).writeto(tmp_path / "q_flt.fits")
    assert _read_plain_images(tmp_path / "q_flt.fits") is None
    views = read_hdus(tmp_path / "q_flt.fits")
    assert views[-1].extname == extra.name


def test_truncated_plain_file_is_one_line_naming_it(tmp_path):
    path = _product(tmp_path / "p_flt.fits")
    short = tmp_path / "short_flt.fits"
    short.write_bytes(path.read_bytes()[: -2880 - 100])
    with pytest.raises(InputFileError, match=r"short_flt.fits: not a readable FITS file \("):
        read_hdus(short)


@pytest.mark.corpus
def test_corpus_products_read_the_same_both_ways(corpus_dir):
    products = sorted(corpus_dir.glob("*/*/*_f*.fits*")) + sorted(
        corpus_dir.glob("*/*/*_crj.fits*")
    )
    assert products, f"no products under {corpus_dir}"
    for path in products[:40]:
        fast = _read_plain_images(path)
        assert fast is not None, path
        _same_views(fast, _read_with_astropy(path))


def test_plain_arrays_are_read_only_views_that_outlive_the_read(tmp_path):
    path = _product(tmp_path / "v_flt.fits")
    before = path.read_bytes()
    views = _read_plain_images(path)
    sci = next(v for v in views if v.extname == "SCI")
    assert sci.data.dtype == np.dtype(">f4") and not sci.data.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        sci.data[0, 0] = 1.0
    assert native(sci.data).dtype.isnative and native(sci.data).flags.writeable
    assert path.read_bytes() == before  # the file is never written
