"""stischeck batch: many data sets on Dask, a broken and a hanging one reported, resume, index."""

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from astropy.io import fits

from stischeck.cli import main
from tests.support.standins import checksums, fake_calstis

SMALL = {
    "img_ampB_g1_sub1060x48_cr1": "oxdmpg010",
    "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr": "onkqzf010",
}
STEPS = "DQICORR,BLEVCORR"


def run_cli(capsys, *args):
    code = main(["batch", *map(str, args)])
    return code, capsys.readouterr()


def assert_aggregate_matches_folders(outdir: Path):
    """The batch's verdicts.csv is every done data set's verdicts.csv, cell for cell."""
    agg = pd.read_csv(outdir / "verdicts.csv", dtype=str, keep_default_na=False)
    datasets = pd.read_csv(outdir / "datasets.csv", dtype=str, keep_default_na=False)
    assert list(agg.dataset.unique()) == list(datasets.dataset)
    for row in datasets.itertuples():
        mine = agg[agg.dataset == row.dataset].drop(columns="dataset").reset_index(drop=True)
        if row.status == "done":
            own = pd.read_csv(
                outdir / row.dataset / "verdicts.csv", dtype=str, keep_default_na=False
            )
            pd.testing.assert_frame_equal(mine, own)
        else:
            assert len(mine) == 1 and mine.verdict[0] == "error"
            assert mine.detail[0] == row.message != ""


@pytest.fixture
def inputs(corpus_dir, tmp_path):
    """Two good corpus cases (a folder and a raw file), a truncated raw and a changeable copy."""
    cases = {name: corpus_dir / name for name in SMALL}
    a, b = cases
    # A truncated raw file, with the case's oref/ beside it and its truth named in a CSV.
    broken = tmp_path / "in" / "broken"
    broken.mkdir(parents=True)
    data = gzip.open(cases[a] / f"{SMALL[a]}_raw.fits.gz").read()
    (broken / f"{SMALL[a]}_raw.fits").write_bytes(data[: len(data) // 2])
    (broken / "oref").symlink_to(cases[a] / "oref")
    # A copy of the other case, to change later.
    copy = tmp_path / "in" / "copy"
    copy.mkdir()
    shutil.copy(cases[b] / f"{SMALL[b]}_raw.fits.gz", copy / f"{SMALL[b]}_raw.fits.gz")
    (copy / "oref").symlink_to(cases[b] / "oref")
    manifest = tmp_path / "in" / "batch.csv"
    manifest.write_text(
        "raw,oref,truth,dataset\n"
        f"broken/{SMALL[a]}_raw.fits,,{cases[a]},truncated\n"
        f"copy/{SMALL[b]}_raw.fits.gz,copy/oref,{cases[b]},changed-later\n"
    )
    return cases, manifest, copy / f"{SMALL[b]}_raw.fits.gz"


@pytest.mark.corpus
def test_batch_reports_the_broken_data_set_completes_the_others_and_resumes(
    inputs, tmp_path, capsys
):
    cases, manifest, copy = inputs
    a, b = cases
    before = checksums(*cases.values(), manifest.parent)
    out = tmp_path / "out"
    args = (cases[a], cases[b] / f"{SMALL[b]}_raw.fits.gz", manifest, "--outdir", out)
    args += ("--no-calstis", "--steps", STEPS, "--workers", "2", "--no-html")

    code, cap = run_cli(capsys, *args)
    assert code == 2, cap.out + cap.err  # one could not run
    assert not cap.err, cap.err
    assert "could not run truncated" in cap.out
    datasets = pd.read_csv(out / "datasets.csv", keep_default_na=False).set_index("dataset")
    assert list(datasets.index) == [a, SMALL[b], "truncated", "changed-later"]
    assert datasets.loc["truncated", "status"] == "failed"
    assert "not a readable FITS file (truncated" in datasets.loc["truncated", "message"]
    for name in (a, SMALL[b], "changed-later"):
        assert datasets.loc[name, "status"] == "done" and datasets.loc[name, "verdict"] == "agree"
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["primary_comparison"] == "reference-vs-truth"
        assert set(summary["configurations"]) == set(STEPS.split(","))
    assert json.loads((out / "truncated" / "batch.json").read_text())["status"] == "failed"
    assert_aggregate_matches_folders(out)
    batch = json.loads((out / "batch.json").read_text())
    assert batch["exit_code"] == 2 and batch["counts"] == {"agree": 3, "could not run": 1}

    page = (out / "index.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.index("truncated") < page.index(f">{SMALL[b]}<")  # failures first
    assert f'href="{a}/summary.txt"' in page

    # Rerun: the three complete data sets are reused, the failed one runs again.
    t0 = time.perf_counter()
    code, cap = run_cli(capsys, *args)
    assert code == 2
    datasets = pd.read_csv(out / "datasets.csv", keep_default_na=False).set_index("dataset")
    assert datasets.reused.to_dict() == {
        a: True,
        SMALL[b]: True,
        "truncated": False,
        "changed-later": True,
    }
    assert time.perf_counter() - t0 < 15
    assert_aggregate_matches_folders(out)

    # A changed input is rerun, the others are not.
    with fits.open(copy) as hdul:
        hdul[0].header["HISTORY"] = "changed after the first batch"
        data = hdul.copy()
        copy.unlink()
        data.writeto(copy)
    code, cap = run_cli(capsys, *args)
    datasets = pd.read_csv(out / "datasets.csv", keep_default_na=False).set_index("dataset")
    assert not datasets.loc["changed-later", "reused"]
    assert datasets.loc[a, "reused"] and datasets.loc[SMALL[b], "reused"]

    # --force reruns everything.
    code, cap = run_cli(capsys, *args, "--force")
    datasets = pd.read_csv(out / "datasets.csv", keep_default_na=False)
    assert not datasets.reused.any()
    del before[str(copy)]
    after = checksums(*cases.values(), manifest.parent)
    assert {k: v for k, v in after.items() if k in before} == before  # inputs untouched


@pytest.mark.corpus
def test_a_report_asked_for_later_reruns_the_data_set_and_is_linked(corpus_dir, tmp_path, capsys):
    pytest.importorskip("stischeck.report")
    case = corpus_dir / "img_ampB_g1_sub1060x48_cr1"
    out = tmp_path / "out"
    args = (case, "--outdir", out, "--no-calstis", "--steps", "DQICORR", "--workers", "1")
    assert run_cli(capsys, *args, "--no-html")[0] == 0
    assert not (out / case.name / "report.html").exists()
    assert run_cli(capsys, *args)[0] == 0
    datasets = pd.read_csv(out / "datasets.csv", keep_default_na=False)
    assert not datasets.reused[0] and datasets.report[0] == f"{case.name}/report.html"
    assert (out / case.name / "report.html").is_file()
    assert f'href="{case.name}/report.html"' in (out / "index.html").read_text()
    assert run_cli(capsys, *args)[0] == 0  # now complete, report and all
    assert pd.read_csv(out / "datasets.csv").reused[0]


def _processes_running(marker: str) -> list:
    import psutil

    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in p.info["cmdline"] or ()):
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


@pytest.mark.corpus
def test_a_hanging_data_set_is_killed_at_its_timeout_and_the_rest_go_on(
    corpus_dir, tmp_path, capsys
):
    cases = [corpus_dir / name for name in SMALL]
    # cs0.e hangs on the first case (far beyond --timeout), writes nothing on the second.
    cs0 = fake_calstis(
        tmp_path,
        f"if b'{SMALL[cases[0].name]}' in open(sys.argv[1], 'rb').read(30000):\n"
        "    time.sleep(300)\n",
    )
    out = tmp_path / "out"
    t0 = time.perf_counter()
    code, cap = run_cli(
        capsys,
        *cases,
        "--outdir",
        out,
        "--calstis",
        cs0,
        "--steps",
        "DQICORR",
        "--timeout",
        "200",
        "--dataset-timeout",
        "8",
        "--workers",
        "2",
        "--no-html",
    )
    wall = time.perf_counter() - t0
    assert code == 2
    assert wall < 45, wall
    datasets = pd.read_csv(out / "datasets.csv", keep_default_na=False).set_index("dataset")
    hung, other = cases[0].name, cases[1].name
    assert datasets.loc[hung, "status"] == "failed"
    assert datasets.loc[hung, "message"].startswith("timed out after 8 s")
    record = json.loads((out / hung / "batch.json").read_text())
    assert record["status"] == "failed" and "timed out" in record["message"]
    # The other data set completed: its calstis side is an error row, not a lost data set.
    assert datasets.loc[other, "status"] == "done"
    runs = pd.read_csv(out / other / "runs.csv")
    assert "wrote no product" in runs[runs.side == "calstis"].message.iloc[0]
    assert not _processes_running(str(cs0)), "the hung cs0.e was left running"
    assert_aggregate_matches_folders(out)


def _complete_json(path) -> bool:
    try:
        return "address" in json.loads(path.read_text())
    except (OSError, ValueError):
        return False


@pytest.fixture
def external_cluster(tmp_path):
    """A Dask scheduler and one worker, each its own process, on localhost."""
    sched_file = tmp_path / "scheduler.json"
    common = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    python = [sys.executable, "-m"]
    procs = [
        subprocess.Popen(
            [*python, "distributed.cli.dask_scheduler", "--scheduler-file", str(sched_file)]
            + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + 30
        # The scheduler writes its file in place: wait until it holds the whole JSON.
        while not _complete_json(sched_file) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.is_file(), "dask scheduler did not start"
        procs.append(
            subprocess.Popen(
                [*python, "distributed.cli.dask_worker", "--scheduler-file", str(sched_file)]
                + ["--nthreads", "1", "--no-dashboard", "--name", "external-worker"],
                **common,
            )
        )
        yield sched_file, procs
    finally:
        # Each was started in its own session: its process group holds the nanny's worker too.
        # SIGTERM first: a SIGKILLed group takes multiprocessing's resource tracker with it,
        # and the nanny's semaphores stay in /dev/shm.
        for p in reversed(procs):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.pid, sig)
                    p.wait(timeout=20)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue


@pytest.mark.corpus
def test_batch_runs_on_a_scheduler_and_worker_in_separate_processes(
    corpus_dir, external_cluster, tmp_path, capsys
):
    sched_file, procs = external_cluster
    address = json.loads(sched_file.read_text())["address"]
    cases = [corpus_dir / name for name in SMALL]
    out = tmp_path / "out"
    code, cap = run_cli(
        capsys, *cases, "--outdir", out, "--no-calstis", "--steps", "DQICORR", "--no-html",
        "--scheduler", address,
    )  # fmt: skip
    assert code == 0, cap.out + cap.err
    assert f"on scheduler {address}, 1 worker" in cap.out
    for case in cases:
        record = json.loads((out / case.name / "batch.json").read_text())
        assert record["status"] == "done" and record["verdict"] == "agree"
        # Ran in the external worker process, not in this one.
        assert record["worker"].startswith("tcp://127.0.0.1:")
    assert procs[1].poll() is None  # the worker survives the batch
    assert_aggregate_matches_folders(out)


@pytest.mark.calstis
@pytest.mark.corpus
def test_batch_with_live_calstis_agrees_three_ways(corpus_dir, calstis_path, tmp_path, capsys):
    cases = [corpus_dir / name for name in SMALL]
    out = tmp_path / "out"
    code, cap = run_cli(
        capsys, *cases, "--outdir", out, "--calstis", calstis_path, "--steps", STEPS,
        "--workers", "2",
    )  # fmt: skip
    assert code == 0, cap.out
    for case in cases:
        summary = json.loads((out / case.name / "summary.json").read_text())
        assert summary["primary_comparison"] == "reference-vs-calstis"
        for entry in summary["configurations"].values():
            assert set(entry) >= {"reference-vs-calstis", "reference-vs-truth", "calstis-vs-truth"}
            assert set(entry.values()) <= {"identical", "empty"}, entry
    assert_aggregate_matches_folders(out)


# ---------------------------------------------------------------- bad inputs: one line, exit 2


def _raw_stub(folder: Path, root="abc123010", oref=True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{root}_raw.fits"
    fits.PrimaryHDU(header=fits.Header([("DETECTOR", "CCD"), ("ROOTNAME", root)])).writeto(raw)
    if oref:
        (folder / "oref").mkdir(exist_ok=True)
    return raw


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda t: [t / "nope_raw.fits"], "{t}/nope_raw.fits: input not found"),
        (lambda t: [t.mkdir(exist_ok=True) or t], "{t}: no *_raw.fits or *_raw.fits.gz file"),
        (
            lambda t: [_raw_stub(t / "a", oref=False)],
            "{t}/a/abc123010_raw.fits: no oref/ folder beside it",
        ),
        (
            lambda t: [(t / "x.csv").write_text("raw,flat\na_raw.fits,z\n") and t / "x.csv"],
            "{t}/x.csv: unknown column(s) flat",
        ),
        (
            lambda t: [(t / "x.csv").write_text("raw\nmissing_raw.fits\n") and t / "x.csv"],
            "{t}/missing_raw.fits: raw file not found ({t}/x.csv:2)",
        ),
        (
            lambda t: [(t / "notes.txt").write_text("hi") and t / "notes.txt"],
            "{t}/notes.txt: not a raw file",
        ),
        (
            lambda t: [_raw_stub(t / "abc123010"), "--outdir", t],
            "{t}/abc123010/abc123010_raw.fits: raw file of abc123010 lies in its output folder",
        ),
        (lambda t: [_raw_stub(t / "a"), "--workers", "0"], "--workers must be at least 1"),
        (lambda t: [_raw_stub(t / "a"), "--steps", "SHADCORR"], "unknown step(s) SHADCORR"),
    ],
    ids=[
        "missing",
        "empty-folder",
        "no-oref",
        "csv-column",
        "csv-raw",
        "not-raw",
        "outdir-holds-input",
        "workers",
        "steps",
    ],
)
def test_bad_inputs_are_one_line_and_exit_2(make, expected, tmp_path, capsys):
    t = tmp_path / "in"
    t.mkdir()
    args = make(t)
    if "--outdir" not in args:
        args += ["--outdir", tmp_path / "out"]
    code, cap = run_cli(capsys, *args, "--no-calstis", "--no-truth")
    err = cap.err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("stischeck: "), err
    assert expected.format(t=t) in err, err
    assert "Traceback" not in cap.err


def test_folder_inputs_follow_links_once_and_skip_compare_outputs(tmp_path):
    from stischeck.batch.inputs import resolve_inputs

    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    _raw_stub(data / "case1", "aaa111010")
    _raw_stub(elsewhere / "case2", "bbb222010")
    (data / "linked").symlink_to(elsewhere)
    (data / "loop").symlink_to(data)  # visited once, not forever
    _raw_stub(data / "two", "ccc333010")
    _raw_stub(data / "two", "ddd444010")
    old = data / "old-compare"  # a compare output folder: its runs/ hold raw copies
    (old / "runs" / "DQICORR" / "reference").mkdir(parents=True)
    (old / "summary.json").write_text("{}")
    _raw_stub(old / "runs" / "DQICORR" / "reference", "aaa111010")
    _raw_stub(data / "out" / "x", "eee555010")
    found = resolve_inputs([data], skip=data / "out")
    assert [(d.name, d.raw.name) for d in found] == [
        ("case1", "aaa111010_raw.fits"),
        ("case2", "bbb222010_raw.fits"),
        ("ccc333010", "ccc333010_raw.fits"),
        ("ddd444010", "ddd444010_raw.fits"),
    ]
    assert found[1].oref == (elsewhere / "case2" / "oref").resolve()
    assert all(d.truth is None for d in found)


def test_no_calstis_and_no_truth_is_one_line(tmp_path, capsys):
    raw = _raw_stub(tmp_path / "a")
    code, cap = run_cli(capsys, raw, "--no-calstis", "--outdir", tmp_path / "out")
    assert code == 2
    assert cap.err.strip() == (
        f"stischeck: {raw}: nothing to compare the reference with (no cs0.e, no truth folder)"
    )


def test_cli_start_up_does_not_import_dask():
    code = (
        "import sys, stischeck.cli as c; c.build_parser(); "
        "print(any(m.split('.')[0] in ('dask', 'distributed', 'pandas') for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout.strip() == "False"


@pytest.mark.corpus
def test_release_certificate_names_the_data_sets_where_build_b_moved_away(
    corpus_dir, tmp_path, capsys
):
    from tests.compare.test_first_hour import REFERENCE_AS_CALSTIS
    from tests.compare.test_two_builds import BIAS_PIXEL_OFF

    cases = [corpus_dir / name for name in SMALL]
    good = fake_calstis(tmp_path / "a", REFERENCE_AS_CALSTIS)
    wrong = fake_calstis(tmp_path / "b", BIAS_PIXEL_OFF)
    steps = ("--steps", "DQICORR,BIASCORR", "--no-html", "--workers", "2")
    out = tmp_path / "same"
    code, cap = run_cli(capsys, *cases, "--outdir", out, "--calstis", good,
                        "--baseline-calstis", good, *steps)  # fmt: skip
    assert code == 0, cap.out
    cert = json.loads((out / "batch.json").read_text())["certificate"]
    assert cert["identical"] and cert["line"].startswith("Build B is bit-identical to build A")
    assert f"A/B: {cert['line']}" in cap.out
    out = tmp_path / "moved"
    code, cap = run_cli(capsys, *cases, "--outdir", out, "--calstis", wrong,
                        "--baseline-calstis", good, *steps)  # fmt: skip
    assert code == 1, cap.out
    cert = json.loads((out / "batch.json").read_text())["certificate"]
    assert not cert["identical"] and cert["n_changed"] == len(cases)
    assert "first at BIASCORR in 2: B moved away from the reference" in cert["line"]
    table = pd.read_csv(out / "certificate.csv")
    assert set(table[~table.identical].configuration) == {"BIASCORR"}
    assert cert["line"] in (out / "index.html").read_text()


@pytest.mark.calstis
@pytest.mark.corpus
def test_probes_of_both_builds_go_on_the_certificate_index(
    corpus_dir, calstis_path, tmp_path, capsys
):
    from stischeck.probes import PROBES

    case = corpus_dir / next(iter(SMALL))
    build_a = tmp_path / "a" / "cs0.e"  # the same program under another path: two columns
    build_a.parent.mkdir()
    build_a.write_text(f'#!/bin/sh\nexec "{calstis_path}" "$@"\n')
    build_a.chmod(0o755)
    out = tmp_path / "out"
    code, cap = run_cli(capsys, case, "--outdir", out, "--calstis", calstis_path,
                        "--baseline-calstis", build_a, "--steps", "DQICORR", "--no-html",
                        "--probes")  # fmt: skip
    assert code == 0, cap.out
    probes = json.loads((out / "batch.json").read_text())["probes"]
    assert list(probes["builds"]) == ["A", "B"]
    assert [p["name"] for p in probes["rows"]] == [p.name for p in PROBES]
    assert not any(p["changed"] for p in probes["rows"])  # one program: the same verdicts
    assert (out / "probes" / "probes.csv").is_file()
    assert "Known-issue probes" in (out / "index.html").read_text()
