"""Products of ``stischeck reference`` reopen with astropy and keep calstis's dtypes."""

from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from astropy.io import fits
from hypothesis import HealthCheck, example, given

from stischeck.cli import main
from stischeck.synth import SynthParams, write_dataset
from tests.strategies import budget, dataset_params


def _check_product(path: Path) -> None:
    with fits.open(path) as hdul:
        n = hdul[0].header["NEXTEND"] // 3
        assert len(hdul) == 1 + 3 * n
        for k in range(1, n + 1):
            sci, err, dq = hdul["SCI", k], hdul["ERR", k], hdul["DQ", k]
            assert sci.header["BITPIX"] == -32 and sci.data.dtype == np.dtype(">f4")
            shape = sci.data.shape
            for hdu, bitpix, dtype in ((err, -32, ">f4"), (dq, 16, ">i2")):
                assert hdu.header["BITPIX"] == bitpix
                if hdu.header["NAXIS"] == 0:  # an HST null extension stands for a constant array
                    assert (hdu.header["NPIX2"], hdu.header["NPIX1"]) == shape
                else:
                    assert hdu.data.dtype == np.dtype(dtype) and hdu.data.shape == shape


@budget(ci=3, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(params=dataset_params(size="small"))
@example(params=SynthParams(seed=1, expscorr=True))
def test_reference_products_reopen_with_astropy_and_keep_their_dtypes(params):
    with TemporaryDirectory() as tmp:
        paths = write_dataset(params, Path(tmp) / "data")
        code = main(["reference", str(paths.raw), "--oref", str(paths.oref),
                     "--outroot", f"{tmp}/out/"])  # fmt: skip
        assert code == 0
        products = sorted(Path(tmp, "out").glob("*.fits"))
        assert products
        for product in products:
            _check_product(product)
