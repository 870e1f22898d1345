"""FitsReader, read_table and read_primary_header against astropy and hand-computed values."""

import gzip

import numpy as np
import pytest
from astropy.io import fits

from reference_impl.errors import RawInputError, ReferenceFileError
from reference_impl.io.fitsutil import FitsReader, StoredImage, read_primary_header, read_table

RNG = np.random.default_rng(20261202)


def _hdu_bytes(header: fits.Header, data: bytes = b"") -> bytes:
    """One HDU as a FITS writer lays it out: header blocks, data padded to 2880 bytes."""
    text = header.tostring().encode("ascii")
    pad = -len(data) % 2880
    return text + data + b"\0" * pad


def _image_header(bitpix: int, shape: tuple[int, ...], extname: str, extver: int, **cards):
    h = fits.Header()
    h["XTENSION"] = "IMAGE"
    h["BITPIX"] = bitpix
    h["NAXIS"] = len(shape)
    for k, n in enumerate(reversed(shape), start=1):
        h[f"NAXIS{k}"] = n
    h["PCOUNT"] = 0
    h["GCOUNT"] = 1
    h["EXTNAME"] = extname
    h["EXTVER"] = extver
    for key, value in cards.items():
        h[key] = value
    return h


def _write(path, hdus: list[tuple[fits.Header, bytes]], *, compress: bool = False):
    primary = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0), ("EXTEND", True)])
    blob = _hdu_bytes(primary) + b"".join(_hdu_bytes(h, d) for h, d in hdus)
    path.write_bytes(gzip.compress(blob) if compress else blob)
    return path


def _image(path, key, dtype, **kw):
    with FitsReader(path, **kw) as reader:
        for hdu in reader:
            if hdu.key == key:
                return hdu.image(dtype)
    raise AssertionError(f"{key} not found")


def _astropy_data(path, index, dtype):
    with fits.open(path) as hdul:
        return np.asarray(hdul[index].data).astype(dtype)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("bitpix", "stored", "dtype"),
    [
        (16, ">i2", np.float32),
        (16, ">i2", np.int16),
        (32, ">i4", np.float64),
        (8, "u1", np.float32),
        (-32, ">f4", np.float32),
        (-64, ">f8", np.float64),
    ],
)
def test_image_equals_astropy_for_unscaled_data(tmp_path, bitpix, stored, dtype, compress):
    info = np.iinfo(stored) if np.dtype(stored).kind in "iu" else None
    if info is None:
        values = RNG.normal(0, 1e3, size=(7, 5)).astype(stored)
        values.flat[3] = np.nan
        values.flat[4] = -0.0
    else:
        values = RNG.integers(info.min, info.max, size=(7, 5), endpoint=True).astype(stored)
    path = _write(
        tmp_path / "a.fits",
        [(_image_header(bitpix, values.shape, "SCI", 1), values.tobytes())],
        compress=compress,
    )
    ours = _image(path, ("SCI", 1), dtype)
    theirs = _astropy_data(path, 1, dtype)
    assert ours.dtype == np.dtype(dtype) and ours.dtype.isnative
    np.testing.assert_array_equal(ours, theirs)
    assert np.array_equal(np.signbit(ours), np.signbit(theirs))


def test_image_reads_uint16_raw_sci_as_astropy_does(tmp_path):
    # Raw STIS SCI: uint16 stored as int16 with BZERO = 32768.
    values = RNG.integers(0, 65535, size=(6, 9), endpoint=True).astype(np.uint16)
    values.flat[:2] = (0, 65535)
    path = tmp_path / "raw.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values, name="SCI")]).writeto(path)
    ours = _image(path, ("SCI", 1), np.float32)
    np.testing.assert_array_equal(ours, _astropy_data(path, 1, np.float32))
    np.testing.assert_array_equal(ours, values.astype(np.float32))


def test_image_applies_bscale_bzero_in_double_as_cfitsio(tmp_path):
    raw = np.array([[-32768, -1, 0, 1, 12345, 32767]], dtype=">i2")
    bscale, bzero = 0.1, 3.3
    path = _write(
        tmp_path / "s.fits",
        [(_image_header(16, raw.shape, "SCI", 1, BSCALE=bscale, BZERO=bzero), raw.tobytes())],
    )
    ours = _image(path, ("SCI", 1), np.float32)
    expected = [np.float32(int(v) * bscale + bzero) for v in raw.ravel()]
    np.testing.assert_array_equal(ours.ravel(), np.array(expected, dtype=np.float32))


def test_image_ignores_blank_as_hstio_does(tmp_path):
    # hstio reads with a null value of 0: no undefined-pixel check, no NaN.
    raw = np.array([[-999, 5, 7]], dtype=">i2")
    for cards, expected in (
        ({"BLANK": -999}, [-999.0, 5.0, 7.0]),
        ({"BLANK": -999, "BZERO": 10.0}, [-989.0, 15.0, 17.0]),
        ({"BLANK": -999, "BSCALE": 2.0}, [-1998.0, 10.0, 14.0]),
    ):
        path = _write(
            tmp_path / "b.fits", [(_image_header(16, raw.shape, "SCI", 1, **cards), raw.tobytes())]
        )
        np.testing.assert_array_equal(_image(path, ("SCI", 1), np.float32).ravel(), expected)


@pytest.mark.parametrize(
    ("pixvalue", "dtype"), [(0.0, np.float32), (-0.0, np.float32), (2.5, np.float32), (4, np.int16)]
)
def test_image_expands_null_extensions(tmp_path, pixvalue, dtype):
    h = _image_header(-32 if dtype == np.float32 else 16, (), "ERR", 1)
    h["NPIX1"], h["NPIX2"], h["PIXVALUE"] = 5, 3, pixvalue
    path = _write(tmp_path / "n.fits", [(h, b"")])
    out = _image(path, ("ERR", 1), dtype)
    assert out.shape == (3, 5) and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, np.full((3, 5), pixvalue, dtype=dtype))
    assert np.all(np.signbit(out) == np.signbit(np.asarray(pixvalue, dtype=dtype)))


def test_image_returns_a_new_writable_array(tmp_path):
    values = np.arange(6, dtype=">f4").reshape(2, 3)
    path = _write(
        tmp_path / "w.fits", [(_image_header(-32, values.shape, "SCI", 1), values.tobytes())]
    )
    a = _image(path, ("SCI", 1), np.float32)
    assert a.flags.writeable and a.flags.c_contiguous
    a[0, 0] = 99.0
    np.testing.assert_array_equal(_image(path, ("SCI", 1), np.float32), values)


def test_reader_yields_extensions_in_order_with_upper_case_names(tmp_path):
    one = np.zeros((2, 2), ">f4")
    two = np.ones((2, 2), ">f4")
    path = _write(
        tmp_path / "f.fits",
        [
            (_image_header(-32, (2, 2), "sci", 1), one.tobytes()),
            (_image_header(-32, (2, 2), "SCI", 1), two.tobytes()),
            (_image_header(-32, (2, 2), "SCI", 2), two.tobytes()),
        ],
    )
    with FitsReader(path) as reader:
        seen = [(hdu.index, hdu.key, hdu.image(np.float32)[0, 0]) for hdu in reader]
    assert seen == [(1, ("SCI", 1), 0.0), (2, ("SCI", 1), 1.0), (3, ("SCI", 2), 1.0)]


def test_reader_skips_data_not_taken_and_can_stop_early(tmp_path, monkeypatch):
    a, b = np.arange(6, dtype=">f4").reshape(2, 3), np.arange(4, dtype=">i2").reshape(2, 2)
    path = _write(
        tmp_path / "s.fits.gz",
        [
            (_image_header(-32, a.shape, "SCI", 1), a.tobytes()),
            (_image_header(16, b.shape, "DQ", 1), b.tobytes()),
        ],
        compress=True,
    )
    assert _image(path, ("DQ", 1), np.int16).tolist() == [[0, 1], [2, 3]]
    with FitsReader(path) as reader:
        first = next(iter(reader))
        assert first.key == ("SCI", 1)


def test_truncated_data_is_an_error_naming_the_file(tmp_path):
    values = np.zeros((100, 100), ">f4")
    path = _write(
        tmp_path / "t.fits", [(_image_header(-32, values.shape, "SCI", 1), values.tobytes())]
    )
    path.write_bytes(path.read_bytes()[: 2880 * 3])
    with pytest.raises(RawInputError, match="t.fits: not a readable FITS raw file"):
        _image(path, ("SCI", 1), np.float32, what="raw file")


@pytest.mark.parametrize("content", [b"", b"not a fits file" * 300])
def test_non_fits_files_are_errors(tmp_path, content):
    path = tmp_path / "x.fits"
    path.write_bytes(content)
    with pytest.raises(ReferenceFileError, match="x.fits"):
        FitsReader(path, error_cls=ReferenceFileError)
    with pytest.raises(ReferenceFileError, match="x.fits"):
        read_primary_header(path, error_cls=ReferenceFileError)


@pytest.mark.parametrize("compress", [False, True])
def test_read_primary_header_equals_astropy(tmp_path, compress):
    primary = fits.PrimaryHDU()
    for k in range(60):  # more than one 2880-byte block
        primary.header[f"KEY{k}"] = (k * 1.5, "a comment")
    primary.header["PEDIGREE"] = "DUMMY 01/01/2000"
    path = tmp_path / ("p.fits.gz" if compress else "p.fits")
    fits.HDUList([primary, fits.ImageHDU(np.zeros((4, 4), np.float32))]).writeto(path)
    ours = read_primary_header(path)
    with fits.open(path) as hdul:
        assert ours.tostring() == hdul[0].header.tostring()


def _table_file(tmp_path, columns, name="t.fits.gz"):
    path = tmp_path / name
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns)]).writeto(path)
    return path


def test_read_table_equals_astropy_for_plain_columns(tmp_path):
    n = 5
    columns = [
        fits.Column("CCDAMP", "4A", array=np.array(["A", "B ", " C", "ANY", ""])),
        fits.Column("CCDGAIN", "J", array=np.array([1, 4, -1, 2, 8])),
        fits.Column("BADINPDQ", "I", array=np.array([0, 256, -3, 7, 1])),
        fits.Column("BIG", "K", array=np.arange(n) * 2**40),
        fits.Column("ATODGAIN", "E", array=np.array([1.029, 4.016, np.nan, -0.0, 1e-40])),
        fits.Column("MEANEXP", "D", array=np.array([0.1, 1e300, -2.5, 3.0, 7.0])),
        fits.Column("FLAG", "L", array=np.array([True, False, True, True, False])),
        fits.Column("BYTE", "B", array=np.array([0, 1, 2, 254, 255], np.uint8)),
        fits.Column("PAIR", "2E", array=np.arange(2 * n, dtype=np.float32).reshape(n, 2)),
    ]
    path = _table_file(tmp_path, columns)
    _, header, ours = read_table(path)
    assert header["NAXIS2"] == n
    with fits.open(path) as hdul:
        data = hdul[1].data
        assert list(ours) == [c.upper() for c in data.columns.names]
        for name in data.columns.names:
            theirs = np.asarray(data[name])
            if theirs.dtype.kind in "SU":
                assert [s.rstrip() for s in ours[name].tolist()] == [
                    str(s).rstrip() for s in theirs.tolist()
                ]
            else:
                np.testing.assert_array_equal(ours[name], theirs)
                assert ours[name].dtype.isnative


def test_read_table_falls_back_to_astropy_for_scaled_columns(tmp_path):
    col = fits.Column("U", "I", bzero=32768, array=np.array([0, 40000, 65535], np.uint16))
    _, _, ours = read_table(_table_file(tmp_path, [col], "u.fits"))
    assert ours["U"].tolist() == [0, 40000, 65535]


def test_read_table_rejects_an_image_file(tmp_path):
    path = tmp_path / "img.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((2, 2)))]).writeto(path)
    with pytest.raises(ReferenceFileError, match="img.fits: not a FITS table"):
        read_table(path, error_cls=ReferenceFileError)


@pytest.mark.parametrize(
    ("bzero", "stored", "constant"),
    [
        (0.0, [3, 3, 3], True),
        (32768.0, [5, 6], False),  # decided on the integers: the shift is exact
        (1e8, [32766, 32767], True),  # float32 rounds both to 1.00032768e8: constant as SCI
    ],
)
def test_stored_image_is_constant_as_its_float32_values_are(bzero, stored, constant):
    header = fits.Header([("BITPIX", 16), ("NAXIS", 1), ("NAXIS1", len(stored)), ("BZERO", bzero)])
    image = StoredImage(header, np.array(stored, ">i2"))
    assert image.is_constant() is constant
    assert constant == (np.unique(image.array(np.float32)).size == 1)
