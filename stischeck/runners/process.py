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

    Peak RSS is the child's ``VmHWM`` (high-water mark of its resident set)
    read from ``/proc/<pid>/status`` at every poll (at most 10 ms apart) while
    it runs; the last reading is the peak, and growth in the final
    milliseconds before exit can be missed. ``wait4``'s ``ru_maxrss`` is not
    used: Linux carries the RSS the child inherited at fork (this harness,
    often 100 MiB or more) into it across ``exec``, so it would report the
    harness, not cs0.e. A run too short to be sampled reports None.
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
        peak_kib = None
        status_file = Path(f"/proc/{proc.pid}/status")
        while True:
            hwm = _vm_hwm_kib(status_file)
            if hwm is not None:
                peak_kib = hwm
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
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
            delay = min(delay * 1.5, 0.01)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ProcessResult(
        proc.returncode, wall, None if peak_kib is None else peak_kib / 1024.0, False
    )


def _vm_hwm_kib(status_file: Path) -> int | None:
    """VmHWM of a running process in KiB, or None once it has exited (or before exec)."""
    try:
        for line in status_file.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
