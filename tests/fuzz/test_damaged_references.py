"""Damaged reference files, an unusable HOME, an unreadable --oref, and the inputs calstis takes.

The rule (README, "Damaged input"): where a reference file is damaged the
harness says so, naming the file, the extension and what is wrong, exit 2; it
never reports a difference between calstis and the reference on such a file.
NaN and infinite pixels in a bias, dark or flat are refused alike, with their
count (calstis 3.5.0 calibrates them into NaN statistics, NaN sky levels in the
CR rejection, a NaN MEANDARK, and sometimes segfaults). The permission cases
run with every capability dropped (``setpriv``): root without DAC override is
an ordinary user as far as file modes go (a user made with ``useradd`` cannot
reach this interpreter, under /root).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck.cli import main
from tests.support import mutate

CASE = "img_ampB_g1_sub1060x48_cr1"  # one imset, 1060 x 48: the quickest corpus case
IMAGES = {"BIASFILE": "bia", "DARKFILE": "drk", "PFLTFILE": "pfl"}
RUN_MAIN = "import sys; from stischeck.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
def case(corpus_dir, tmp_path):
    """A writable copy of the case: its raw file and oref/ (plain FITS, so they can be edited)."""
    source = corpus_dir / CASE
    raw = tmp_path / next(source.glob("*_raw.fits*")).name
    shutil.copy(next(source.glob("*_raw.fits*")), raw)
    shutil.copytree(source / "oref", tmp_path / "oref")
    return source, raw, tmp_path / "oref"


def spoil_image(oref: Path, suffix: str, extension: str, value: float) -> tuple[Path, int]:
    """Set a scatter of pixels of one extension of a reference image to ``value``."""
    path = next(oref.glob(f"*_{suffix}.fits*"))
    with fits.open(path) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    data = hdul[extension, 1].data
    data[::7, ::13] = value
    count = int(np.count_nonzero(~np.isfinite(data)))
    path.unlink()
    plain = path.with_name(path.name.removesuffix(".gz"))
    hdul.writeto(plain)
    return plain, count


def expected_line(key: str, plain: Path, extension: str, count: int, value: float) -> str:
    nans = count if np.isnan(value) else 0
    with fits.open(plain) as hdul:
        size = hdul[extension, 1].data.size
    return (f"{key} {plain}[{extension},1]: {count} not finite ({nans} NaN, {count - nans} "
            f"infinite) of {size} pixels")  # fmt: skip


SPOILS = [
    (key, extension, value)
    for key in IMAGES
    for extension in ("SCI", "ERR")
    for value in (np.nan, np.inf)
    if not (extension == "ERR" and key != "BIASFILE")
]
IDS = [f"{k}-{e}-{v}" for k, e, v in SPOILS]


@pytest.mark.corpus
@pytest.mark.parametrize(("key", "extension", "value"), SPOILS, ids=IDS)
def test_non_finite_reference_pixels_are_refused_with_their_count_not_reported_as_a_difference(
    key, extension, value, case, capsys
):
    source, raw, oref = case
    plain, count = spoil_image(oref, IMAGES[key], extension, value)
    line = expected_line(key, plain, extension, count, value)
    before = plain.read_bytes()
    code = main(["reference", str(raw), "--oref", str(oref), "--outroot", f"{raw.parent}/r/"])
    assert (code, capsys.readouterr().err) == (2, f"stischeck: {line}\n")
    assert not (raw.parent / "r").exists() or not any((raw.parent / "r").iterdir())
    code = main(["compare", str(raw), "--oref", str(oref), "--no-calstis", "--truth",
                 str(source), "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    assert (code, capsys.readouterr().err) == (2, f"stischeck: {line}\n")
    code = main(["record", str(raw), "--oref", str(oref), "--out", str(raw.parent / "t"),
                 "--calstis", "/bin/true"])  # fmt: skip
    assert (code, capsys.readouterr().err) == (2, f"stischeck: {line}\n")
    assert plain.read_bytes() == before


@pytest.mark.corpus
@pytest.mark.calstis
@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("key", list(IMAGES))
def test_compare_says_calstis_calibrates_a_reference_image_with_non_finite_pixels(
    key, value, case, calstis_path, capsys
):
    _, raw, oref = case
    plain, count = spoil_image(oref, IMAGES[key], "SCI", value)
    code = main(["compare", str(raw), "--oref", str(oref), "--calstis", str(calstis_path),
                 "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    err = capsys.readouterr().err
    line = expected_line(key, plain, "SCI", count, value)
    assert (code, err) == (2, f"stischeck: {line}; calstis calibrates it (exit 0), "
                              "the reference does not\n")  # fmt: skip


def spoil_ccdtab(oref: Path) -> Path:
    path = next(oref.glob("*_ccd.fits*"))
    with fits.open(path) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    hdul[1].data["READNSE"][:] = np.nan
    path.unlink()
    plain = path.with_name(path.name.removesuffix(".gz"))
    hdul.writeto(plain)
    return plain


@pytest.mark.corpus
def test_a_nan_ccdtab_column_is_named_as_damaged_by_reference_and_compare(case, capsys):
    source, raw, oref = case
    plain = spoil_ccdtab(oref)
    line = f"CCDTAB {plain}[1]: READNSE = nan in row 1 is not a finite number"
    code = main(["reference", str(raw), "--oref", str(oref), "--outroot", f"{raw.parent}/r/"])
    assert (code, capsys.readouterr().err) == (2, f"stischeck: {line}\n")
    code = main(["compare", str(raw), "--oref", str(oref), "--no-calstis", "--truth",
                 str(source), "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    assert (code, capsys.readouterr().err) == (2, f"stischeck: {line}\n")


@pytest.mark.corpus
@pytest.mark.calstis
def test_compare_names_a_nan_ccdtab_as_damaged_though_calstis_calibrates_it(
    case, calstis_path, capsys
):
    _, raw, oref = case
    plain = spoil_ccdtab(oref)
    code = main(["compare", str(raw), "--oref", str(oref), "--calstis", str(calstis_path),
                 "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err == (f"stischeck: CCDTAB {plain}[1]: READNSE = nan in row 1 is not a finite "
                   "number; calstis calibrates it (exit 0), the reference does not\n")  # fmt: skip


def spoil_pedigree_after_nul(oref: Path) -> Path:
    """Put a stray byte after the NUL padding of every CCDTAB PEDIGREE cell ('MODEL\\0...\\x0f')."""
    path = next(oref.glob("*_ccd.fits*"))
    with fits.open(path) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    table = hdul[1]
    start = sum(
        np.dtype(c.dtype).itemsize for c in table.columns[: table.columns.names.index("PEDIGREE")]
    )
    width = np.dtype(table.columns["PEDIGREE"].dtype).itemsize
    plain = path.with_name(path.name.removesuffix(".gz"))
    path.unlink()
    hdul.writeto(plain)
    data = bytearray(plain.read_bytes())
    with fits.open(plain) as written:
        offset, rowlen, n_rows = (
            written[1]._data_offset,
            written[1].data.itemsize,
            len(written[1].data),
        )
    for row in range(n_rows):
        cell = offset + row * rowlen + start
        assert b"\0" in data[cell : cell + width - 1], "PEDIGREE is not NUL-padded"
        data[cell + width - 1] = 0x0F
    plain.write_bytes(bytes(data))
    return plain


def test_a_table_string_ends_at_its_first_nul_as_calstis_reads_it(case, capsys):
    # cfitsio hands calstis a C string: the byte after the NUL padding is never
    # seen, and the _flt's HISTORY says PEDIGREE=MODEL (calstis 3.5.0, by hand).
    source, raw, oref = case
    spoil_pedigree_after_nul(oref)
    code = main(["compare", str(raw), "--oref", str(oref), "--no-calstis", "--truth",
                 str(source), "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    out = capsys.readouterr()
    assert (code, out.err) == (0, ""), out.err


@pytest.mark.corpus
@pytest.mark.calstis
def test_a_byte_after_a_table_strings_nul_changes_nothing_against_calstis(
    case, calstis_path, capsys
):
    _, raw, oref = case
    spoil_pedigree_after_nul(oref)
    code = main(["compare", str(raw), "--oref", str(oref), "--calstis", str(calstis_path),
                 "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    out = capsys.readouterr()
    assert (code, out.err) == (0, ""), out.err


def _end_junk(data: bytes, lay) -> bytes:
    end = data.index(b"END" + b" " * 77)
    return data[: end + 40] + b"X" + data[end + 41 :]


def _non_ascii(data: bytes, lay) -> bytes:
    offset, _ = lay.hdus[0].cards[20]
    return mutate.flip(data, offset + 15, 0xE9)


#: Inputs calstis 3.5.0 calibrates (exit 0) and the reference refuses: the README's decisions.
CALIBRATED_BY_CALSTIS = {
    "EXPTIME 1E30": (("SCI", 1), "EXPTIME", "1E30", "[SCI,1]: EXPTIME = 1E30 is out of range"),
    "null DQ PIXVALUE 99999": (("DQ", 1), "PIXVALUE", "99999", "[DQ,1]: PIXVALUE = 99999 is out"),
    "text after END": (None, None, None, "[0]: the END card has text after END"),
}


@pytest.mark.corpus
@pytest.mark.calstis
def test_compare_names_non_ascii_header_bytes_without_a_claim_about_calstis(
    case, calstis_path, capsys
):
    """calstis calibrates the file; compare cannot stage a copy with the switches set, so it
    says only what is damaged (never that calstis refuses it, never a difference)."""
    _, raw, oref = case
    data = mutate.load(raw)
    spoilt = raw.with_name("o1234_raw.fits")
    spoilt.write_bytes(_non_ascii(data, mutate.layout(data)))
    code = main(["compare", str(spoilt), "--oref", str(oref), "--calstis", str(calstis_path),
                 "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"stischeck: {spoilt}[0]: card ") and "calstis refuses" not in err
    assert err.endswith("holds bytes that are not printable ASCII\n"), err


@pytest.mark.corpus
@pytest.mark.calstis
@pytest.mark.parametrize("name", list(CALIBRATED_BY_CALSTIS))
def test_compare_refuses_what_calstis_calibrates_and_says_so(name, case, calstis_path, capsys):
    _, raw, oref = case
    hdu, key, value, expected = CALIBRATED_BY_CALSTIS[name]
    data = mutate.load(raw)
    lay = mutate.layout(data)
    spoilt = raw.with_name("o1234_raw.fits")
    if key is None:
        spoilt.write_bytes(_end_junk(data, lay))
    else:
        spoilt.write_bytes(mutate.set_card(data, lay, mutate.hdu_index(lay, *hdu), key, value))
    code = main(["compare", str(spoilt), "--oref", str(oref), "--calstis", str(calstis_path),
                 "--outdir", str(raw.parent / "c"), "--no-html"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"stischeck: {spoilt}[") and expected in err, err
    assert err.endswith("; calstis calibrates it (exit 0), the reference does not\n"), err


def unprivileged(argv: list, env: dict) -> subprocess.CompletedProcess:
    """Run stischeck as an ordinary user would: directly, or as root with no capabilities."""
    command = [sys.executable, "-c", RUN_MAIN, *argv]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root and no setpriv to drop the capabilities")
        command = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _env(**changes) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(changes)
    return env


def _unusable_homes(tmp_path: Path) -> dict:
    """HOME settings astropy cannot use: missing, read-only, ~/.astropy unreadable, XDG dirs."""
    read_only = tmp_path / "home-ro"
    read_only.mkdir()
    locked = tmp_path / "home-locked"
    for sub in ("config", "cache"):
        (locked / ".astropy" / sub).mkdir(parents=True)
        (locked / ".astropy" / sub).chmod(0)
    read_only.chmod(0o500)
    return {
        "missing HOME": _env(HOME=str(tmp_path / "no-such-home")),
        "read-only HOME": _env(HOME=str(read_only)),
        "unreadable ~/.astropy": _env(HOME=str(locked)),
        "XDG dirs unusable": _env(
            HOME=str(read_only),
            XDG_CONFIG_HOME=str(locked / "x"),
            XDG_CACHE_HOME=str(locked / ".astropy" / "cache"),
        ),  # fmt: skip
    }


@pytest.mark.corpus
def test_an_unusable_home_does_not_stop_reference_or_compare(case, tmp_path):
    source, raw, oref = case
    for name, env in _unusable_homes(tmp_path).items():
        out = tmp_path / name.replace(" ", "-")
        done = unprivileged(["reference", str(raw), "--oref", str(oref), "--outroot",
                             f"{out}/r/"], env)  # fmt: skip
        assert (name, done.returncode, done.stderr) == (name, 0, "")
        argv = ["compare", str(raw), "--oref", str(oref), "--no-calstis", "--truth", str(source)]
        done = unprivileged([*argv, "--outdir", str(out / "c"), "--no-html"], env)
        assert (name, done.returncode, done.stderr) == (name, 0, "")


@pytest.mark.corpus
@pytest.mark.calstis
def test_an_unusable_home_does_not_stop_compare_with_calstis(case, calstis_path, tmp_path):
    _, raw, oref = case
    env = _unusable_homes(tmp_path)["unreadable ~/.astropy"]
    done = unprivileged(["compare", str(raw), "--oref", str(oref), "--calstis", str(calstis_path),
                         "--outdir", str(tmp_path / "c"), "--no-html"], env)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.corpus
@pytest.mark.parametrize("what", ["folder", "file", "raw file"])
def test_an_unreadable_oref_or_raw_file_is_one_line_for_an_ordinary_user(what, case, tmp_path):
    source, raw, oref = case
    if what == "folder":
        locked, expected = oref, f"stischeck: {oref}: --oref cannot be read (permission denied)\n"
    elif what == "file":
        locked = next(oref.glob("*_bia.fits*"))
        expected = f"stischeck: {locked}: cannot be read (Permission denied)\n"
    else:
        locked = raw
    locked.chmod(0)
    try:
        for argv in (
            ["reference", str(raw), "--oref", str(oref), "--outroot", f"{tmp_path}/r/"],
            ["compare", str(raw), "--oref", str(oref), "--no-calstis", "--truth", str(source),
             "--outdir", str(tmp_path / "c"), "--no-html"],
        ):  # fmt: skip
            done = unprivileged(argv, _env())
            assert done.returncode == 2, done.stderr
            if what == "raw file":
                assert done.stderr.count("\n") == 1 and str(raw) in done.stderr, done.stderr
                assert "Traceback" not in done.stderr and "internal error" not in done.stderr
            else:
                assert done.stderr == expected
    finally:
        locked.chmod(0o755 if locked.is_dir() else 0o644)
