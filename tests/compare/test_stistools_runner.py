"""compare --runner stistools: calstis through stistools.calstis in a child process, and parity."""

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from stischeck.runners.outcome import RunOutcome
from stischeck.runners.stistools_wrapper import execute_stistools, parity
from tests.compare.test_compare import ROOT, compare_cli
from tests.support.standins import checksums, fake_calstis

pytest_plugins = ["pytester"]

FAULTS = {
    "hangs": (
        "open(os.environ['PIDFILE'], 'w').write(str(os.getpid())); time.sleep(600)",
        "stistools.calstis timed out after 15 s on onkqzf010_raw.fits (process group killed)",
    ),
    "segfaults": (
        "os.kill(os.getpid(), signal.SIGSEGV)",
        "cs0.e crashed (killed by SIGSEGV); the wrapper returned 1",
    ),
    "writes-nothing": (
        "sys.exit(0)",
        "returned 0 on onkqzf010_raw.fits but cs0.e wrote no product",
    ),
    "writes-truncated-fits": (
        "open(sys.argv[2] + 'onkqzf010_flt.fits', 'wb')"
        ".write(b'SIMPLE  =                    T' + b' ' * 50)",
        "onkqzf010_flt.fits: unreadable product",
    ),
    "exits-2-with-a-message": (
        "print('ERROR:  Can not open reference file oref$nope_bia.fits'); sys.exit(2)",
        "(cs0.e exit status 2; the wrapper returned 1): ERROR: Can not open reference file",
    ),
}


@pytest.fixture
def small_case(corpus_dir):
    case = corpus_dir / "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"
    return case / f"{ROOT}_raw.fits.gz", case / "oref", case


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.corpus
@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_a_cs0_fault_under_the_wrapper_is_reported_as_what_it_is(
    fault, small_case, tmp_path, capsys, monkeypatch
):
    raw, oref, _ = small_case
    body, expected = FAULTS[fault]
    monkeypatch.setenv("PIDFILE", str(tmp_path / "pid"))
    cs0 = fake_calstis(tmp_path, body)
    code, out = compare_cli(
        capsys,
        raw,
        oref,
        cs0,
        tmp_path / "out",
        "--runner",
        "stistools",
        "--steps",
        "DQICORR",
        "--timeout",
        # The child's Python and its stistools import take 1.5 s on a quiet machine and
        # over 5 s on a loaded one: only the hang may reach the timeout.
        "15" if fault == "hangs" else "300",
    )
    assert code == 2, out.out
    assert expected in out.out
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    row = runs[(runs.configuration == "DQICORR") & (runs.side == "calstis")].iloc[0]
    assert row.status == "error" and expected in row.message
    if fault == "hangs":
        # The fake cs0.e the wrapper started was killed with the child's process group.
        time.sleep(0.2)
        assert not _pid_alive(int((tmp_path / "pid").read_text()))


def test_a_wrapper_that_cannot_be_imported_is_an_error_naming_the_exception(tmp_path, monkeypatch):
    broken = tmp_path / "site" / "stistools"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('no stistools here')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    raw = tmp_path / "in" / "x_raw.fits"
    raw.parent.mkdir()
    raw.write_bytes(b"")
    outcome = execute_stistools(
        fake_calstis(tmp_path, "sys.exit(0)"), raw, None, tmp_path / "run", timeout_s=60
    )
    assert outcome.status == "error"
    assert "stistools.calstis raised on x_raw.fits: ImportError: no stistools here" in (
        outcome.message
    )


def test_a_missing_input_is_the_wrappers_no_file_matched(tmp_path):
    outcome = execute_stistools(
        fake_calstis(tmp_path, "sys.exit(0)"),
        tmp_path / "in" / "absent_raw.fits",
        None,
        tmp_path / "run",
        timeout_s=60,
    )
    assert outcome.status == "error"
    assert "failed on absent_raw.fits (no input file matched)" in outcome.message


def test_the_wrapper_runs_cs0_on_path_with_the_runners_command_line(tmp_path):
    log = tmp_path / "argv.json"
    body = (
        f"json_path = {str(log)!r}\nimport json\n"
        "json.dump([sys.argv[0], os.getcwd(), os.environ.get('oref')] + sys.argv[1:], "
        "open(json_path, 'w'))\nsys.exit(0)"
    )
    raw = tmp_path / "runs" / "X" / "input" / "x_raw.fits"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(b"")
    (tmp_path / "oref").mkdir()
    work = tmp_path / "runs" / "X" / "calstis"
    outcome = execute_stistools(
        fake_calstis(tmp_path, body), raw, tmp_path / "oref", work, expects_products=None
    )
    assert outcome.status == "empty", outcome.message
    argv0, cwd, oref, *args = json.loads(log.read_text())
    assert Path(argv0) == work.resolve() / "bin" / "cs0.e"
    assert Path(cwd) == work.resolve()
    assert oref == f"{(tmp_path / 'oref').resolve()}/"
    assert args == ["../input/x_raw.fits", "out/"]


def test_parity_reports_what_the_wrapper_changed_besides_the_products(tmp_path):
    raw = tmp_path / "X" / "input" / "x_raw.fits"
    raw.parent.mkdir(parents=True)
    direct_dir, wrapped_dir = tmp_path / "X" / "cs0", tmp_path / "X" / "calstis"
    for d in (direct_dir, wrapped_dir):
        d.mkdir()
    (direct_dir / "cs0.trl").write_text("CALSTIS-0\nBegin 07-Dec-2026 00:48:43 UTC\nstep done\n")
    (wrapped_dir / "cs0.trl").write_text("CALSTIS-0\nBegin 07-Dec-2026 00:49:01 UTC\nstep done\n")
    report = dict(calls=[dict(argv=["cs0.e", "../input/x_raw.fits", "out/"], status=0)])
    (wrapped_dir / "stistools.json").write_text(json.dumps(report))
    direct = RunOutcome(side="cs0", status="ok", trailer=direct_dir / "cs0.trl")
    wrapped = RunOutcome(side="calstis", status="ok", trailer=wrapped_dir / "cs0.trl")
    assert parity(raw, direct, wrapped, direct_dir, wrapped_dir) == []  # only times differ

    (wrapped_dir / "cs0.trl").write_text("CALSTIS-0\nextra line\nstep done\n")
    report["calls"][0]["argv"] += ["-v"]
    (wrapped_dir / "stistools.json").write_text(json.dumps(report))
    (wrapped_dir / "stistools.log").write_text("Running calstis on x_raw.fits\n")
    notes = parity(raw, direct, wrapped, direct_dir, wrapped_dir)
    assert any(n.startswith("command line: wrapper") and "'-v'" in n for n in notes), notes
    assert any("trailer differs: wrapper adds ['extra line']" in n for n in notes), notes
    assert any("the wrapper printed: ['Running calstis" in n for n in notes), notes


@pytest.mark.calstis
@pytest.mark.corpus
def test_live_calstis_through_stistools_agrees_and_matches_cs0_bit_for_bit(
    small_case, calstis_path, tmp_path, capsys
):
    raw, oref, _ = small_case
    before = checksums(raw, oref)
    code, out = compare_cli(
        capsys,
        raw,
        oref,
        calstis_path,
        tmp_path / "out",
        "--runner",
        "stistools",
        "--steps",
        "RAW,DQICORR,BLEVCORR,CRCORR",
    )
    assert code == 0, out.out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["runner"] == "stistools"
    for name, entry in summary["parity"].items():
        assert entry["products"] in ("identical", "empty"), (name, entry)
        assert entry["wrapper_changes"] == [], (name, entry)
    assert "parity (stistools.calstis vs cs0.e): products identical in 4/4" in out.out
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert set(runs.side) == {"reference", "calstis", "cs0"}
    assert checksums(raw, oref) == before


def test_the_stistools_runner_is_not_imported_by_the_command(tmp_path):
    """stistools is imported in the child only: the compare command never loads it."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom stischeck.cli import main\n"
        "try:\n    main(['compare', 'absent_raw.fits', '--runner', 'stistools'])\n"
        "except SystemExit:\n    pass\n"
        "print('stistools' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr


@pytest.mark.calstis
@pytest.mark.corpus
def test_the_calstis_fixture_runs_through_stistools_when_asked(small_case, stischeck_calstis):
    raw, oref, _ = small_case
    live = stischeck_calstis(raw, oref, config="BLEVCORR", runner="stistools")
    assert live.ok, live.message
    report = json.loads((live.products["flt"].parent.parent / "stistools.json").read_text())
    assert report["returned"] == 0 and report["calls"][0]["status"] == 0
    direct = stischeck_calstis(raw, oref, config="BLEVCORR")
    from astropy.io.fits import FITSDiff

    assert FITSDiff(str(live.products["flt"]), str(direct.products["flt"])).identical


def test_the_runner_option_of_the_plugin_reaches_the_calstis_fixture(pytester):
    pytester.makepyfile(
        """
        def test_runner(request):
            from stischeck.pytest_plugin import _FOUND
            print("RUNNER", request.config.stash[_FOUND]["runner"])
        """
    )
    pytester.runpytest("-s", "--stischeck-runner", "stistools").stdout.fnmatch_lines(
        ["*RUNNER stistools*"]
    )
    pytester.runpytest("-s").stdout.fnmatch_lines(["*RUNNER cs0*"])


@pytest.mark.calstis
@pytest.mark.corpus
def test_record_through_stistools_stores_the_products_cs0_stores(
    small_case, calstis_path, tmp_path, capsys
):
    from astropy.io.fits import FITSDiff

    from stischeck.cli import main

    raw, oref, _ = small_case
    for runner in ("cs0", "stistools"):
        code = main(
            ["record", str(raw), "--oref", str(oref), "--out", str(tmp_path / runner)]
            + ["--calstis", str(calstis_path), "--runner", runner, "--steps", "DQICORR,CRCORR"]
        )
        assert code == 0
    assert "through stistools" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "stistools" / "manifest.json").read_text())
    assert manifest["calstis"]["runner"] == "stistools"
    stored = sorted((tmp_path / "cs0").glob("*CORR/*_*.fits.gz"))
    assert {p.parent.name for p in stored} == {"DQICORR", "CRCORR"}
    for path in stored:
        other = tmp_path / "stistools" / path.relative_to(tmp_path / "cs0")
        assert FITSDiff(str(path), str(other)).identical, path.name


def test_a_batch_rerun_with_another_runner_is_not_reused(tmp_path):
    from stischeck.batch.engine import BatchSettings, _options

    def key(runner):
        s = BatchSettings(datasets=[], outdir=tmp_path, calstis=None, runner=runner)
        return _options(s, hasher=str)

    assert key("stistools") != key("cs0")
    assert "runner" not in key("cs0")  # keys of batches run before --runner stay valid


@pytest.mark.corpus
def test_a_wrapper_run_whose_products_differ_fails_the_parity_check(small_case, tmp_path, capsys):
    """cs0.e writes the stored product; under the wrapper, one pixel more: parity differs."""
    raw, oref, case = small_case
    stored = case / "DQICORR" / f"{ROOT}_flt.fits.gz"
    body = (
        "import gzip, shutil\nfrom astropy.io import fits\n"
        f"out = sys.argv[2] + '{ROOT}_flt.fits'\n"
        f"with gzip.open({str(stored)!r}) as f, open(out, 'wb') as g:\n"
        "    shutil.copyfileobj(f, g)\n"
        "if os.path.basename(os.getcwd()) == 'calstis':\n"
        "    with fits.open(out, mode='update') as h:\n"
        "        h['SCI', 1].data[3, 5] += 1\n"
    )
    code, out = compare_cli(
        capsys,
        raw,
        oref,
        fake_calstis(tmp_path, body),
        tmp_path / "out",
        "--runner",
        "stistools",
        "--steps",
        "DQICORR",
    )
    assert code == 1, out.out
    assert "parity (stistools.calstis vs cs0.e): products identical in 0/1" in out.out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["parity"]["DQICORR"]["products"] == "differ"
    assert summary["configurations"]["DQICORR"]["calstis-vs-cs0"] == "differ"
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    rows = verdicts[(verdicts.comparison == "calstis-vs-cs0") & (verdicts.verdict == "differ")]
    assert list(zip(rows.extname, rows.imset, rows.worst_x, rows.worst_y, strict=True)) == [
        ("SCI", 1, 6, 4)  # FITS 1-based
    ]
