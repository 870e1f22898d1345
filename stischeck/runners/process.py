"""Run a program in its own process group with a timeout, and measure its peak memory."""

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessResult", "run_measured"]


@dataclass(frozen=True)
class ProcessResult:
    """Exit status (negative = signal), wall time, peak RSS in MiB, and whether it timed out."""

    returncode: int | None
    wall_s: float
    peak_rss_mib: float | None
    timed_out: bool


def run_measured(argv: list, *, cwd: Path, env: dict, log: Path, timeout_s: float) -> ProcessResult:
    """
    Run ``argv`` with stdout and stderr to ``log``; kill its process group on timeout.

    The child's own peak RSS comes from ``wait4``'s resource usage, so runs in
    parallel threads are measured separately.
    """
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = t0 + timeout_s
        delay = 0.001
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                return ProcessResult(None, time.perf_counter() - t0, None, True)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.02)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ProcessResult(proc.returncode, wall, usage.ru_maxrss / 1024.0, False)
