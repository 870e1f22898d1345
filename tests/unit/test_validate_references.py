"""The reference-file value checks read from the bytes give astropy's lines, file for file.

`stischeck.validate` checks reference images for pixels that are not finite and
tables for non-ASCII text and non-finite CCDTAB numbers from the bytes its own
walker read (issue 17: without importing astropy); the astropy versions stay
for layouts the byte path does not read, and are the judge here.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck import validate as v

CASE = "img_ampD_g1_bin4x4_cr2"


def _plain(src: Path, dest: Path) -> Path:
    out = dest / src.name.removesuffix(".gz")
    out.write_bytes(gzip.decompress(src.read_bytes()) if src.suffix == ".gz" else src.read_bytes())
    return out


def _both(kind: str, key: str, path: Path):
    data = v._read_bytes(path, "file")
    hdus, problem = v._walk(data, every_card=True)
    assert not problem
    fast = {
        "image": lambda: v._image_value_violations(key, path, hdus, data),
        "text": lambda: v._table_text_violations(key, path, hdus, data),
        "ccdtab": lambda: v._ccdtab_violations(path, hdus, data),
    }[kind]()
    slow = {
        "image": lambda: v._image_value_violations_astropy(key, path),
        "text": lambda: v._table_text_violations_astropy(key, path),
        "ccdtab": lambda: v._ccdtab_violations_astropy(path),
    }[kind]()
    return fast, slow


@pytest.fixture
def oref(corpus_dir, tmp_path):
    for f in (corpus_dir / CASE / "oref").iterdir():
        _plain(f, tmp_path)
    return tmp_path


def _one(folder: Path, pattern: str) -> Path:
    return next(folder.glob(pattern))


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("pattern", "extension", "value"),
    [
        ("*_drk.fits", 1, np.nan),
        ("*_bia.fits", 2, np.inf),
        ("*_pfl.fits", 1, -np.inf),
        ("*_drk.fits", 1, 3e33),
        ("*_bia.fits", 1, None),  # undamaged
    ],
)
def test_damaged_reference_images_give_astropys_line(oref, pattern, extension, value):
    path = _one(oref, pattern)
    if value is not None:
        with fits.open(path, mode="update") as hdul:
            hdul[extension].data[1:3, 2] = value
    fast, slow = _both("image", "DARKFILE", path)
    assert fast == slow
    assert bool(fast) == (value is not None)


@pytest.mark.corpus
def test_a_tile_compressed_image_is_read_by_astropy_with_the_same_line(oref):
    path = _one(oref, "*_drk.fits")
    with fits.open(path) as hdul:
        sci = hdul[1].data.copy()
        sci[0, 0] = np.nan
        tiles = fits.CompImageHDU(sci, header=hdul[1].header, name="SCI")
        comp = fits.HDUList([fits.PrimaryHDU(header=hdul[0].header), tiles])
        out = oref / "comp_drk.fits"
        comp.writeto(out)
    fast, slow = _both("image", "DARKFILE", out)
    assert fast == slow and fast


@pytest.mark.corpus
@pytest.mark.parametrize("pattern", ["*_bpx.fits", "*_ccd.fits", "*_crr.fits"])
def test_non_ascii_table_text_gives_astropys_line(oref, pattern):
    path = _one(oref, pattern)
    assert _both("text", "BPIXTAB", path) == ([], [])
    with fits.open(path) as hdul:
        columns = hdul[1].columns
        text = [c for c in columns if c.format.endswith("A") or "A" in c.format]
    if not text:
        pytest.skip(f"{path.name}: no text column")
    data = bytearray(path.read_bytes())
    hdus, _ = v._walk(bytes(data), every_card=True)
    layout = {name: offset for name, code, _, offset in v._columns(hdus[1]) if code == "A"}
    name = text[0].name
    data[hdus[1].data_offset + layout[name]] = 0xE9
    path.write_bytes(bytes(data))
    fast, slow = _both("text", "BPIXTAB", path)
    assert fast == slow and fast


@pytest.mark.corpus
def test_non_finite_ccdtab_number_gives_astropys_line(oref):
    path = _one(oref, "*_ccd.fits")
    assert _both("ccdtab", "CCDTAB", path) == ([], [])
    with fits.open(path, mode="update") as hdul:
        hdul[1].data["READNSE"][1] = np.nan
    fast, slow = _both("ccdtab", "CCDTAB", path)
    assert fast == slow and fast
