"""Run the numpy reference with the same contract as the calstis runner.

Each run happens in a worker process (a process pool, spawn start)
so that a hang can be killed with a timeout, a crash cannot take the harness
down, and the run's peak memory is measured on its own (the worker resets its
RSS high-water mark through ``/proc/self/clear_refs`` before each run).
"""

import contextlib
import threading
import time
from pathlib import Path

from stischeck.errors import StischeckError
from stischeck.runners.outcome import RunOutcome
from stischeck.runners.process import register_stopper, unregister_stopper

__all__ = ["ReferencePool", "reference_task"]


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def reference_task(raw_copy: str, oref: str, outdir: str, performed: tuple, expects) -> dict:
    """
    Calibrate ``raw_copy`` with the reference and write its products into ``outdir``.

    Runs in a worker process; returns a plain dict (picklable) for `RunOutcome`.
    A `ReferenceImplError` (bad input, missing reference file, a step not
    implemented) is an ``"error"`` outcome with its one-line message.
    """
    from reference_impl.errors import ReferenceImplError
    from reference_impl.io.products import product_path, write_product
    from reference_impl.io.rawfile import read_raw
    from reference_impl.pipeline import calibrate
    from stischeck.runners.outcome import check_products

    measured = _reset_peak_rss()
    t0 = time.perf_counter()
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "reference.log"
    result = dict(side="reference", status="ok", message="", products={}, trailer=str(log))
    try:
        raw = read_raw(Path(raw_copy))
        run = calibrate(raw, oref_dir=Path(oref) if oref else None, consume_input=True)
        lines = [f"warning: {m}" for m in run.messages]
        for product in run.products:
            path = product_path(Path(raw_copy), f"{out}/", product.suffix)
            if path.exists():
                path.unlink()
            write_product(product, raw.primary_header, path)
            result["products"][product.suffix] = str(path)
        if run.nothing_to_do:
            lines.append(f"nothing to do: {run.nothing_to_do}")
        log.write_text("\n".join(lines) + "\n")
    except ReferenceImplError as err:
        result.update(status="error", message=f"reference: {' '.join(str(err).split())}")
        _log(log, result["message"])
    except OSError as err:
        where = err.filename or outdir
        result.update(
            status="error",
            message=f"reference: {where}: cannot write ({err.strerror or err})",
            products={},
        )
        _log(log, result["message"])
    except Exception as err:  # noqa: BLE001 - a bug in the reference is reported, not raised
        result.update(
            status="error",
            message=f"reference crashed ({type(err).__name__}: {' '.join(str(err).split())})",
        )
        _log(log, result["message"])
    result["wall_s"] = time.perf_counter() - t0
    result["peak_rss_mib"] = _peak_rss_mib() if measured else None
    if result["status"] == "ok":
        products = {k: Path(v) for k, v in result["products"].items()}
        if not products and expects:
            result.update(status="error", message="reference wrote no product")
        elif not products:
            result["status"] = "empty"
        elif expects is False:
            result.update(
                status="error", message="reference wrote a product where none was expected"
            )
        else:
            problem, switches = check_products(products, tuple(performed))
            result["header_switches"] = switches
            if problem:
                result.update(status="error", message=f"reference: {problem}")
    return result


def _warm_worker() -> None:
    """Import, in a worker, the modules `reference_task` imports (`ReferencePool.warm`)."""
    import reference_impl.io.products  # noqa: F401
    import reference_impl.io.rawfile  # noqa: F401
    import reference_impl.pipeline  # noqa: F401
    import stischeck.runners.outcome  # noqa: F401


def _log(log: Path, message: str) -> None:
    """Write the run's log; a log that cannot be written (a full disk) loses only itself."""
    try:
        log.write_text(message + "\n")
    except OSError:
        pass


class _Done:
    """An already finished run, with the `result` of a Future."""

    def __init__(self, value: dict):
        self.value = value

    def result(self, timeout=None):  # noqa: ARG002 - same signature as Future.result
        return self.value

    def done(self) -> bool:
        return True


class ReferenceWorkerError(StischeckError):
    """The reference worker processes could not start or died: the comparison cannot go on."""


def _worker_init(parent_pid: int) -> None:
    """Set up a reference worker: quiet on Ctrl-C, gone with its parent, no numpy warnings.

    Its malloc keeps freed arrays for reuse, as the ``stischeck`` program's does
    (`stischeck.allocator.keep_freed_memory`).

    SIGINT from a terminal reaches the whole process group; the parent stops
    the workers itself, so a worker prints no KeyboardInterrupt traceback.
    Floating-point warnings of numpy are not for the user (a real problem is
    the run's one-line error).
    """
    import signal
    import warnings

    from stischeck.allocator import keep_freed_memory
    from stischeck.runners.process import die_with_parent

    keep_freed_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)
    warnings.simplefilter("ignore", RuntimeWarning)


@contextlib.contextmanager
def _sigint_blocked():
    """Ignore SIGINT while workers are started: an ignored signal stays ignored across exec.

    A Ctrl-C reaches the whole process group; a worker still importing would
    print a KeyboardInterrupt traceback. Started with SIGINT ignored, the
    worker never sees it (Python keeps an inherited SIG_IGN). The signal mask
    would not do: multiprocessing's spawn clears it in the child. Only the
    main thread can change a handler; elsewhere this does nothing.
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _start_quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with its shutdown warning silenced.

    The pool's queues hold POSIX semaphores; the tracker process unlinks them
    when stischeck ends without doing so itself (SIGKILL). It then also prints a
    three-line ``UserWarning: ... leaked semaphore objects to clean up`` on the
    user's terminal, although it has just cleaned them up. The tracker takes its
    interpreter flags from ``sys.warnoptions`` when it starts, so an ignore
    filter for that one warning is added for the start alone.
    """
    import sys
    from multiprocessing import resource_tracker

    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    sys.warnoptions.append(quiet)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(quiet)


class ReferencePool:
    """A pool of reference workers with per-run timeouts.

    The workers are a ``concurrent.futures.ProcessPoolExecutor`` (spawn start):
    a worker that cannot start or dies (an import failure, a signal, the OOM
    killer) breaks the pool at once, and `submit` / `result` raise
    `ReferenceWorkerError` naming what happened, instead of waiting for the
    run's timeout.

    Parameters
    ----------
    processes : int
        Worker processes (``--jobs``). ``0`` runs the reference in the calling
        process instead: no timeout can be enforced and peak RSS is that of the
        whole process, but it works where child processes cannot be started
        (daemonic workers) and lets tests patch the reference.
    """

    def __init__(self, processes: int = 1):
        self.processes = max(0, int(processes))
        self._pool = None
        self._procs = {}
        # Configurations are submitted from several threads: one pool, made once.
        self._lock = threading.Lock()
        self._killed_after: float | None = None
        self._released = []  # pools told to stop (`release`), joined by `close`

    def _ensure(self):
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        with self._lock:
            if self._pool is None:
                _start_quiet_resource_tracker()
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init,
                    initargs=(os.getpid(),),
                )
                unregister_stopper(self._kill_workers)  # once, if a released pool left it
                register_stopper(self._kill_workers)
            return self._pool

    def _kill_workers(self) -> None:
        """SIGKILL every worker process now (from `cancel_all`, e.g. on Ctrl-C)."""
        pool = self._pool
        procs = list((getattr(pool, "_processes", None) or {}).values()) if pool else []
        for proc in procs + list(self._procs.values()):
            try:
                proc.kill()
            except (OSError, AttributeError, ValueError):
                pass

    def _dead(self, err: BaseException) -> ReferenceWorkerError:
        """The error for a pool whose worker could not start or died, saying how."""
        import signal
        import sys

        codes = sorted({p.exitcode for p in self._procs.values() if p.exitcode not in (None, 0)})
        how = []
        for code in codes:
            if code < 0:
                try:
                    how.append(f"killed by {signal.Signals(-code).name}")
                except ValueError:
                    how.append(f"killed by signal {-code}")
            else:
                how.append(f"exit status {code}")
        if isinstance(err, OSError):
            what = f"could not start ({sys.executable}: {err.strerror or err})"
        else:
            what = "died" + (f" ({', '.join(how)})" if how else "")
        self.close(kill=True)
        return ReferenceWorkerError(f"reference worker process {what}; no comparison made")

    def warm(self) -> "ReferencePool":
        """
        Start the worker now and let it import what a run needs; returns the pool.

        For a caller with other work before its first run (``compare`` checks
        its inputs first, with a core idle): the worker's start-up, about
        0.2 s of CPU, is then done by the time the runs come. A pool that
        cannot start says so at the first `submit`, as before.
        """
        if self.processes == 0:
            return self
        try:
            self._to_worker(_warm_worker)
        except (OSError, RuntimeError):
            pass  # submit raises ReferenceWorkerError, naming what happened
        return self

    def _to_worker(self, fn, *args):
        """Start the workers if need be (SIGINT ignored) and queue ``fn(*args)``; its Future."""
        with _sigint_blocked():
            pool = self._ensure()
            future = pool.submit(fn, *args)
        self._procs.update(getattr(pool, "_processes", None) or {})
        return future

    def submit(self, raw_copy: Path, oref: Path | None, outdir: Path, performed, expects):
        """Start a run; returns a handle for `result`.

        Raises
        ------
        ReferenceWorkerError
            The worker processes cannot start or have died.
        """
        from concurrent.futures.process import BrokenProcessPool

        args = (str(raw_copy), str(oref) if oref else "", str(outdir), tuple(performed), expects)
        if self.processes == 0:
            return _Done(reference_task(*args)), time.perf_counter()
        try:
            future = self._to_worker(reference_task, *args)
        except (OSError, BrokenProcessPool, RuntimeError) as err:
            raise self._dead(err) from err
        return future, time.perf_counter()

    def result(
        self, handle, *, timeout_s: float, side: str = "reference", since: float | None = None
    ) -> RunOutcome:
        """
        Wait for a run; a timeout kills the workers and is an ``"error"`` outcome.

        The run's clock starts at submission, or at ``since`` when that is later
        (the time the worker finished the run queued before it: one worker
        takes its runs in turn). After a timeout the workers are gone, and
        every run still waiting is an error saying so. A worker that dies is
        `ReferenceWorkerError` at once.
        """
        from concurrent.futures import CancelledError
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        future, started = handle
        if self._killed_after is not None and not future.done():
            return RunOutcome(
                side=side,
                status="error",
                message=f"reference not run: the worker was killed after "
                f"a {self._killed_after:g} s timeout of an earlier run",
            )
        started = max(started, since or started)
        remaining = max(0.0, timeout_s - (time.perf_counter() - started))
        try:
            d = future.result(timeout=remaining)
        except FutureTimeout:
            self.close(kill=True)
            self._killed_after = timeout_s
            return RunOutcome(
                side=side,
                status="error",
                message=f"reference timed out after {timeout_s:g} s (worker killed)",
                wall_s=time.perf_counter() - started,
            )
        except CancelledError:
            return RunOutcome(
                side=side,
                status="error",
                message=f"reference not run: the worker was killed after "
                f"a {self._killed_after or timeout_s:g} s timeout of an earlier run",
            )
        except BrokenProcessPool as err:
            if self._killed_after is not None:
                return RunOutcome(
                    side=side,
                    status="error",
                    message=f"reference not run: the worker was killed after "
                    f"a {self._killed_after:g} s timeout of an earlier run",
                )
            raise self._dead(err) from err
        return RunOutcome(
            side=side,
            status=d["status"],
            message=d["message"],
            products={k: Path(v) for k, v in d["products"].items()},
            wall_s=d["wall_s"],
            peak_rss_mib=d["peak_rss_mib"],
            trailer=Path(d["trailer"]),
            header_switches=d.get("header_switches", {}),
        )

    def release(self) -> None:
        """
        No more runs for now: the workers may wind down while the caller goes on.

        A worker's exit (its interpreter's teardown) takes 30-40 ms; told
        here, after the last result, it overlaps the comparisons still to do
        instead of following them. `close` then waits for it; a later
        `submit` starts new workers.
        """
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
            self._released.append(pool)

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers (``kill``: at once, cancelling the runs not yet done)."""
        if kill:
            self._kill_workers()
        with self._lock:
            pool, self._pool = self._pool, None
        unregister_stopper(self._kill_workers)
        pools = [*self._released, *([pool] if pool is not None else [])]
        self._released = []
        for each in pools:
            if kill:
                each.shutdown(wait=True, cancel_futures=True)
            else:
                each.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(kill=exc[0] is not None)
