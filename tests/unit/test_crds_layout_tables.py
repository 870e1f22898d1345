"""Reference tables laid out as CRDS serves them (../shared/docs/real-stis-files.md).

The rules are calstis's (hstcal pkg/stis/lib/cs1/getccdtab.c: the first matching
row wins, -1 and ANY are wildcards, BLEV_CLIP is optional with default 50;
cs2 o_cal2_in.c for CRREJTAB). The stored cs0.e truth of tests/data/realheaders
(tests/regression/test_real_headers.py) checks the same layouts end to end.
"""

import numpy as np
from astropy.io import fits

from reference_impl.io.reffiles import read_bpixtab, read_ccdtab, read_crrejtab
from tests.support.realheaders import crds_bpixtab, crds_ccdtab

ROW = dict(
    CCDAMP="D",
    CCDGAIN=4,
    CCDOFFST=3,
    BINAXIS1=1,
    BINAXIS2=1,
    ATODGAIN=4.008,
    CCDBIAS=1500.0,
    READNSE=7.5,
    SATURATE=65000.0,
)


def test_ccdtab_int16_keys_without_blev_clip_use_the_first_matching_row(tmp_path):
    rows = [
        {**ROW, "CCDAMP": "A"},
        {**ROW, "CCDGAIN": -1, "BINAXIS1": -1, "BINAXIS2": -1, "READNSE": 9.0},  # wildcard
        ROW,
        {**ROW, "ATODGAIN": 8.0, "PEDIGREE": "DUMMY"},
    ]
    path = crds_ccdtab(tmp_path / "x_ccd.fits", rows)
    with fits.open(path) as hdul:
        assert hdul[1].columns["CCDGAIN"].format == "I" and "BLEV_CLIP" not in hdul[1].columns.names
    ccd = read_ccdtab(path, ccdamp="D", ccdgain=4, ccdoffst=3, binaxis1=1, binaxis2=1)
    assert ccd.row == 2 and ccd.readnse == np.float32(9.0)
    assert ccd.blev_clip == np.float32(50.0)  # getccdtab.c DEFAULT_BLEV_CLIP
    exact = crds_ccdtab(tmp_path / "y_ccd.fits", [ROW, {**ROW, "ATODGAIN": 8.0}])
    assert read_ccdtab(exact, ccdamp="D", ccdgain=4, ccdoffst=3, binaxis1=1, binaxis2=1).row == 1


def test_bpixtab_of_1i_columns_without_opt_elem_applies_every_row(tmp_path):
    path = crds_bpixtab(tmp_path / "x_bpx.fits", [(10, 20, 3, 1, 16), (500, 1, 1024, 2, 256)])
    table = read_bpixtab(path, opt_elem="G430L")
    assert [(r.x0, r.y0, r.length, r.axis, r.value) for r in table.runs] == [
        (9, 19, 3, 1, 16),
        (499, 0, 1024, 2, 256),
    ]


def test_crrejtab_with_string_scalense_and_logical_crmask(tmp_path):
    cols = [
        fits.Column("CRSPLIT", "1I", array=np.array([2, 2], np.int16), null=-32767),
        fits.Column("MEANEXP", "1E", array=np.array([100.0, 300000.0], np.float32)),
        fits.Column("SCALENSE", "8A", array=np.array(["0.0", "5.0"])),
        fits.Column("INITGUES", "8A", array=np.array(["minimum", "median"])),
        fits.Column("SKYSUB", "4A", array=np.array(["mode", "mode"])),
        fits.Column("CRSIGMAS", "20A", array=np.array(["5,4.0", "6,5,4.0"])),
        fits.Column("CRRADIUS", "1E", array=np.array([1.5, 1.5], np.float32)),
        fits.Column("CRTHRESH", "1E", array=np.array([0.8, 0.8], np.float32)),
        fits.Column("BADINPDQ", "1I", array=np.array([0, 0], np.int16), null=-32767),
        fits.Column("CRMASK", "1L", array=np.array([False, True])),
    ]
    path = tmp_path / "x_crr.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    params, meanexp = read_crrejtab(path, n_imsets=2, exptot_s=1200.0, obstype="IMAGING")
    assert params.scalense_percent == np.float32(5.0) and params.crmask is True
    assert params.sigmas_text == "6,5,4.0" and meanexp == 600.0


def test_tile_compressed_reference_images_read_as_their_plain_values(tmp_path):
    """cfitsio reads RICE_1 / GZIP_2 tiles like a plain image; so does the reference."""
    from reference_impl.io.reffiles import ReferenceStream, read_reference_image

    rng = np.random.default_rng(14)
    sci = rng.normal(1500.0, 3.0, (40, 64)).astype(np.float32)
    dq = np.zeros((40, 64), np.int16)
    dq[3, 5] = 16
    for compression, kwargs in (("RICE_1", {}), ("GZIP_2", {"quantize_level": 0.0})):
        path = tmp_path / f"{compression}_bia.fits"
        hdus = [fits.PrimaryHDU()]
        for name, data in (("SCI", sci), ("ERR", np.zeros_like(sci)), ("DQ", dq)):
            extra = kwargs if data.dtype.kind == "f" else {"quantize_level": 0.0}
            hdu = fits.CompImageHDU(data=data, compression_type=compression, **extra)
            hdu.header["EXTNAME"], hdu.header["LTV2"] = name, -100.0
            hdus.append(hdu)
        fits.HDUList(hdus).writeto(path)
        with fits.open(path) as hdul:
            expected = np.asarray(hdul["SCI"].data, np.float32)
        if compression == "GZIP_2":
            np.testing.assert_array_equal(expected, sci)  # lossless
        ref = read_reference_image(path, what="bias image")
        assert ref.imset.sci.shape == (40, 64) and ref.imset.dq[3, 5] == 16
        np.testing.assert_array_equal(ref.imset.sci, expected)
        assert ref.placement == read_reference_image(path, what="bias image").placement
        with ReferenceStream(path, what="flat") as stream:
            np.testing.assert_array_equal(stream.sci, expected)
            assert np.all(np.concatenate([b for _, b in stream.err_blocks()]) == 0)
            assert stream.dq()[3, 5] == 16
