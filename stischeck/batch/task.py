"""The Dask task: run one data set in an isolated child process with a hard timeout.

Why a child process: Dask worker processes are daemonic, so the reference's
``multiprocessing`` pool cannot start inside them, and a Python thread cannot
be stopped, so a data set that hangs in-process would hold its worker for
good. Each worker thread therefore keeps one long-lived child
(``python -m stischeck.batch.child``, started with `subprocess`, which works
in daemonic workers too) and hands it one data set at a time. When a data set
exceeds its time the child and everything it started (cs0.e included) are
killed, the data set's row says so, and the next data set gets a fresh child.
A crash of the child is reported the same way. The child imports the heavy
modules once, so a data set costs no interpreter start-up.

Only the standard library is imported here, so that Dask can unpickle the task
on a worker cheaply.
"""

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["ChildRunner", "run_dataset", "shutdown_children"]

_local = threading.local()
_runners: list = []
_runners_lock = threading.Lock()


class ChildRunner:
    """One child process that runs jobs one after another; restarted after a kill or crash."""

    def __init__(self, python: str = sys.executable):
        self.python = python
        self.proc = None
        self._buffer = b""
        self._log = None
        #: Held while a job runs; `close` leaves a busy runner alone.
        self.lock = threading.Lock()
        #: The batch whose job is running, or None when idle.
        self.busy_with = None

    def _start(self, timeout_s: float) -> str:
        """Start the child and wait for its ready line; '' or why it did not start."""
        self._close_log()
        self._log = tempfile.TemporaryFile()
        self._buffer = b""
        self.proc = subprocess.Popen(
            [self.python, "-m", "stischeck.batch.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        reply, why = self._read_line(timeout_s)
        if reply is None:
            self.kill()
            return f"batch worker process did not start ({why})"
        return ""

    def _read_line(self, timeout_s: float):
        """(parsed JSON line, '') or (None, why): 'timeout' or how the child ended."""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, "timeout"
            try:
                ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
                chunk = os.read(fd, 1 << 16) if ready else None
            except (OSError, ValueError):  # killed from another thread (batch interrupted)
                return None, "was stopped (batch interrupted)"
            if ready:
                if not chunk:
                    return None, self._ended()
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line), ""

    def _ended(self) -> str:
        """How the child ended (signal or exit status) and the last line it wrote to stderr."""
        if self.proc is None:  # killed from another thread
            return "was stopped (batch interrupted)"
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and code < 0:
            what = f"killed by {signal.Signals(-code).name}"
        else:
            what = f"exited with status {code}"
        last = ""
        if self._log is not None:
            self._log.seek(0)
            lines = [x for x in self._log.read().decode(errors="replace").splitlines() if x.strip()]
            last = " ".join(lines[-1].split())[:200] if lines else ""
        self.kill()  # nothing left to kill but its pipes and log; any leftover children
        return what + (f": {last}" if last else "")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def run(self, job: dict, timeout_s: float) -> dict:
        """
        Run one job; never raises for the child's failure.

        Returns
        -------
        dict
            The child's result, or ``status="failed"`` with ``message`` saying the
            data set timed out (everything killed) or the process crashed.
        """
        with self.lock:
            self.busy_with = job.get("batch")
            try:
                return self._run(job, timeout_s)
            finally:
                self.busy_with = None

    def _run(self, job: dict, timeout_s: float) -> dict:
        t0 = time.monotonic()
        if self.proc is None or self.proc.poll() is not None:
            why = self._start(timeout_s=120.0)
            if why:
                return dict(status="failed", message=why, wall_s=0.0)
        try:
            self.proc.stdin.write((json.dumps(job, default=str) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            return dict(
                status="failed", message=f"batch worker process {self._ended()}", wall_s=0.0
            )
        reply, why = self._read_line(timeout_s)
        wall = round(time.monotonic() - t0, 3)
        if reply is not None:
            return reply
        if why == "timeout":
            self.kill()
            return dict(
                status="failed",
                message=f"timed out after {timeout_s:g} s (data-set timeout; its processes were "
                "killed)",
                wall_s=wall,
                timed_out=True,
            )
        return dict(status="failed", message=f"batch worker process {why}", wall_s=wall)

    def kill(self) -> None:
        """Kill the child and every process it started (cs0.e runs in its own session)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        victims = _descendants(proc.pid) if proc.poll() is None else []
        for pid in [proc.pid, *victims] if proc.returncode is None else victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._close_log()

    def close(self) -> None:
        """End an idle child (end of its input); a runner busy with a job is left alone."""
        if not self.lock.acquire(blocking=False):
            return
        try:
            proc = self.proc
            if proc is None:
                return
            try:
                proc.stdin.close()
                proc.wait(timeout=5)
                proc.stdout.close()
                self.proc = None
                self._close_log()
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        finally:
            self.lock.release()


def _descendants(pid: int) -> list:
    """Every process below ``pid`` (children first found, grandchildren after)."""
    try:
        import psutil
    except ImportError:  # psutil comes with distributed; without it, only the child dies
        return []
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _runner() -> ChildRunner:
    runner = getattr(_local, "runner", None)
    if runner is None:
        runner = _local.runner = ChildRunner()
        with _runners_lock:
            _runners.append(runner)
    return runner


def shutdown_children(batch: str | None = None, kill: bool = False) -> int:
    """
    End this process's idle children (end of a batch); returns how many runners it saw.

    Parameters
    ----------
    batch : str, optional
        With ``kill``: kill the children running this batch's data sets (None: all).
        Children busy with another batch's data set (a shared scheduler) are left alone.
    kill : bool
        The batch was interrupted.
    """
    with _runners_lock:
        runners = list(_runners)
    for runner in runners:
        busy = runner.busy_with
        if kill and busy is not None and (batch is None or busy == batch):
            runner.kill()
        elif busy is None:
            runner.close()
    return len(runners)


atexit.register(shutdown_children, None, True)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return ""


def run_dataset(job: dict) -> dict:
    """
    The Dask task: run ``job`` (one data set) in this worker thread's child process.

    A data set that could not run (bad input, timeout, crash) gets a ``batch.json``
    with ``status="failed"`` and the reason, so its folder says why.
    """
    from stischeck.batch.fingerprint import write_record

    t0 = time.monotonic()
    job = dict(job, worker=_worker_address())
    result = _runner().run(job, float(job["dataset_timeout_s"]))
    result.setdefault("wall_s", round(time.monotonic() - t0, 3))
    result["host"] = os.uname().nodename
    result["worker"] = job["worker"]
    result["dataset"] = job["dataset"]
    if result.get("status") != "done":
        # Overwrites any older record: this folder's outputs are not this key's result.
        write_record(
            Path(job["outdir"]),
            dict(
                status="failed",
                dataset=job["dataset"],
                message=result.get("message", ""),
                wall_s=result["wall_s"],
                host=result["host"],
                worker=result["worker"],
                key=job["key"],
            ),
        )
    return result
