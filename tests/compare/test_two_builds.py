"""Build A against build B, and reference set A against set B, with the reference as arbiter.

Without calstis the two builds are stand-ins played by the reference itself
(`REFERENCE_AS_CALSTIS`), one of them made wrong in one known step; with
``STISCHECK_CALSTIS`` and ``STISCHECK_BROKEN_BUILDS`` the real builds run.
"""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from stischeck.batch.aggregate import certificate
from stischeck.compare import movement as mv
from tests.compare.test_compare import compare_cli
from tests.compare.test_first_hour import ONE_IMSET, REFERENCE_AS_CALSTIS, _case
from tests.support.standins import fake_calstis

CR_SPLIT = "img_ampD_g1_bin4x4_cr2"
FULL_FRAME = "img_ampD_g1_full_cr2"

#: Build B played by the reference, wrong after BIASCORR: one SCI pixel of each _flt imset
#: raised by 1 DN (DQ and ERR untouched), in every run whose input has BIASCORR on.
BIAS_PIXEL_OFF = (
    REFERENCE_AS_CALSTIS.replace(
        "sys.exit(main(",
        "code = (main(",
    )
    + """
from astropy.io import fits
import glob
raw = sys.argv[1]
if code == 0 and fits.getheader(raw)["BIASCORR"] in ("PERFORM", "COMPLETE"):
    for name in glob.glob(sys.argv[2] + "*_flt.fits"):
        with fits.open(name, mode="update") as hdul:
            for hdu in hdul[1:]:
                if hdu.name == "SCI" and hdu.data is not None:
                    hdu.data[3, 2] += 1
sys.exit(code)
"""
)


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


# --- the movement table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a_vs_b", "ref_a", "ref_b", "expected"),
    [
        ("identical", "identical", "identical", mv.IDENTICAL),
        ("identical", "differ", "differ", mv.IDENTICAL),  # both wrong alike: not a change
        ("differ", "identical", "differ", mv.AWAY),
        ("differ", "differ", "identical", mv.TOWARD),
        ("differ", "agree", "identical", mv.BOTH),
        ("differ", "differ", "differ", mv.NEITHER),
        ("differ", "error", "identical", mv.NOT_JUDGED),
        ("error", "identical", "identical", mv.NOT_COMPARED),
        ("empty", "empty", "empty", mv.IDENTICAL),
    ],
)
def test_movement_names_which_side_left_the_reference(a_vs_b, ref_a, ref_b, expected):
    assert mv.movement(a_vs_b, ref_a, ref_b) == expected


def test_worst_movement_puts_a_build_moving_away_before_a_fix():
    assert mv.worst([mv.IDENTICAL, mv.TOWARD, mv.AWAY]) == mv.AWAY
    assert mv.worst([mv.IDENTICAL, mv.TOWARD]) == mv.TOWARD
    assert mv.worst([]) == mv.IDENTICAL


# --- the certificate -------------------------------------------------------------------------


def _ds(name, movements, first=None, status="done"):
    row = dict(dataset=name, status=status, ab_first_changed=first or "",
               ab_step="this step" if first else "",
               ab_movement=mv.worst(movements.values()))  # fmt: skip
    if status == "done":
        row["ab_movements"] = movements
    return row


def test_certificate_says_bit_identical_only_when_every_data_set_and_step_is():
    same = {"RAW": mv.IDENTICAL, "DQICORR": mv.IDENTICAL}
    rows, cert = certificate([_ds("a", same), _ds("b", same)])
    assert cert["identical"] and len(rows) == 4
    assert cert["line"].startswith("Build B is bit-identical to build A on all 2 data sets")
    moved = {"RAW": mv.IDENTICAL, "DQICORR": mv.AWAY}
    _, cert = certificate([_ds("a", same), _ds("b", moved, first="DQICORR")])
    assert not cert["identical"]
    assert cert["line"] == (
        "Build B differs from build A in 1 of 2 data sets (first at DQICORR in 1: B moved away "
        "from the reference); first listed b."
    )


def test_certificate_never_counts_a_data_set_that_did_not_run_as_identical():
    same = {"RAW": mv.IDENTICAL}
    _, cert = certificate([_ds("a", same), _ds("b", {}, status="failed")])
    assert not cert["identical"]
    assert "1 data set(s) could not be compared (b first)" in cert["line"]


# --- reference sets --------------------------------------------------------------------------


@pytest.mark.corpus
def test_changed_reference_files_ignores_gzip_and_names_the_changed_dark(corpus_dir, tmp_path):
    raw, oref, _ = _case(corpus_dir, CR_SPLIT)
    header = fits.getheader(raw)
    plain = _plain_copy(oref, tmp_path / "plain")
    assert mv.changed_reference_files(header, oref, plain) == []
    dark = _scale_dark(plain, header)
    changed = mv.changed_reference_files(header, oref, plain)
    assert [(c["keyword"], c["switch"], Path(c["b"])) for c in changed] == [
        ("DARKFILE", "DARKCORR", dark)
    ]


def _plain_copy(oref: Path, dest: Path) -> Path:
    import gzip

    dest.mkdir()
    for f in oref.iterdir():
        name = f.name[:-3] if f.name.endswith(".gz") else f.name
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rb") as src:
            (dest / name).write_bytes(src.read())
    return dest


def _scale_dark(folder: Path, header) -> Path:
    dark = folder / header["DARKFILE"].split("$")[-1]
    with fits.open(dark, mode="update") as hdul:
        hdul[1].data[10:20, 10:20] *= np.float32(1.5)
    return dark


# --- whole comparisons with stand-in builds ---------------------------------------------------


@pytest.mark.corpus
def test_a_build_wrong_at_biascorr_is_b_moving_away_located_to_its_pixel(
    corpus_dir, tmp_path, capsys
):
    raw, oref, _ = _case(corpus_dir, CR_SPLIT)
    good = fake_calstis(tmp_path / "a", REFERENCE_AS_CALSTIS)
    wrong = fake_calstis(tmp_path / "b", BIAS_PIXEL_OFF)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, oref, wrong, out, "--baseline-calstis", good,
                                 "--steps", "DQICORR,BLEVCORR,BIASCORR")  # fmt: skip
    assert code == 1, captured.out
    ab = _summary(out)["two_builds"]
    assert (ab["first_changed"], ab["movement"]) == ("BIASCORR", mv.AWAY), captured.out
    assert ab["step"] == "this step"
    assert ab["movements"]["BLEVCORR"] == mv.IDENTICAL
    assert ab["headline"][0].startswith("_flt SCI: 2 of "), ab["headline"]
    assert "worst at [3, 4] imset" in ab["headline"][0]  # FITS x, y of data[3, 2]
    assert f"A/B: {mv.AWAY}, first at BIASCORR" in captured.out
    moves = pd.read_csv(out / "movement.csv")
    moved = moves[moves.movement == mv.AWAY]
    assert set(zip(moved["configuration"], moved["product"], moved["extname"], strict=True)) == {
        ("BIASCORR", "flt", "SCI")
    }


@pytest.mark.corpus
def test_swapping_the_builds_turns_moving_away_into_a_fix(corpus_dir, tmp_path, capsys):
    raw, oref, _ = _case(corpus_dir, ONE_IMSET)
    good = fake_calstis(tmp_path / "a", REFERENCE_AS_CALSTIS)
    wrong = fake_calstis(tmp_path / "b", BIAS_PIXEL_OFF)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, oref, good, out, "--baseline-calstis", wrong,
                                 "--steps", "BIASCORR")  # fmt: skip
    assert code == 1, captured.out  # the reference still differs from build A
    ab = _summary(out)["two_builds"]
    assert (ab["first_changed"], ab["movement"]) == ("BIASCORR", mv.TOWARD), captured.out


@pytest.mark.corpus
def test_one_build_as_both_sides_is_identical_with_exit_0(corpus_dir, tmp_path, capsys):
    raw, oref, _ = _case(corpus_dir, ONE_IMSET)
    good = fake_calstis(tmp_path / "a", REFERENCE_AS_CALSTIS)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, oref, good, out, "--baseline-calstis", good)
    assert code == 0, captured.out
    ab = _summary(out)["two_builds"]
    assert ab["identical"] and ab["first_changed"] is None
    assert "A/B: B is bit-identical to A on every configuration" in captured.out
    assert pd.read_csv(out / "trailers.csv").empty


@pytest.mark.corpus
def test_two_reference_sets_differing_in_one_dark_are_attributed_to_darkcorr_and_the_file(
    corpus_dir, tmp_path, capsys
):
    raw, oref, _ = _case(corpus_dir, CR_SPLIT)
    set_b = _plain_copy(oref, tmp_path / "set_b")
    _scale_dark(set_b, fits.getheader(raw))
    cs0 = fake_calstis(tmp_path, REFERENCE_AS_CALSTIS)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, set_b, cs0, out, "--baseline-oref", oref)
    assert code == 1, captured.out
    ab = _summary(out)["two_builds"]
    assert ab["first_changed"] == "DARKCORR", captured.out
    assert ab["movement"] == mv.BOTH  # both builds and the reference followed the new dark
    assert [f["keyword"] for f in ab["reference_files"]] == ["DARKFILE"]
    assert "reference file that differs: DARKFILE" in captured.out
    assert all(ab["movements"][n] == mv.IDENTICAL for n in ("BIASCORR", "CRCORR"))


def test_baseline_without_calstis_is_a_usage_error(tmp_path, capsys):
    from stischeck.cli import main

    raw = tmp_path / "x_raw.fits"
    fits.PrimaryHDU().writeto(raw)
    code = main(["compare", str(raw), "--no-calstis", "--baseline-calstis", "/bin/true"])
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1


# --- repeat ------------------------------------------------------------------------------------

#: A build whose second and later runs on the same input write a different pixel.
FLAKY = BIAS_PIXEL_OFF.replace(
    'fits.getheader(raw)["BIASCORR"] in ("PERFORM", "COMPLETE")',
    "'repeat-' in os.getcwd()",  # cs0.e runs in its run folder (runs/<CONFIG>/repeat-*/runK)
)


def _repeat_dqicorr(corpus_dir, tmp_path, capsys, body: str, n: int):
    """compare --steps DQICORR --repeat n of the one-imset case with cs0.e played by ``body``."""
    raw, oref, _ = _case(corpus_dir, ONE_IMSET)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, oref, fake_calstis(tmp_path, body), out,
                                 "--steps", "DQICORR", "--repeat", str(n))  # fmt: skip
    return code, captured, out


@pytest.mark.corpus
def test_repeat_reports_a_run_whose_products_differ_from_the_first(corpus_dir, tmp_path, capsys):
    code, captured, out = _repeat_dqicorr(corpus_dir, tmp_path, capsys, FLAKY, 3)
    assert code == 1, captured.out
    repeat = _summary(out)["repeat"]
    assert not repeat["deterministic"] and repeat["n"] == 3
    differing = {(d["configuration"], d["run"], d["kind"]) for d in repeat["differing"]}
    assert differing == {("DQICORR", 2, "product differs"), ("DQICORR", 3, "product differs")}
    assert "repeat: 2 difference(s) from run 1" in captured.out
    table = pd.read_csv(out / "repeat.csv")
    assert list(table[table.configuration == "DQICORR"].run) == [1, 2, 3]


@pytest.mark.corpus
def test_repeat_of_a_deterministic_build_says_every_run_is_the_same(corpus_dir, tmp_path, capsys):
    code, captured, out = _repeat_dqicorr(corpus_dir, tmp_path, capsys, REFERENCE_AS_CALSTIS, 2)
    assert code == 0, captured.out
    assert _summary(out)["repeat"]["deterministic"]
    assert "every run the same as run 1" in captured.out


# --- live: the deliberately broken builds ----------------------------------------------------

#: ``$STISCHECK_BROKEN_BUILDS/<name>/cs0.e`` as build B against the good build as A:
#: the first configuration where A and B differ, per data set (None: A and B agree there).
BROKEN_FIRST_CHANGE = {
    "overscan": "BLEVCORR",
    "dqflag": "DQICORR",
    "noise": "DQICORR",
    "crthresh": "CRCORR",
    "darkscale": "DARKCORR",
    "statkey": "DQICORR",
}


@pytest.mark.calstis
@pytest.mark.corpus
@pytest.mark.parametrize("case_name", [ONE_IMSET, FULL_FRAME])
@pytest.mark.parametrize("build", list(BROKEN_FIRST_CHANGE))
def test_a_broken_build_b_moves_away_from_the_reference_at_its_step(
    build, case_name, corpus_dir, calstis_path, tmp_path, capsys
):
    builds = os.environ.get("STISCHECK_BROKEN_BUILDS")
    cs0 = Path(builds or "/nonexistent") / build / "cs0.e"
    if not cs0.is_file():
        pytest.skip(f"no broken build {build}: set STISCHECK_BROKEN_BUILDS to their folder")
    if build == "crthresh" and case_name == ONE_IMSET:
        pytest.skip("one imset: no cosmic-ray rejection for the threshold to change")
    raw, oref, _ = _case(corpus_dir, case_name)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, oref, cs0, out, "--baseline-calstis", calstis_path)
    assert code == 1, captured.out
    ab = _summary(out)["two_builds"]
    assert ab["first_changed"] == BROKEN_FIRST_CHANGE[build], captured.out
    assert ab["movement"] == mv.AWAY, captured.out
    assert ab["headline"], captured.out  # located: product, extension, imset, bits or keywords


@pytest.mark.calstis
@pytest.mark.corpus
def test_the_good_build_as_both_sides_is_identical_on_every_corpus_case(
    corpus_dir, calstis_path, tmp_path, capsys
):
    for case in sorted(p for p in corpus_dir.iterdir() if (p / "manifest.json").is_file()):
        raw, oref, _ = _case(corpus_dir, case.name)
        out = tmp_path / case.name
        code, captured = compare_cli(capsys, raw, oref, calstis_path, out,
                                     "--baseline-calstis", calstis_path)  # fmt: skip
        assert code == 0, captured.out
        assert _summary(out)["two_builds"]["identical"], captured.out
