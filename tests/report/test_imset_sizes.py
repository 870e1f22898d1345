"""The report on products whose imsets differ in size and place (real target acquisitions)."""

import numpy as np
from astropy.io import fits

from stischeck.cli import main
from tests.report.conftest import ROOT, make_tiny_folder

#: (ny, nx) and (LTV1, LTV2) of the three imsets of the real ACQ file ocmv0lw6q.
IMSETS = (
    ((100, 100), (-467.0, -465.0)),
    ((100, 100), (-467.0, -465.0)),
    ((30, 30), (-502.0, -500.0)),
)


def _rewrite(path, *, raw: bool, level: float) -> None:
    """Replace a product of the tiny folder by one with the three ACQ-shaped imsets."""
    rng = np.random.default_rng(3)
    hdus = [fits.PrimaryHDU()]
    with fits.open(path) as old:
        hdus[0].header = old[0].header.copy()
    hdus[0].header["NEXTEND"] = 9
    for k, (shape, (ltv1, ltv2)) in enumerate(IMSETS, start=1):
        sci = rng.normal(level, 3.0, shape)
        if k == 1 and not raw:
            sci[84, 9] = -500.0  # FITS [10, 85]: the most negative pixel, outside imset 3
        sci = np.round(sci).clip(0).astype(np.uint16) if raw else sci.astype(np.float32)
        h = fits.ImageHDU(sci, name="SCI", ver=k)
        h.header["LTV1"], h.header["LTV2"] = ltv1, ltv2
        h.header["EXPTIME"] = 0.5
        hdus += [
            h,
            fits.ImageHDU(np.full(shape, 3.0, np.float32), name="ERR", ver=k),
            fits.ImageHDU(np.zeros(shape, np.int16), name="DQ", ver=k),
        ]
    fits.HDUList(hdus).writeto(path, overwrite=True)


def test_the_report_renders_imsets_of_different_sizes(tmp_path, capsys):
    folder = make_tiny_folder(tmp_path / "acq")
    for path in sorted((folder / "runs").rglob("*.fits")):
        raw = path.name == f"{ROOT}_raw.fits"
        _rewrite(path, raw=raw, level=100.0 if raw or "DQICORR" in str(path) else 0.0)
    assert main(["report", str(folder)]) == 0, capsys.readouterr().err
    html = (folder / "report.html").read_text()
    # The most negative pixel, FITS [10, 85] of imset 1, lies in imsets 1 and 2 only.
    assert "most negative" in html
    assert "imsets 1, 2 of 3" in html
