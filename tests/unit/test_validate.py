"""The raw-file schema and the structural checks: each class of damage is one line naming it."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck.cli import main
from stischeck.validate import validate_fits, validate_raw, validate_references
from tests.support import mutate

CASE = "img_ampB_g1_sub1060x48_cr1"


@pytest.fixture(scope="module")
def clean(corpus_dir):
    folder = corpus_dir / CASE
    raw = next(folder.glob("*_raw.fits*"))
    data = mutate.load(raw)
    return folder, data, mutate.layout(data)


def damaged(tmp_path, clean, hdu, key, value) -> Path:
    _, data, lay = clean
    index = mutate.hdu_index(lay, *hdu) if isinstance(hdu, tuple) else hdu
    path = tmp_path / "o1234_raw.fits"
    path.write_bytes(mutate.set_card(data, lay, index, key, value))
    return path


CLASSES = {
    "unparsable card": (0, "CCDGAIN", "NAN", "[0]: CCDGAIN = NAN does not parse"),
    "string for a number": (("SCI", 1), "LTV1", "'abc'", "[SCI,1]: LTV1 = 'abc' is not a number"),
    "gain calstis has no row for": (0, "CCDGAIN", "2.5", "[0]: CCDGAIN = 2.5 is not one of 1, 2"),
    "out-of-range SDQFLAGS": (("SCI", 1), "SDQFLAGS", "1E30", "SDQFLAGS = 1E30 is out of range"),
    "out-of-range EXPTIME": (("SCI", 1), "EXPTIME", "1E30", "EXPTIME = 1E30 is out of range"),
    "null DQ outside int16": (("DQ", 1), "PIXVALUE", "99999", "[DQ,1]: PIXVALUE = 99999 is out"),
    "negative NEXTEND": (0, "NEXTEND", "-1", "[0]: NEXTEND = -1 is below 3"),
    "NEXTEND zero": (0, "NEXTEND", "0", "[0]: NEXTEND = 0 is below 3"),
    "STATFLAG not logical": (0, "STATFLAG", "'MAYBE'", "STATFLAG = 'MAYBE' is not a logical"),
    "two amplifiers": (0, "CCDAMP", "'AB'", "[0]: CCDAMP = 'AB' is not one of A, B, C, D"),
    "string NAXIS": (0, "NAXIS", "'x'", "[0]: NAXIS is missing or not an integer"),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", list(CLASSES))
def test_each_damaged_header_value_is_one_line_naming_file_hdu_and_keyword(
    name, clean, tmp_path, capsys
):
    hdu, key, value, expected = CLASSES[name]
    path = damaged(tmp_path, clean, hdu, key, value)
    found = validate_raw(path)
    assert found and expected in found[0].line(str(path))
    code = main(["reference", str(path), "--outroot", f"{tmp_path}/out/"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"stischeck: {path}[")
    assert expected in err


@pytest.mark.corpus
def test_non_ascii_bytes_in_a_header_name_the_card(clean, tmp_path):
    _, data, lay = clean
    offset, key = lay.hdus[0].cards[20]
    number = (offset - lay.hdus[0].start) // 80 + 1
    path = tmp_path / "o_raw.fits"
    path.write_bytes(mutate.flip(data, offset + 15, 0xE9))
    (v,) = validate_raw(path)
    assert v.line("f") == f"f[0]: card {number} ({key}) holds bytes that are not printable ASCII"


@pytest.mark.corpus
def test_an_err_extension_of_another_shape_is_named(clean, tmp_path):
    folder, _, _ = clean
    raw = next(folder.glob("*_raw.fits*"))
    path = tmp_path / "o_raw.fits"
    with fits.open(raw) as hdul:
        hdul["ERR", 1] = fits.ImageHDU(np.ones((10, 12), np.float32), hdul["ERR", 1].header)
        hdul.writeto(path)
    (v,) = validate_raw(path)
    assert v.line("f") == "f[ERR,1]: ERR is 12 x 10, SCI is 1060 x 48"


@pytest.mark.corpus
def test_a_missing_keyword_calstis_requires_is_named(clean, tmp_path):
    _, data, lay = clean
    path = tmp_path / "o_raw.fits"
    path.write_bytes(mutate.delete_card(data, lay, mutate.hdu_index(lay, "SCI", 1), "EXPSTART"))
    assert [v.line("f") for v in validate_raw(path)] == ["f[SCI,1]: EXPSTART is missing"]


@pytest.mark.corpus
def test_every_corpus_and_real_raw_file_passes(corpus_dir):
    files = sorted(corpus_dir.glob("*/*_raw.fits*")) + sorted(
        Path("/work/realdata").glob("*/*.fits")
    )
    assert files
    assert {str(f): [v.line("") for v in validate_raw(f)] for f in files} == {
        str(f): [] for f in files
    }


@pytest.mark.corpus
def test_the_same_damaged_file_gets_the_same_words_from_every_command(clean, tmp_path, capsys):
    _, data, _ = clean
    text = tmp_path / "notes_raw.fits"
    text.write_text("these are my notes, not a FITS file\n" * 100)
    cut = tmp_path / "cut_raw.fits"
    cut.write_bytes(mutate.truncate(data, 0.7))
    for path in (text, cut):
        lines = set()
        for argv in (
            ["reference", str(path), "--outroot", f"{tmp_path}/out/"],
            ["compare", str(path), "--no-calstis", "--truth", str(tmp_path), "--no-html"],
            ["diff", str(path), str(path)],
            ["record", str(path), "--out", str(tmp_path / "truth"), "--calstis", "/bin/true"],
        ):
            assert main(argv) == 2
            lines.add(capsys.readouterr().err)
        assert len(lines) == 1, lines
        assert lines.pop().startswith(f"stischeck: {path}")


@pytest.mark.corpus
def test_diff_of_two_tables_passes_the_structural_check_and_compares_them(clean, capsys):
    # diff compares tables column by column (tests/diff/test_tables.py): the
    # structural check must let a sound table through.
    folder, _, _ = clean
    ccdtab = next((folder / "oref").glob("*_ccd.fits*"))
    assert main(["diff", str(ccdtab), str(ccdtab)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.corpus
def test_a_crrejtab_with_no_rows_is_named(clean, tmp_path):
    folder, data, lay = clean
    oref = tmp_path / "oref"
    shutil.copytree(folder / "oref", oref)
    crr = next(oref.glob("*_crr.fits*"))
    with fits.open(crr) as hdul:
        hdul[1] = fits.BinTableHDU(hdul[1].data[:0], hdul[1].header)
        empty = tmp_path / "empty.fits"
        hdul.writeto(empty)
    crr.write_bytes(gzip.compress(empty.read_bytes()))
    raw = tmp_path / "o_raw.fits"
    raw.write_bytes(mutate.set_card(data, lay, 0, "CRCORR", "'PERFORM '"))
    (line,) = validate_references(raw, oref)
    assert line == f"CRREJTAB {crr}[1]: the table has no rows"


def test_structure_of_a_truncated_header_is_named(tmp_path):
    path = tmp_path / "x.fits"
    path.write_bytes(b"SIMPLE  =                    T" + b" " * 50 + b" " * 2800 + b"BITPIX")
    assert [v.line("x") for v in validate_fits(path)] == [
        "x: not a readable FITS file (truncated inside the header of HDU 0)"
    ]


@pytest.mark.corpus
def test_compare_on_a_rejected_file_says_what_calstis_does_with_it(clean, tmp_path, capsys):
    import stat
    import sys

    folder, _, _ = clean
    path = damaged(tmp_path, clean, 0, "CCDGAIN", "'abc'")
    cs0 = tmp_path / "cs0.e"
    cs0.write_text(f"#!{sys.executable}\nimport os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    cs0.chmod(cs0.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "out"
    code = main(["compare", str(path), "--oref", str(folder / "oref"), "--calstis", str(cs0),
                 "--outdir", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "stischeck: calstis crashed (signal 11) on an input the reference rejects: "
        f"{path}[0]: CCDGAIN = 'abc' is not a number\n"
    )
    assert not out.exists()


@pytest.mark.calstis
@pytest.mark.corpus
@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("CCDGAIN", "'abc'", "calstis crashed (signal 11) on an input the reference rejects: "),
        ("CCDAMP", "'AB'", "calstis refuses it too"),
    ],
)
def test_compare_with_live_calstis_on_a_rejected_file(
    key, value, expected, clean, calstis_path, tmp_path, capsys
):
    folder, _, _ = clean
    path = damaged(tmp_path, clean, 0, key, value)
    code = main(["compare", str(path), "--oref", str(folder / "oref"), "--calstis",
                 str(calstis_path), "--outdir", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert expected in err and f"{path}[0]: {key} = {value}" in err


@pytest.mark.corpus
def test_a_nan_in_the_ccdtab_is_one_line_not_an_internal_error(clean, tmp_path, capsys):
    folder, data, lay = clean
    oref = tmp_path / "oref"
    shutil.copytree(folder / "oref", oref)
    ccd = next(oref.glob("*_ccd.fits*"))
    with fits.open(ccd) as hdul:
        hdul[1].data["READNSE"][:] = np.nan
        plain = ccd.with_name(ccd.name.removesuffix(".gz"))
        hdul.writeto(plain)
    ccd.unlink()
    raw = tmp_path / "o_raw.fits"
    raw.write_bytes(data)
    code = main(["reference", str(raw), "--oref", str(oref), "--outroot", f"{tmp_path}/out/"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"stischeck: CCDTAB {plain}[1]: READNSE = nan in row 1 is not a finite number\n"


@pytest.mark.corpus
def test_a_huge_naxis_is_one_line_at_once_from_compare(clean, tmp_path, capsys):
    import stat
    import sys
    import time

    folder, _, _ = clean
    path = damaged(tmp_path, clean, ("SCI", 1), "NAXIS", "123456789012345678901234567890")
    cs0 = tmp_path / "cs0.e"
    cs0.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(1)\n")
    cs0.chmod(cs0.stat().st_mode | stat.S_IXUSR)
    t0 = time.monotonic()
    code = main(["compare", str(path), "--oref", str(folder / "oref"), "--calstis", str(cs0),
                 "--outdir", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert time.monotonic() - t0 < 30  # the copy once counted NAXIS1 ... NAXIS1e29
    assert code == 2 and err.count("\n") == 1
    assert f"{path}[SCI,1]: NAXIS = 123456789012345678901234567890 is out of range" in err


@pytest.mark.corpus
def test_an_end_card_with_text_after_end_is_named(clean, tmp_path):
    _, data, lay = clean
    end = data.index(b"END" + b" " * 77)
    path = tmp_path / "o_raw.fits"
    path.write_bytes(data[: end + 40] + b"X" + data[end + 41 :])
    assert [v.line("f") for v in validate_raw(path)] == ["f[0]: the END card has text after END"]
