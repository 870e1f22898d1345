"""Without SDQFLAGS in a product, the comparator masks with calstis's default, 32767."""

import numpy as np
from astropy.io import fits

from stischeck.diff import diff_products


def _product(path, sci_value: float, dq_bit: int):
    sci = np.ones((8, 8), np.float32)
    sci[4, 3] = sci_value
    dq = np.zeros((8, 8), np.int16)
    dq[4, 3] = dq_bit
    hdus = fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(sci, name="SCI", ver=1),
            fits.ImageHDU(np.ones((8, 8), np.float32), name="ERR", ver=1),
            fits.ImageHDU(dq, name="DQ", ver=1),
        ]
    )
    hdus.writeto(path)
    return path


def test_a_blemish_pixel_counts_as_flagged_when_no_sdqflags_is_written(tmp_path):
    # DQ bit 1024 (small blemish) is serious under calstis's default 32767
    # (hstcal cs1/getgrpinfo1.c); under 31743 (= 32767 - 1024) it counted as good.
    a = _product(tmp_path / "a.fits", 2.0, 1024)
    b = _product(tmp_path / "b.fits", 3.0, 1024)
    result = diff_products(a, b)
    sci = next(e for e in result.extensions if e.extname == "SCI")
    assert sci.comparison.subsets["flagged"]["n_differ"] == 1
    assert sci.comparison.subsets["good"]["n_differ"] == 0


def test_bit_32768_alone_is_not_serious_by_default(tmp_path):
    a = _product(tmp_path / "a.fits", 2.0, -32768)
    b = _product(tmp_path / "b.fits", 3.0, -32768)
    sci = next(e for e in diff_products(a, b).extensions if e.extname == "SCI")
    assert sci.comparison.subsets["good"]["n_differ"] == 1
