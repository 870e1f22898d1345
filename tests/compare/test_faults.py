"""Faults and interrupts: nothing of the user's lost, nothing left running, nothing half-written.

Issue 21's severe classes, each a behaviour of the real command line: compare
deletes only what it wrote; a failure is never success; an interrupt or a
dead worker stops everything at once; no child outlives stischeck; partial
output never sits under a final name; the reason for exit 2 is on stderr.
"""

import contextlib
import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stischeck.cli import main
from tests.support.standins import fake_calstis

SMALL = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"
ROOT = "onkqzf010"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def case(corpus_dir):
    folder = corpus_dir / SMALL
    return folder / f"{ROOT}_raw.fits.gz", folder / "oref", folder


def compare(capsys, *args):
    code = main(["compare", *map(str, args)])
    return code, capsys.readouterr()


def _truth_run(capsys, case, outdir, *extra):
    """A quick complete compare: reference vs the stored truth, DQICORR only."""
    raw, oref, truth = case
    return compare(
        capsys, raw, "--oref", oref, "--truth", truth, "--no-calstis", "--steps", "DQICORR",
        "--no-html", "--outdir", outdir, *extra,
    )  # fmt: skip


# -- 1. compare deletes only what it wrote ----------------------------------------------


@pytest.mark.corpus
def test_compare_refuses_a_non_empty_outdir_it_did_not_make_and_touches_nothing(
    case, tmp_path, capsys
):
    raw, oref, _ = case
    outdir = tmp_path / "mine"
    (outdir / "runs").mkdir(parents=True)
    (outdir / "runs" / "my_results.fits").write_bytes(b"precious")
    (outdir / "onkqzf010_raw.fits.gz").write_bytes(raw.read_bytes())
    (outdir / "summary.json").write_text('{"mine": true}')
    before = tree(outdir)
    code, out = _truth_run(capsys, case, outdir)
    assert code == 2
    assert out.err.count("\n") == 1, out.err
    assert f"{outdir}: --outdir is not empty and was not made by stischeck" in out.err
    assert tree(outdir) == before


@pytest.mark.corpus
def test_a_second_compare_keeps_the_files_a_user_added_to_its_folder(case, tmp_path, capsys):
    outdir = tmp_path / "out"
    assert _truth_run(capsys, case, outdir)[0] == 0
    mine = outdir / "runs" / "my_results.fits"
    mine.write_bytes(b"precious")
    (outdir / "notes.txt").write_text("my notes")
    code, out = _truth_run(capsys, case, outdir)
    assert code == 0, out.err
    assert mine.read_bytes() == b"precious"
    assert (outdir / "notes.txt").read_text() == "my notes"
    marker = json.loads((outdir / ".stischeck-outdir.json").read_text())
    assert marker["status"] == "complete"
    assert "notes.txt" not in marker["files"] and "verdicts.csv" in marker["files"]


# -- 2. a failure is never success -------------------------------------------------------


def test_a_broken_pipe_that_is_not_stdout_is_an_error_not_success(monkeypatch, capsys):
    import stischeck.commands.info as info

    def broken(args):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(info, "run", broken)
    code = main(["info"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("stischeck: ") and err.count("\n") == 1


def test_a_closed_stdout_is_still_a_quiet_success(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "stischeck.cli", "info"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # nobody reads: the first write meets a closed pipe
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err


@pytest.fixture
def dead_interpreter(tmp_path, monkeypatch):
    """Reference workers start with a 'python' that dies at once (as on an import failure)."""
    import multiprocessing.spawn

    exe = tmp_path / "python-that-dies"
    exe.write_text("#!/bin/sh\nexit 7\n")
    exe.chmod(0o755)
    monkeypatch.setattr(multiprocessing.spawn, "_python_exe", os.fsencode(exe))
    return exe


def test_a_reference_worker_that_dies_is_reported_at_once(dead_interpreter, tmp_path):
    from stischeck.runners.reference import ReferencePool, ReferenceWorkerError

    t0 = time.monotonic()
    with pytest.raises(ReferenceWorkerError, match="reference worker process died"):
        with ReferencePool(1) as pool:
            handle = pool.submit(tmp_path / "x_raw.fits", None, tmp_path / "w", (), True)
            pool.result(handle, timeout_s=120)
    assert time.monotonic() - t0 < 60  # not the 120 s timeout


def test_a_reference_interpreter_that_cannot_run_is_named(tmp_path, monkeypatch):
    import multiprocessing.spawn

    from stischeck.runners.reference import ReferencePool, ReferenceWorkerError

    exe = tmp_path / "not-executable"
    exe.write_text("")
    exe.chmod(0o644)
    monkeypatch.setattr(multiprocessing.spawn, "_python_exe", os.fsencode(exe))
    with pytest.raises(
        ReferenceWorkerError, match="reference worker process (could not start|died)"
    ):
        with ReferencePool(1) as pool:
            handle = pool.submit(tmp_path / "x_raw.fits", None, tmp_path / "w", (), True)
            pool.result(handle, timeout_s=120)


@pytest.mark.corpus
def test_compare_with_a_dead_reference_pool_exits_2_at_once_named(
    case, dead_interpreter, tmp_path, capsys
):
    raw, oref, truth = case
    t0 = time.monotonic()
    code, out = compare(
        capsys, raw, "--oref", oref, "--truth", truth, "--no-calstis", "--steps", "DQICORR",
        "--no-html", "--timeout", "300", "--outdir", tmp_path / "out",
    )  # fmt: skip
    assert time.monotonic() - t0 < 120
    assert code == 2
    assert out.err.count("\n") == 1 and "reference worker process died" in out.err
    assert not (tmp_path / "out" / "summary.json").exists()
    marker = json.loads((tmp_path / "out" / ".stischeck-outdir.json").read_text())
    assert marker["status"] == "failed"


# -- 3 and 4. interrupts stop everything at once; nothing outlives stischeck --------------


def _wait_for(path: Path, timeout_s: float = 120.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def _start_hanging_compare(case, tmp_path):
    """stischeck compare with a cs0.e that writes its pid and hangs; (process, pid file)."""
    raw, oref, _ = case
    pids = tmp_path / "pids"
    pids.mkdir()
    cs0 = fake_calstis(
        tmp_path,
        f"open({str(pids)!r} + '/' + str(os.getpid()), 'w').close()\ntime.sleep(600)",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "stischeck.cli", "compare", str(raw), "--oref", str(oref),
         "--calstis", str(cs0), "--no-html", "--jobs", "2", "--outdir", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a process group of its own, as a terminal makes one
    )  # fmt: skip
    t0 = time.monotonic()
    while not any(pids.iterdir()):
        if time.monotonic() - t0 > 120 or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"cs0.e never started: {proc.communicate()}")
        time.sleep(0.05)
    time.sleep(0.5)
    return proc, pids


def _descendants(pid: int) -> list:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.corpus
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_stops_a_hung_cs0e_and_every_worker_at_once(sig, case, tmp_path):
    proc, pids = _start_hanging_compare(case, tmp_path)
    children = _descendants(proc.pid) + [int(p.name) for p in pids.iterdir()]
    signum = getattr(signal, sig)
    t0 = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C: the whole process group
    else:
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 128 + signum
    expected = "stischeck: interrupted" + ("" if sig == "SIGINT" else f" ({sig})")
    assert err.decode().strip() == expected, err.decode()
    time.sleep(1.0)
    assert [p for p in children if _alive(p)] == []
    marker = json.loads((tmp_path / "out" / ".stischeck-outdir.json").read_text())
    assert marker["status"] == "interrupted"
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.corpus
def test_children_end_themselves_when_stischeck_is_killed(case, tmp_path):
    proc, pids = _start_hanging_compare(case, tmp_path)
    children = _descendants(proc.pid) + [int(p.name) for p in pids.iterdir()]
    try:
        assert children
        semaphores = _shared_memory_mapped_by([proc.pid, *children])
        assert semaphores, "the reference pool's queues hold POSIX semaphores"
    except AssertionError:
        for pid in [proc.pid, *children]:  # a failed check leaves no hung compare behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        raise
    proc.kill()  # SIGKILL: no handler runs
    _, err = proc.communicate(timeout=30)
    t0 = time.monotonic()
    while [p for p in children if _alive(p)] and time.monotonic() - t0 < 20:
        time.sleep(0.1)
    assert [p for p in children if _alive(p)] == []
    # multiprocessing's resource tracker unlinks them, and says nothing on the terminal.
    assert [s for s in semaphores if s.exists()] == []
    assert err.decode() == ""


def _shared_memory_mapped_by(pids: list) -> set:
    """The /dev/shm entries (POSIX semaphores) these processes have mapped."""
    names = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        names |= {Path(line.split()[-1]) for line in maps.splitlines() if "/dev/shm/" in line}
    return names


def test_the_version_probe_is_one_brief_probe_that_leaves_nothing(tmp_path):
    from stischeck.environment import calstis_version
    from stischeck.runners.process import live_children

    pidfile = tmp_path / "child"
    cs0 = fake_calstis(
        tmp_path,
        "import subprocess\n"
        f"p = subprocess.Popen(['sleep', '300']); open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(300)",
    )
    t0 = time.monotonic()
    assert calstis_version(cs0) is None
    assert time.monotonic() - t0 < 6
    grandchild = int(pidfile.read_text())
    time.sleep(0.3)
    assert not _alive(grandchild)
    assert live_children() == []


# -- 5. nothing half-written under a final name -----------------------------------------


@pytest.mark.corpus
def test_report_refuses_a_truncated_verdicts_table(case, tmp_path, capsys):
    outdir = tmp_path / "out"
    assert _truth_run(capsys, case, outdir)[0] == 0
    table = outdir / "verdicts.csv"
    text = table.read_text()
    table.write_text(text[: len(text) // 2])
    code = main(["report", str(outdir)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"{table}: truncated" in err


@pytest.mark.corpus
def test_report_refuses_an_interrupted_run(case, tmp_path, capsys):
    outdir = tmp_path / "out"
    assert _truth_run(capsys, case, outdir)[0] == 0
    marker = outdir / ".stischeck-outdir.json"
    data = json.loads(marker.read_text())
    marker.write_text(json.dumps(dict(data, status="interrupted")))
    code = main(["report", str(outdir)])
    err = capsys.readouterr().err
    assert code == 2 and "incomplete compare run" in err


def _full_disk_after(monkeypatch, n_bytes: int):
    """Files opened for binary writing take ``n_bytes`` in all, then fail with ENOSPC."""
    budget = [n_bytes]

    class FullDisk:
        def __init__(self, fh):
            self._fh = fh

        def write(self, data):
            data = memoryview(data).cast("B")
            if data.nbytes > budget[0]:
                self._fh.write(data[: budget[0]])
                budget[0] = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            budget[0] -= data.nbytes
            return self._fh.write(data)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

        def __getattr__(self, name):
            return getattr(self._fh, name)

    real_open = Path.open

    def open_(self, mode="r", *args, **kwargs):
        fh = real_open(self, mode, *args, **kwargs)
        if "b" in mode and any(c in mode for c in "wxa"):
            return FullDisk(fh)
        return fh

    monkeypatch.setattr(Path, "open", open_)


@pytest.mark.corpus
def test_reference_on_a_full_disk_names_the_file_and_leaves_no_product(
    case, tmp_path, capsys, monkeypatch
):
    raw, oref, _ = case
    out = tmp_path / "products"
    out.mkdir()
    _full_disk_after(monkeypatch, 1_000_000)  # the _crj fits, the _flt does not
    code = main(["reference", str(raw), "--oref", str(oref), "--outroot", f"{out}/"])
    err = capsys.readouterr().err
    err = "".join(line for line in err.splitlines(True) if "warning: CR rejection" not in line)
    assert code == 2
    assert err.count("\n") == 1 and "No space left on device" in err and str(out) in err
    assert "internal error" not in err
    assert list(out.iterdir()) == []


@pytest.mark.corpus
def test_diff_csv_into_a_missing_folder_is_one_line(case, tmp_path, capsys):
    _, _, truth = case
    flt = truth / "DQICORR" / f"{ROOT}_flt.fits.gz"
    target = tmp_path / "nowhere" / "t.csv"
    code = main(["diff", str(flt), str(flt), "--csv", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        f"stischeck: {target}: cannot write the CSV: folder {target.parent} does not exist"
    )


# -- 6. the reason for exit 2 is on stderr ------------------------------------------------


@pytest.mark.corpus
def test_compare_puts_its_exit_2_reason_on_stderr_in_one_line(case, tmp_path, capsys):
    raw, oref, _ = case
    cs0 = fake_calstis(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")
    code, out = compare(
        capsys, raw, "--oref", oref, "--calstis", cs0, "--only", "DQICORR", "--no-html",
        "--steplocal", "never", "--outdir", tmp_path / "out",
    )  # fmt: skip
    assert code == 2
    assert out.err.count("\n") == 1, out.err
    assert out.err.startswith("stischeck: onkqzf010: ") and "killed by SIGSEGV" in out.err


def test_numpy_floating_point_warnings_never_reach_the_user(monkeypatch, capsys):
    import warnings

    import numpy as np

    import stischeck.commands.info as info

    def overflowing(args):
        warnings.warn("overflow encountered in multiply", RuntimeWarning, stacklevel=1)
        with np.errstate(all="warn"):
            np.float32(3e38) * np.float32(10)
        return 0

    monkeypatch.setattr(info, "run", overflowing)
    assert main(["info"]) == 0
    assert capsys.readouterr().err == ""


def test_a_released_pool_lets_its_worker_exit_and_starts_a_new_one_when_needed():
    from stischeck.runners.reference import ReferencePool

    pool = ReferencePool(1)
    try:
        first = pool._to_worker(os.getpid).result(timeout=60)
        pool.release()  # no more runs for now: the worker exits on its own
        t0 = time.monotonic()
        while _alive(first) and time.monotonic() - t0 < 30:
            time.sleep(0.05)
        assert not _alive(first)
        second = pool._to_worker(os.getpid).result(timeout=60)  # a later run: a new worker
        assert second != first and _alive(second)
    finally:
        pool.close()
    assert not _alive(second)
