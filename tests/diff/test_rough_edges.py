"""Rough edges of stischeck diff: integer data, |Δ|/ERR where meaningless, old-truth wording."""

import gzip
import json

import numpy as np
import pytest

from stischeck.cli import main
from stischeck.diff import diff_products
from stischeck.record import changes_against
from tests.diff.fitsedit import decompress, edited

pytestmark = pytest.mark.corpus

CASE = "img_ampB_g1_sub1060x48_cr1"
RAW = f"{CASE}/oxdmpg010_raw.fits.gz"
FLT = f"{CASE}/DQICORR/oxdmpg010_flt.fits.gz"


def _copy(corpus_dir, tmp_path, name, out="a.fits"):
    src = corpus_dir / name
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    return decompress(src, tmp_path / out)


def _poke(hdu, index: int, value: bytes) -> None:
    """Overwrite the stored bytes of one pixel (``index`` in bytes from the data start)."""
    hdu.data = hdu.data[:index] + value + hdu.data[index + len(value) :]


def test_integer_sci_differences_are_integers_not_float_ulps(corpus_dir, tmp_path, capsys):
    a = _copy(corpus_dir, tmp_path, RAW)

    def plus_five(hdus):
        sci = hdus[1]  # BITPIX 16, BZERO 32768: stored value + 5 is the DN + 5
        value = np.frombuffer(sci.data[:2], ">i2")[0]
        _poke(sci, 0, np.array(value + 5, ">i2").tobytes())

    b = edited(a, tmp_path / "b.fits", plus_five)
    code = main(["diff", str(a), str(b), "--detail"])
    out = capsys.readouterr().out
    assert code == 1
    assert "4611686018427387904" not in out
    assert "SCI imset 1: 1 of 50880 pixels differ, max |Δ| 5 (integer data) at [1, 1]" in out
    assert "ulp" not in out.split("Differences", 1)[1].split("\n\n", 1)[0]
    row = next(line for line in out.splitlines() if line.startswith("SCI  1"))
    assert row.split()[5] == "-"  # MAX ULP column
    sci = next(e for e in diff_products(a, b).extensions if e.extname == "SCI")
    assert sci.comparison.integer and sci.comparison.max_ulp == 5


def test_sigma_is_left_out_where_it_has_no_meaning(corpus_dir, tmp_path, capsys):
    """ERR rows have no |Δ|/ERR; a raw file's ERR is zero, so its SCI has none either."""
    a = _copy(corpus_dir, tmp_path, FLT)

    def bump_err(hdus):
        err = hdus[2]
        value = np.frombuffer(err.data[:4], ">f4")[0]
        _poke(err, 0, np.array(value * 2 + 1, ">f4").tobytes())

    b = edited(a, tmp_path / "b.fits", bump_err)
    code = main(["diff", str(a), str(b), "--detail"])
    out = capsys.readouterr().out
    assert code == 1 and "ERR imset 1:" in out
    assert "nan" not in out

    raw = _copy(corpus_dir, tmp_path, RAW, "raw.fits")

    def bump_sci(hdus):
        value = np.frombuffer(hdus[1].data[:2], ">i2")[0]
        _poke(hdus[1], 0, np.array(value + 1, ">i2").tobytes())

    code = main(["diff", str(raw), str(edited(raw, tmp_path / "raw_b.fits", bump_sci)), "--detail"])
    out = capsys.readouterr().out
    assert code == 1
    assert "nan" not in out and "|Δ|/ERR " not in out.split("worst pixels", 1)[1]


def test_record_force_names_old_truth_and_new_run(corpus_dir, tmp_path):
    src = corpus_dir / FLT
    if not src.exists():
        pytest.skip(f"{src} not in this corpus")
    folders = {}
    for side in ("old", "new"):
        root = tmp_path / side
        (root / "DQICORR").mkdir(parents=True)
        (root / "manifest.json").write_text(
            json.dumps({"rootname": "oxdmpg010", "sequence": ["DQICORR"]})
        )
        folders[side] = root
    (folders["old"] / "DQICORR" / "oxdmpg010_flt.fits.gz").write_bytes(src.read_bytes())
    flt = decompress(src, tmp_path / "flt.fits")

    def set_bit(hdus):
        dq = hdus[3]
        value = np.frombuffer(dq.data[:2], ">i2")[0]
        _poke(dq, 0, np.array(value | 8192, ">i2").tobytes())

    new = edited(flt, tmp_path / "new_flt.fits", set_bit).read_bytes()
    (folders["new"] / "DQICORR" / "oxdmpg010_flt.fits.gz").write_bytes(gzip.compress(new))
    lines = changes_against(folders["old"], folders["new"])
    assert len(lines) == 1
    assert "bit 8192 DATAREJECT: only in old truth 0, only in new run 1" in lines[0]
    assert " in A" not in lines[0] and " in B" not in lines[0]
