"""Run a program in its own process group with a timeout, and measure its peak memory.

Every child started here is tracked until it ends, so that nothing outlives
stischeck: `cancel_all` (called on SIGINT, SIGTERM, SIGHUP, or any error that
stops a command) kills every live child's process group at once and makes the
runs still queued end without starting; and each child asks the kernel for
``SIGKILL`` when stischeck dies (``prctl(PR_SET_PDEATHSIG)``), so that even a
``SIGKILL`` of stischeck, which no handler sees, ends its cs0.e runs too.
"""

import ctypes
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ProcessResult",
    "RunCancelled",
    "run_measured",
    "run_brief",
    "cancel_all",
    "register_stopper",
    "unregister_stopper",
    "reset_cancel",
    "live_children",
    "die_with_parent",
]

_PR_SET_PDEATHSIG = 1
_LIVE: set = set()
_LOCK = threading.RLock()
_CANCEL = threading.Event()
_STOPPERS: list = []
try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # resolved now, not in the forked child
except (OSError, AttributeError):  # not Linux: no parent-death signal
    _PRCTL = None


class RunCancelled(Exception):
    """The run was stopped (or never started) because the command is being stopped."""


@dataclass(frozen=True)
class ProcessResult:
    """Exit status (negative = signal), wall time, peak RSS in MiB, and whether it timed out."""

    returncode: int | None
    wall_s: float
    peak_rss_mib: float | None
    timed_out: bool


def die_with_parent(parent_pid: int | None = None) -> None:
    """
    Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere nothing).

    Safe to call between ``fork`` and ``exec`` (``preexec_fn``): the ``prctl``
    function was looked up at import. If the parent ``parent_pid`` is already
    gone, exit at once.
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _preexec_for(parent_pid: int):
    def preexec():
        die_with_parent(parent_pid)

    return preexec


def live_children() -> list:
    """Process ids of the children started here that have not been reaped."""
    with _LOCK:
        return sorted(_LIVE)


def reset_cancel() -> None:
    """Allow runs to start again (at the start of a command)."""
    _CANCEL.clear()


def register_stopper(stop) -> None:
    """Have `cancel_all` also call ``stop()`` (e.g. kill a pool's worker processes)."""
    with _LOCK:
        _STOPPERS.append(stop)


def unregister_stopper(stop) -> None:
    """Undo `register_stopper`."""
    with _LOCK:
        if stop in _STOPPERS:
            _STOPPERS.remove(stop)


def cancel_all() -> None:
    """
    Kill every live child's process group now; runs not yet started will not start.

    Safe to call from a signal handler: it only sets a flag and sends signals.
    """
    _CANCEL.set()
    for pid in live_children():
        _kill_group(pid)
    with _LOCK:
        stoppers = list(_STOPPERS)
    for stop in stoppers:
        try:
            stop()
        except Exception:  # noqa: BLE001 - stopping the others matters more
            pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _start(argv, **kwargs) -> subprocess.Popen:
    if _CANCEL.is_set():
        raise RunCancelled(f"{Path(argv[0]).name}: not started, the command is being stopped")
    with _LOCK:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_preexec_for(os.getpid()),
            **kwargs,
        )
        _LIVE.add(proc.pid)
    return proc


def _reaped(proc: subprocess.Popen) -> None:
    with _LOCK:
        _LIVE.discard(proc.pid)


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

    Raises
    ------
    RunCancelled
        `cancel_all` was called before or while it ran (its group is killed).
    """
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = _start(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
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
                if _CANCEL.is_set():
                    _kill_group(proc.pid)
                    os.wait4(proc.pid, 0)
                    proc.returncode = -9
                    raise RunCancelled(f"{Path(argv[0]).name}: stopped")
                if time.perf_counter() > deadline:
                    _kill_group(proc.pid)
                    os.wait4(proc.pid, 0)
                    proc.returncode = -9
                    return ProcessResult(None, time.perf_counter() - t0, None, True)
                time.sleep(delay)
                delay = min(delay * 1.5, 0.01)
            wall = time.perf_counter() - t0
            # The group may hold children of the program that outlive it: end them too.
            _kill_group(proc.pid)
        except BaseException:
            _kill_group(proc.pid)
            if proc.returncode is None:
                try:
                    os.waitpid(proc.pid, 0)
                    proc.returncode = -9
                except ChildProcessError:
                    pass
            raise
        finally:
            _reaped(proc)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ProcessResult(
        proc.returncode, wall, None if peak_kib is None else peak_kib / 1024.0, False
    )


def run_brief(argv: list, *, timeout_s: float = 2.0) -> tuple[int | None, str]:
    """
    Run ``argv`` for at most ``timeout_s`` seconds; return (exit status or None, its output).

    The program runs in its own process group, which is killed (and reaped)
    when it ends or times out, so nothing it started is left behind.
    """
    import tempfile

    with tempfile.TemporaryFile() as out:
        try:
            proc = _start(argv, stdout=out, stderr=subprocess.STDOUT)
        except (OSError, RunCancelled):
            return None, ""
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _kill_group(proc.pid)
            if proc.returncode is None:
                proc.wait()
            _reaped(proc)
        out.seek(0)
        return code, out.read().decode("utf-8", "replace")


def _vm_hwm_kib(status_file: Path) -> int | None:
    """VmHWM of a running process in KiB, or None once it has exited (or before exec)."""
    try:
        for line in status_file.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
