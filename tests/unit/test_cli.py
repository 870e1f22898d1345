"""The command line: version, info, and one-line errors with exit 2 for bad input."""

import gzip
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck import __version__
from stischeck.cli import main

SMALL_CASE = "img_ampB_g1_sub1060x48_cr1"


def sha256_tree(path: Path) -> dict:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("stischeck: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_info_lists_calstis_libraries_and_corpus(capsys):
    code, out, _ = run_cli(capsys, "info")
    assert code == 0
    for key in ("cs0.e:", "stistools:", "astropy:", "numpy:", "pandas:", "corpus:"):
        assert key in out


def test_console_script_reports_a_missing_file_with_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "stischeck.cli", "reference", str(tmp_path / "nope_raw.fits")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"stischeck: {tmp_path / 'nope_raw.fits'}: raw file not found"


@pytest.mark.parametrize(
    "kind", ["directory", "empty", "not_fits", "truncated", "plain_image", "mama"]
)
def test_reference_rejects_bad_raw_input_in_one_line(kind, tmp_path, capsys):
    path = tmp_path / "bad_raw.fits"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not_fits":
        path.write_text("this is a text file, not FITS\n" * 100)
    elif kind == "truncated":
        fits.PrimaryHDU(np.zeros((200, 200), np.float32)).writeto(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "plain_image":
        fits.PrimaryHDU(np.zeros((10, 10), np.float32)).writeto(path)
    elif kind == "mama":
        hdr = fits.Header({"INSTRUME": "STIS", "DETECTOR": "FUV-MAMA", "NEXTEND": 3})
        fits.HDUList(
            [fits.PrimaryHDU(header=hdr), fits.ImageHDU(np.zeros((4, 4), np.int16), name="SCI")]
        ).writeto(path)
    before = sha256_tree(path)
    code, _, err = run_cli(capsys, "reference", path, "--outroot", f"{tmp_path}/out/")
    assert_one_line_error(code, err, str(path.name))
    assert sha256_tree(path) == before
    expected = {
        "directory": "is a directory",
        "empty": "empty file",
        "not_fits": "not a readable",
        "truncated": "not a readable",
        "plain_image": "not a STIS exposure",
        "mama": "DETECTOR = 'FUV-MAMA'",
    }[kind]
    assert expected in err


@pytest.fixture
def small_case(corpus_dir, tmp_path):
    """A writable copy of the small subarray case: raw (gunzipped) and oref/."""
    src = corpus_dir / SMALL_CASE
    work = tmp_path / "case"
    shutil.copytree(src / "oref", work / "oref")
    raw = work / "oxdmpg010_raw.fits"
    with gzip.open(src / "oxdmpg010_raw.fits.gz") as f:
        raw.write_bytes(f.read())
    return work, raw


@pytest.mark.corpus
def test_reference_writes_an_flt_and_leaves_the_input_unchanged(small_case, capsys):
    work, raw = small_case
    before = sha256_tree(work)
    code, out, err = run_cli(
        capsys, "reference", raw, "--oref", work / "oref", "--outroot", f"{work}/out/"
    )
    assert code == 0, err
    assert out.strip() == f"{work}/out/oxdmpg010_flt.fits"
    assert sha256_tree(work / "oref") == {k: v for k, v in before.items() if "/oref/" in k}
    assert sha256_tree(raw) == {str(raw): before[str(raw)]}


@pytest.mark.corpus
def test_reference_refuses_to_overwrite_an_existing_product(small_case, capsys):
    work, raw = small_case
    args = ("reference", raw, "--oref", work / "oref", "--outroot", f"{work}/out/")
    assert run_cli(capsys, *args)[0] == 0
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, "already exists")


def _set_header(path: Path, **keys):
    with fits.open(path, mode="update") as hdul:
        for k, v in keys.items():
            hdul[0].header[k] = v


@pytest.mark.corpus
@pytest.mark.parametrize(
    "problem", ["missing_reference", "wrong_size_bias", "ccdtab_no_row", "binned_more_than_science"]
)
def test_reference_rejects_bad_reference_files_in_one_line(problem, small_case, capsys):
    work, raw = small_case
    oref = work / "oref"
    if problem == "missing_reference":
        (oref / "travrfapo_bia.fits.gz").unlink()
        needle = "travrfapo_bia.fits: reference file not found"
    elif problem == "wrong_size_bias":
        bias = oref / "travrfapo_bia.fits.gz"
        with fits.open(bias) as hdul:
            hdul["SCI"].data = hdul["SCI"].data[:10, :100].copy()
            for name in ("ERR", "DQ"):
                if hdul[name].data is not None:
                    hdul[name].data = hdul[name].data[:10, :100].copy()
                else:
                    hdul[name].header["NPIX1"], hdul[name].header["NPIX2"] = 100, 10
            hdul.writeto(oref / "small_bia.fits")
        _set_header(raw, BIASFILE="oref$small_bia.fits")
        needle = "small_bia.fits"
    elif problem == "ccdtab_no_row":
        # An offset this CCDTAB has no row for (a gain other than 1, 2, 4, 8 is refused
        # earlier by the harness's schema: calstis crashes or refuses on those).
        _set_header(raw, CCDOFFST=5)
        needle = "no CCDTAB row matches"
    else:
        bias = oref / "travrfapo_bia.fits.gz"
        with fits.open(bias) as hdul:
            for ext in ("SCI", "ERR", "DQ"):
                hdul[ext].header["LTM1_1"] = 0.5
            hdul.writeto(oref / "binned_bia.fits")
        _set_header(raw, BIASFILE="oref$binned_bia.fits")
        needle = "binned 2 on x, more than the science data"
    before = sha256_tree(work)
    code, _, err = run_cli(capsys, "reference", raw, "--oref", oref, "--outroot", f"{work}/out/")
    assert_one_line_error(code, err, needle)
    assert sha256_tree(work) == before
    assert not (work / "out").exists() or not any((work / "out").iterdir())
