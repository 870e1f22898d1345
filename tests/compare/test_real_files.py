"""Real STIS files and real layouts (issue 14, harness side).

One rule for the reference folder in every command; every reference file a
configuration needs found before anything runs; ``--truth`` checked before
anything runs; target acquisitions recognised by every command; the report
on imsets of different sizes. The eleven real ACQ raw files are in
``tests/data/tastis/`` (stistools commit 6d983cc, public HST data). No test
here needs calstis except those marked ``calstis``: a stand-in cs0.e that runs
``stischeck reference`` plays calstis elsewhere.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from astropy.io import fits

from stischeck import config as cfg
from stischeck.cli import main
from stischeck.errors import InputFileError
from stischeck.inputs import (
    check_references,
    check_truth,
    find_reference_folder,
    required_references,
    target_acquisition,
)

TASTIS = Path(__file__).resolve().parents[1] / "data" / "tastis"
ACQ_FILES = sorted(TASTIS.glob("*_raw.fits"))
ACQ = "ocmv0lw6q_raw.fits"  # OBSMODE ACQ: imsets 100x100, 100x100, 30x30
PEAK = "o4er06llq_raw.fits"  # OBSMODE ACQ/PEAK: one 32x32 imset and a PEAKUP table


@pytest.fixture(autouse=True)
def no_ambient_reference_folders(monkeypatch):
    """Neither $oref nor $CRDS_PATH of the machine running the tests decides anything here."""
    monkeypatch.delenv("oref", raising=False)
    monkeypatch.delenv("CRDS_PATH", raising=False)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err, *needles):
    """Exit 2, one line on stderr holding every needle, no traceback."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory):
    """A small synthetic data set (amp D, gain 4, subarray): raw file and oref/ beside it."""
    from stischeck.synth import SynthParams, write_dataset

    root = tmp_path_factory.mktemp("synth")
    write_dataset(SynthParams(seed=5, amp="D", gain=4, subarray=(500, 24), crsplit=2), root)
    return root


@pytest.fixture
def dataset(synth_set, tmp_path):
    """A private copy of the synthetic data set: (raw file, its oref/ folder)."""
    root = tmp_path / "set"
    shutil.copytree(synth_set, root)
    return next(root.glob("*_raw.fits")), root / "oref"


def stand_in_calstis(tmp_path) -> Path:
    """A cs0.e stand-in: runs `stischeck reference RAW --outroot OUT` and notes its $oref."""
    path = tmp_path / "bin" / "cs0.e"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "from pathlib import Path\n"
        f"Path({str(tmp_path / 'calstis-saw-oref.txt')!r}).open('a').write("
        "os.environ.get('oref', '') + '\\n')\n"
        "from stischeck.cli import main\n"
        "sys.exit(main(['reference', sys.argv[1], '--outroot', sys.argv[2]]))\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def acq_oref(synth_set, tmp_path, raw: Path) -> Path:
    """An oref/ holding synthetic CCDTAB and BPIXTAB under the names a real ACQ header gives."""
    oref = tmp_path / "acq-oref"
    oref.mkdir(exist_ok=True)
    header = fits.getheader(raw)
    for key, kind in (("CCDTAB", "_ccd"), ("BPIXTAB", "_bpx")):
        source = next((synth_set / "oref").glob(f"*{kind}.fits"))
        shutil.copyfile(source, oref / header[key].split("$", 1)[1])
    return oref


# ----------------------------------------------------------------------- the rule


def test_the_reference_folder_rule_takes_oref_then_env_then_beside_then_crds(tmp_path, monkeypatch):
    raw = tmp_path / "data" / "x_raw.fits"
    raw.parent.mkdir()
    raw.write_bytes(b"")
    given, env, beside = tmp_path / "given", tmp_path / "env", raw.parent / "oref"
    crds = tmp_path / "crds" / "references" / "hst"
    for d in (given, env, beside, crds / "stis"):
        d.mkdir(parents=True)
    (crds / "stis" / "abc_ccd.fits").write_bytes(b"x")
    monkeypatch.setenv("oref", str(env))
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "crds"))
    assert find_reference_folder(raw, None, given).path == given.resolve()
    assert find_reference_folder(raw, None, None).path == env.resolve()
    monkeypatch.delenv("oref")
    assert find_reference_folder(raw, None, None).path == beside.resolve()
    beside.rmdir()
    # CRDS: references/hst/, or its stis/ folder when that is the one holding the CCDTAB.
    assert find_reference_folder(raw, {"CCDTAB": "oref$abc_ccd.fits"}).path == (crds / "stis")
    assert find_reference_folder(raw, {"CCDTAB": "oref$zzz_ccd.fits"}).path == crds
    monkeypatch.delenv("CRDS_PATH")
    assert find_reference_folder(raw, None).path is None
    with pytest.raises(InputFileError, match="--oref is not a directory"):
        find_reference_folder(raw, None, tmp_path / "missing")


def test_compare_finds_the_oref_folder_beside_the_raw_file_and_gives_it_to_both_sides(
    dataset, tmp_path, capsys
):
    raw, oref = dataset
    cs0 = stand_in_calstis(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "compare", raw, "--calstis", cs0, "--steps", "DQICORR,BLEVCORR", "--outdir", out,
        "--no-html", "--jobs", "1",
    )  # fmt: skip
    assert code == 0, stdout + err
    assert "AGREE" in stdout
    seen = set((tmp_path / "calstis-saw-oref.txt").read_text().split())
    assert seen == {f"{oref.resolve()}/"}
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["oref"] == str(oref.resolve())


def test_every_command_says_the_rule_in_its_help(capsys):
    for command in ("compare", "reference", "record", "batch"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "$oref" in text and "beside" in text and "CRDS_PATH" in text, command


# ----------------------------------------------------------------------- required files


def _config(*on):
    return cfg.explicit(list(on)) if on else cfg.cumulative_sequence(None, ["RAW"])[0]


def test_cs0_requires_the_ccdtab_even_with_every_switch_omit():
    assert required_references({"NEXTEND": 3}, [_config()]) == {"CCDTAB": ["RAW"]}


def test_crrejtab_is_required_only_with_two_imsets_or_more():
    crcorr = _config("CRCORR")
    assert "CRREJTAB" not in required_references({"NEXTEND": 3}, [crcorr])
    assert "CRREJTAB" not in required_references({"NEXTEND": 4}, [crcorr])  # ACQ/PEAK
    assert "CRREJTAB" in required_references({"NEXTEND": 6}, [crcorr])


def test_reference_files_of_switches_no_configuration_runs_are_not_required(dataset, tmp_path):
    raw, oref = dataset
    header = fits.getheader(raw)
    for path in oref.glob("*_drk.fits"):
        path.unlink()
    folder = find_reference_folder(raw, header)
    found = check_references(raw, header, cfg.cumulative_sequence(header, ["BIASCORR"]), folder)
    assert "DARKFILE" not in found and "BIASFILE" in found
    with pytest.raises(InputFileError, match="DARKFILE"):
        check_references(raw, header, cfg.cumulative_sequence(header, ["DARKCORR"]), folder)


def test_a_blank_bpixtab_and_some_blank_flats_are_allowed_but_not_three(dataset):
    raw, _ = dataset
    header = fits.getheader(raw)
    folder = find_reference_folder(raw, header)
    header["BPIXTAB"] = "N/A"
    header["DFLTFILE"] = "N/A"
    header["LFLTFILE"] = " "
    check_references(raw, header, cfg.cumulative_sequence(header), folder)
    header["PFLTFILE"] = "N/A"
    with pytest.raises(InputFileError, match="all blank or N/A, but FLATCORR needs at least one"):
        check_references(raw, header, cfg.cumulative_sequence(header), folder)


def test_a_missing_reference_file_is_one_line_before_any_run_never_a_divergence(
    dataset, tmp_path, capsys
):
    raw, oref = dataset
    dark = next(oref.glob("*_drk.fits"))
    dark.unlink()
    cs0 = stand_in_calstis(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "compare", raw, "--calstis", cs0, "--outdir", out)
    line = one_line(code, err, dark.name, "DARKFILE", raw.name, str(oref.resolve()), "DARKCORR")
    assert "divergent" not in stdout + line and stdout == ""
    assert not out.exists()
    assert not (tmp_path / "calstis-saw-oref.txt").exists()  # cs0.e never started


def test_an_na_bias_file_a_configuration_needs_is_one_line(synth_set, tmp_path, capsys):
    raw = TASTIS / ACQ  # BIASFILE = 'N/A', as in 8 of the 11 real ACQ files
    oref = acq_oref(synth_set, tmp_path, raw)
    code, stdout, err = run(
        capsys, "compare", raw, "--oref", oref, "--steps", "BIASCORR",
        "--calstis", stand_in_calstis(tmp_path), "--outdir", tmp_path / "out",
    )  # fmt: skip
    one_line(code, err, raw.name, "BIASFILE is 'N/A', but configuration BIASCORR needs it")
    assert stdout == "" and not (tmp_path / "out").exists()
    # Its own switches (every one OMIT) need only the CCDTAB, as cs0.e.
    code, _, err = run(capsys, "reference", raw, "--oref", oref, "--outroot", f"{tmp_path}/")
    assert code == 0, err


def test_a_missing_reference_file_says_where_else_it_is(dataset, tmp_path, capsys, monkeypatch):
    raw, oref = dataset
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("oref", str(elsewhere))  # $oref wins over the oref/ beside the raw file
    code, _, err = run(capsys, "reference", raw, "--outroot", f"{tmp_path}/")
    one_line(code, err, "_ccd.fits", "CCDTAB", f"looked in {elsewhere.resolve()}/ ($oref)",
             f"give --oref {oref.resolve()}")  # fmt: skip


def test_record_refuses_a_missing_reference_file_before_running_calstis(dataset, tmp_path, capsys):
    raw, oref = dataset
    flat = next(oref.glob("*_pfl.fits"))
    flat.unlink()
    cs0 = stand_in_calstis(tmp_path)
    code, _, err = run(capsys, "record", raw, "--out", tmp_path / "truth", "--calstis", cs0)
    one_line(code, err, flat.name, "PFLTFILE", "FLATCORR")
    assert not (tmp_path / "truth").exists()
    assert not (tmp_path / "calstis-saw-oref.txt").exists()


def test_batch_gives_a_missing_reference_file_its_own_row(dataset, tmp_path, capsys):
    raw, oref = dataset
    bias = next(oref.glob("*_bia.fits"))
    bias.unlink()
    out = tmp_path / "batch"
    code, stdout, _ = run(
        capsys, "batch", raw, "--outdir", out, "--calstis", stand_in_calstis(tmp_path),
        "--workers", "1", "--no-html",
    )  # fmt: skip
    assert code == 2
    rows = pd.read_csv(out / "datasets.csv", keep_default_na=False)
    assert list(rows.status) == ["failed"]
    assert bias.name in rows.message[0] and "BIASFILE" in rows.message[0]
    assert "divergent" not in stdout


# ----------------------------------------------------------------------- --truth


def _demo_truth(tmp_path) -> Path:
    from stischeck.commands.demo import demo_dir

    demo = demo_dir()
    if not (demo / "manifest.json").is_file():
        pytest.skip(f"bundled demo data missing ({demo})")
    copy = tmp_path / "truth"
    shutil.copytree(demo, copy)
    return copy


@pytest.mark.parametrize("fault", ["another-data-set", "no-manifest", "product-missing"])
def test_truth_is_checked_before_anything_runs(fault, dataset, tmp_path, capsys):
    truth = _demo_truth(tmp_path)
    raw = next(truth.glob("*_raw.fits*"))
    expected = {
        "another-data-set": "the truth of another data set",
        "no-manifest": "no manifest.json",
        "product-missing": "product listed in",
    }[fault]
    if fault == "another-data-set":
        raw = dataset[0]
    elif fault == "no-manifest":
        (truth / "manifest.json").unlink()
    else:
        next((truth / "BLEVCORR").glob("*_flt.fits*")).unlink()
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "compare", raw, "--truth", truth, "--no-calstis", "--outdir", out,
    )  # fmt: skip
    one_line(code, err, expected)
    assert stdout == "" and not out.exists()


def test_the_right_truth_passes_the_check(tmp_path):
    truth = _demo_truth(tmp_path)
    raw = next(truth.glob("*_raw.fits*"))
    from stischeck.inputs import read_raw_header

    check_truth(truth, raw, read_raw_header(raw))


def test_batch_checks_a_csv_truth_per_data_set(dataset, tmp_path, capsys):
    truth = _demo_truth(tmp_path)
    raw, oref = dataset
    manifest = tmp_path / "sets.csv"
    manifest.write_text(f"raw,oref,truth\n{raw},{oref},{truth}\n")
    out = tmp_path / "batch"
    code, _, _ = run(
        capsys, "batch", manifest, "--outdir", out, "--no-calstis", "--workers", "1", "--no-html"
    )
    assert code == 2
    rows = pd.read_csv(out / "datasets.csv", keep_default_na=False)
    assert "the truth of another data set" in rows.message[0]


# ----------------------------------------------------------------------- target acquisitions


def test_the_eleven_real_acq_files_are_target_acquisitions():
    modes = [target_acquisition(fits.getheader(p)) for p in ACQ_FILES]
    assert len(ACQ_FILES) == 11
    assert sorted(set(modes)) == ["ACQ", "ACQ/PEAK"]


@pytest.mark.parametrize("raw", ACQ_FILES, ids=lambda p: p.name.split("_")[0])
def test_compare_and_record_say_in_one_line_that_an_acq_file_is_not_compared(raw, tmp_path, capsys):
    mode = target_acquisition(fits.getheader(raw))
    for argv in (
        ("compare", raw, "--outdir", tmp_path / "out"),
        ("record", raw, "--out", tmp_path / "truth"),
    ):
        code, stdout, err = run(capsys, *argv)
        one_line(code, err, raw.name, f"a target acquisition (OBSMODE = '{mode}')",
                 "every switch OMIT", "nothing is compared")  # fmt: skip
        assert "divergent" not in stdout and "not found" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "truth").exists()


@pytest.mark.parametrize("name", [ACQ, PEAK])
def test_reference_on_an_acq_file_does_what_cs0_does_nothing(name, synth_set, tmp_path, capsys):
    raw = TASTIS / name
    oref = acq_oref(synth_set, tmp_path, raw)
    out = tmp_path / "products"
    out.mkdir()
    code, stdout, err = run(capsys, "reference", raw, "--oref", oref, "--outroot", f"{out}/")
    assert code == 0 and stdout == ""
    assert len(err.strip().splitlines()) == 1
    assert "nothing to do" in err and "target acquisition" in err
    assert err.count("OBSMODE") == 1  # said once, not by the reference and again by the command
    assert list(out.iterdir()) == []


def test_batch_gives_each_acq_file_a_row_saying_what_it_is(synth_set, tmp_path, capsys):
    for raw in ACQ_FILES:
        oref = acq_oref(synth_set, tmp_path, raw)
    out = tmp_path / "batch"
    code, stdout, err = run(
        capsys, "batch", TASTIS, "--oref", oref, "--outdir", out, "--workers", "1",
        "--calstis", stand_in_calstis(tmp_path),
    )  # fmt: skip
    assert code == 2, stdout + err
    rows = pd.read_csv(out / "datasets.csv", keep_default_na=False)
    assert len(rows) == 11 and set(rows.status) == {"failed"}
    assert all("a target acquisition" in m and "nothing is compared" in m for m in rows.message)
    assert "Traceback" not in stdout + err


@pytest.fixture(scope="module")
def acq_compare(synth_set, tmp_path_factory):
    """compare ocmv0lw6q (real ACQ, imsets 100x100, 100x100, 30x30) on chosen switches."""
    tmp = tmp_path_factory.mktemp("acq-compare")
    raw = TASTIS / ACQ
    oref = acq_oref(synth_set, tmp, raw)
    out = tmp / "out"
    argv = ["compare", str(raw), "--oref", str(oref), "--calstis", str(stand_in_calstis(tmp)),
            "--steps", "RAW,DQICORR,BLEVCORR", "--outdir", str(out), "--jobs", "1",
            "--keep", "all"]  # fmt: skip
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from stischeck.cli import main; sys.exit(main())",
            *argv,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("oref", "CRDS_PATH")},
    )
    return result, out


def test_chosen_switches_on_an_acq_file_compare_and_the_report_renders(acq_compare):
    result, out = acq_compare
    assert result.returncode == 0, result.stdout + result.stderr
    assert "AGREE" in result.stdout and "Traceback" not in result.stderr
    verdicts = pd.read_csv(out / "verdicts.csv")
    flt = verdicts[verdicts.configuration == "BLEVCORR"]
    assert sorted(set(flt.imset.dropna().astype(int))) == [1, 2, 3]
    assert (out / "report.html").is_file()


def test_the_report_follows_a_pixel_only_through_the_imsets_that_hold_it(acq_compare, capsys):
    _, out = acq_compare
    # FITS [10, 85] of imset 1 (100x100 at LTV -467, -465) lies outside imset 3 (30x30 at
    # LTV -502, -500): the waterfall shows imsets 1 and 2 and says so.
    code, stdout, err = run(capsys, "report", out, "--pixel", "10,85", "--out", out / "p.html")
    assert code == 0, err
    html = (out / "p.html").read_text()
    assert "imsets 1, 2 of 3" in html


def test_diff_compares_real_acq_products_and_raw_files(acq_compare, capsys):
    _, out = acq_compare
    calstis = out / "runs" / "BLEVCORR" / "calstis" / "out" / "ocmv0lw6q_flt.fits"
    reference = out / "runs" / "BLEVCORR" / "reference" / "ocmv0lw6q_flt.fits"
    code, stdout, err = run(capsys, "diff", calstis, reference)
    assert code == 0 and "IDENTICAL" in stdout, stdout + err
    code, stdout, err = run(capsys, "diff", TASTIS / PEAK, TASTIS / PEAK)
    assert code == 0 and "PEAKUP" in stdout, stdout + err


# ----------------------------------------------------------------------- live cs0.e


@pytest.mark.calstis
@pytest.mark.parametrize("name", [ACQ, PEAK])
def test_cs0_writes_nothing_for_an_acq_file_and_needs_its_ccdtab(
    name, synth_set, tmp_path, stischeck_calstis_path
):
    raw = tmp_path / name
    shutil.copyfile(TASTIS / name, raw)
    (tmp_path / "out").mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()

    def cs0(oref):
        env = dict(os.environ, oref=f"{oref}/")
        return subprocess.run(
            [str(stischeck_calstis_path), name, "out/"], cwd=tmp_path, env=env,
            capture_output=True, text=True,
        )  # fmt: skip

    without = cs0(empty)
    assert without.returncode == 2 and "CCDTAB" in without.stdout
    with_ccdtab = cs0(acq_oref(synth_set, tmp_path, raw))
    assert with_ccdtab.returncode == 0
    assert "No calibration switch was set to PERFORM" in with_ccdtab.stdout
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.calstis
def test_live_calstis_on_an_acq_file_with_chosen_switches_compares_and_reports(
    synth_set, tmp_path, stischeck_calstis_path, capsys
):
    raw = TASTIS / ACQ
    oref = acq_oref(synth_set, tmp_path, raw)
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "compare", raw, "--oref", oref, "--calstis", stischeck_calstis_path,
        "--steps", "RAW,DQICORR,BLEVCORR", "--outdir", out, "--jobs", "1",
    )  # fmt: skip
    assert code in (0, 1), stdout + err  # header fidelity is the reference's business
    verdicts = pd.read_csv(out / "verdicts.csv", keep_default_na=False)
    assert "error" not in set(verdicts.verdict), verdicts[verdicts.verdict == "error"].detail
    sci = verdicts[
        (verdicts.configuration == "BLEVCORR")
        & (verdicts.comparison == "reference-vs-calstis")
        & (verdicts.extname == "SCI")
    ]
    assert sorted(sci.imset.astype(int)) == [1, 2, 3] and (sci.n_differ.astype(int) == 0).all()
    assert (out / "report.html").is_file() and "Traceback" not in err


def test_a_product_whose_every_imset_is_bad_is_compared_not_an_error(synth_set, tmp_path, capsys):
    # o4er06llq's only imset is all zero: calstis flags it IMSET_OK = F, writes the _flt and
    # leaves DQICORR = PERFORM ("No good data were written to output"), and so does the
    # reference. That is a product to compare, not a step that failed to run.
    raw = TASTIS / PEAK
    oref = acq_oref(synth_set, tmp_path, raw)
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "compare", raw, "--oref", oref, "--calstis", stand_in_calstis(tmp_path),
        "--steps", "DQICORR", "--outdir", out, "--jobs", "1", "--no-html",
    )  # fmt: skip
    assert code == 0, stdout + err
    verdicts = pd.read_csv(out / "verdicts.csv", keep_default_na=False)
    assert set(verdicts.verdict) == {"identical"}


# ----------------------------------------------------------------------- the pytest plugin


def test_the_plugin_fails_an_acq_file_in_one_line(stischeck_compare, tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"a target acquisition \(OBSMODE = 'ACQ'\)"):
        stischeck_compare(TASTIS / ACQ, calstis=False, truth=tmp_path)


def test_the_plugin_checks_the_truth_and_the_reference_files(
    stischeck_compare, stischeck_reference, dataset, tmp_path
):
    raw, oref = dataset
    with pytest.raises(pytest.fail.Exception, match="the truth of another data set"):
        stischeck_compare(raw, calstis=False, truth=_demo_truth(tmp_path))
    ccdtab = next(oref.glob("*_ccd.fits"))
    ccdtab.unlink()
    with pytest.raises(pytest.fail.Exception, match=f"{ccdtab.name}: reference file not found"):
        stischeck_reference(raw, config="DQICORR")


def test_the_plugin_finds_the_oref_folder_by_the_rule(
    stischeck_reference, dataset, tmp_path, monkeypatch
):
    raw, oref = dataset
    moved = tmp_path / "elsewhere"
    oref.rename(moved)
    monkeypatch.setenv("oref", str(moved))  # no oref/ beside the raw file: $oref is the folder
    outcome = stischeck_reference(raw, config="DQICORR")
    assert outcome.ok, outcome.message
