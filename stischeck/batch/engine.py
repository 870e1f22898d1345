"""Run many data sets' comparisons on Dask distributed, resume, and aggregate.

Data flow: inputs (``inputs.py``) -> data sets -> key per data set
(``fingerprint.py``) -> the unfinished ones as Dask tasks (``task.py``, each in
an isolated child running ``child.py``) -> one compare output folder each ->
aggregated tables (``aggregate.py``) and ``index.html`` (``index.py``).
"""

import logging
import shutil
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from stischeck.errors import InputFileError, StischeckError, UsageError
from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = ["BatchSettings", "DatasetOutcome", "BatchResult", "run_batch", "check_output_folders"]


@dataclass(frozen=True)
class BatchSettings:
    """Everything a batch needs.

    Attributes
    ----------
    datasets : list of Dataset
    outdir : Path
        The batch folder; each data set writes ``outdir/<name>/``.
    calstis : Path or None
        cs0.e (None: reference vs truth only).
    configurations : dict
        ``steps``, ``only`` or ``switches`` as ``stischeck compare`` takes them.
    policy : Path or None
        Tolerance policy TOML (None: the shipped exact policy).
    timeout_s : float
        Per run (each cs0.e run), seconds.
    dataset_timeout_s : float
        Per data set, seconds: after it the data set's processes are killed.
    steplocal : str
        As ``stischeck compare --steplocal``.
    html : bool
        Write each data set's report.html (when the report module exists).
    workers : int
        Local cluster size (ignored with ``scheduler``).
    scheduler : str or None
        Address (``tcp://host:8786``) or scheduler file of an existing Dask scheduler.
    force : bool
        Rerun every data set, complete or not.
    progress : bool
        Show a progress line on standard error.
    runner : str
        How calstis runs: ``"cs0"`` or ``"stistools"`` (as ``stischeck compare --runner``).
    baseline_calstis, baseline_oref : Path or None
        Build A and reference set A (as ``stischeck compare --baseline-calstis`` and
        ``--baseline-oref``; set A is one folder for every data set).
    repeat : int
        As ``stischeck compare --repeat``.
    probes : bool
        Also run the known-issue probes through build B (and A), once per batch.
    """

    datasets: list
    outdir: Path
    calstis: Path | None
    configurations: dict = field(default_factory=dict)
    policy: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    dataset_timeout_s: float = 1800.0
    steplocal: str = "auto"
    html: bool = True
    workers: int = 1
    scheduler: str | None = None
    force: bool = False
    progress: bool = False
    runner: str = "cs0"
    baseline_calstis: Path | None = None
    baseline_oref: Path | None = None
    repeat: int = 1
    probes: bool = False

    @property
    def two_builds(self) -> bool:
        """True when each data set compares build (or reference set) A with B."""
        return self.calstis is not None and (
            self.baseline_calstis is not None or self.baseline_oref is not None
        )


@dataclass
class DatasetOutcome:
    """What happened to one data set in this batch.

    ``status`` is ``"done"`` (its comparison finished; ``verdict`` and
    ``exit_code`` are its summary's) or ``"failed"`` (it could not run:
    ``message`` says why). ``reused`` is True when a complete earlier result
    with the same key was kept instead of rerunning.
    """

    dataset: object
    status: str
    verdict: str = "error"
    exit_code: int = 2
    message: str = ""
    wall_s: float = 0.0
    reused: bool = False
    first_divergent: str | None = None
    report: str | None = None
    report_error: str = ""
    host: str = ""
    worker: str = ""

    @property
    def name(self) -> str:
        """The data set's name (its folder)."""
        return self.dataset.name


@dataclass
class BatchResult:
    """All outcomes in input order, the batch's wall time, and where it ran."""

    settings: BatchSettings
    outcomes: list
    wall_s: float
    cluster: str

    @property
    def exit_code(self) -> int:
        """0 every data set agrees, 1 some differ, 2 some could not run or had errors."""
        return max((o.exit_code if o.status == "done" else 2 for o in self.outcomes), default=0)


def _options(settings: BatchSettings, hasher) -> dict:
    """The options a data set's result depends on (part of its key)."""
    calstis = None
    if settings.calstis is not None:
        calstis = {"path": str(settings.calstis), "sha256": hasher(settings.calstis)}
    policy = None
    if settings.policy is not None:
        policy = {"path": str(settings.policy), "sha256": hasher(settings.policy)}
    options = dict(
        calstis=calstis,
        configurations=settings.configurations,
        policy=policy,
        timeout_s=settings.timeout_s,
        steplocal=settings.steplocal,
    )
    if settings.runner != "cs0":  # keys of batches run before --runner existed stay valid
        options["runner"] = settings.runner
    if settings.baseline_calstis is not None:  # likewise for the two-build options
        options["baseline_calstis"] = {
            "path": str(settings.baseline_calstis),
            "sha256": hasher(settings.baseline_calstis),
        }
    if settings.baseline_oref is not None:
        options["baseline_oref"] = str(settings.baseline_oref)
    if settings.repeat > 1:
        options["repeat"] = settings.repeat
    return options


def _report_expected(settings: BatchSettings) -> bool:
    """True when each data set should have a report.html (asked for, and the module exists)."""
    if not settings.html:
        return False
    import importlib.util

    return importlib.util.find_spec("stischeck.report") is not None


def check_output_folders(datasets: list, outdir: Path) -> None:
    """
    Refuse a batch folder whose data set folders would hold an input (a rerun clears them).

    Raises
    ------
    InputFileError
        Naming the input, its data set and the folder.
    """
    out = Path(outdir).resolve()
    for ds in datasets:
        folder = out / ds.name
        for what, path in (("raw file", ds.raw), ("oref", ds.oref), ("truth", ds.truth)):
            if path is None:
                continue
            path = Path(path).resolve()
            if path == folder or folder in path.parents:
                raise InputFileError(
                    f"{path}: {what} of {ds.name} lies in its output folder {folder}; "
                    "give another --outdir"
                )


def _job(settings: BatchSettings, ds, key: dict) -> dict:
    return dict(
        dataset=ds.name,
        raw=str(ds.raw),
        oref=str(ds.oref),
        truth=str(ds.truth) if ds.truth else None,
        outdir=str((settings.outdir / ds.name).resolve()),
        calstis=str(settings.calstis) if settings.calstis else None,
        configurations=settings.configurations,
        policy=str(settings.policy) if settings.policy else None,
        timeout_s=settings.timeout_s,
        dataset_timeout_s=settings.dataset_timeout_s,
        steplocal=settings.steplocal,
        html=settings.html,
        runner=settings.runner,
        baseline_calstis=str(settings.baseline_calstis) if settings.baseline_calstis else None,
        baseline_oref=str(settings.baseline_oref) if settings.baseline_oref else None,
        repeat=settings.repeat,
        key=key,
    )


def _reused(ds, folder: Path) -> DatasetOutcome:
    from stischeck.batch.fingerprint import read_record

    record = read_record(folder) or {}
    return DatasetOutcome(
        dataset=ds,
        status="done",
        verdict=record.get("verdict", "error"),
        exit_code=int(record.get("exit_code", 2)),
        wall_s=float(record.get("wall_s", 0.0)),
        reused=True,
        first_divergent=record.get("first_divergent"),
        report=record.get("report"),
        report_error=record.get("report_error", ""),
        host=record.get("host", ""),
        worker=record.get("worker", ""),
    )


def _from_result(ds, result: dict) -> DatasetOutcome:
    done = result.get("status") == "done"
    return DatasetOutcome(
        dataset=ds,
        status="done" if done else "failed",
        verdict=result.get("verdict", "error") if done else "error",
        exit_code=int(result.get("exit_code", 2)) if done else 2,
        message=result.get("message", ""),
        wall_s=float(result.get("wall_s", 0.0)),
        first_divergent=result.get("first_divergent"),
        report=result.get("report"),
        report_error=result.get("report_error", ""),
        host=result.get("host", ""),
        worker=result.get("worker", ""),
    )


@contextmanager
def _quiet_dask():
    """Dask logs connection chatter at INFO/WARNING; a batch reports through its own rows."""
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "bokeh")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@contextmanager
def _client(settings: BatchSettings):
    """A Dask client: to the given scheduler, or to a local cluster of ``workers`` workers.

    The local cluster's workers are threads of this process (``processes=False``),
    one thread each: a task only waits for its isolated child process, which
    does the work, so worker processes would add start-up time and nothing else.
    """
    from distributed import Client, LocalCluster

    if settings.scheduler:
        target = settings.scheduler
        if "://" not in target and (target.endswith(".json") or "/" in target):
            if not Path(target).is_file():
                raise InputFileError(f"{target}: --scheduler file not found")
        try:
            if Path(target).is_file():
                client = Client(scheduler_file=target, timeout="20s")
            else:
                client = Client(target, timeout="20s")
        except (OSError, TimeoutError, ValueError) as err:
            raise StischeckError(
                f"--scheduler {target}: cannot connect to the Dask scheduler ({err})"
            ) from err
        try:
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError as err:
                raise StischeckError(
                    f"--scheduler {target}: no Dask worker connected within 60 s"
                ) from err
            n = len(client.scheduler_info(n_workers=-1)["workers"])
            yield client, f"on scheduler {client.scheduler.address}, {_workers(n)}"
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=settings.workers,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        # The scheduler serves HTTP even without a dashboard, on port 8787 unless told
        # otherwise (warning when that is taken): a free port on localhost only.
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            yield client, f"on a local cluster of {_workers(settings.workers)}"
    finally:
        cluster.close()


def _workers(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


class _Progress:
    """One line on a terminal, redrawn every second: done/total, verdict counts, elapsed time."""

    def __init__(self, enabled: bool, total: int, reused: int):
        self.enabled, self.total = enabled, total
        self.t0 = time.perf_counter()
        self.counts: dict = {}
        self.done = reused
        self.reused = reused
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = None
        self.width = 79

    def start(self) -> None:
        if self.enabled:
            self.thread = threading.Thread(target=self._tick, daemon=True)
            self.thread.start()

    def _tick(self) -> None:
        while not self.stopped.wait(1.0):
            self.update()

    def update(self, outcome=None) -> None:
        with self.lock:
            if outcome is not None:
                self.done += 1
                label = outcome.verdict if outcome.status == "done" else "failed"
                self.counts[label] = self.counts.get(label, 0) + 1
            if not self.enabled or self.stopped.is_set():
                return
            parts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
            line = (
                f"stischeck batch: {self.done}/{self.total} data sets"
                + (f" ({parts})" if parts else "")
                + (f", {self.reused} reused" if self.reused else "")
                + f", {time.perf_counter() - self.t0:.0f} s"
            )
            self.width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
            sys.stderr.write("\r" + line[: self.width].ljust(self.width))
            sys.stderr.flush()

    def clear(self) -> None:
        with self.lock:
            if self.enabled:
                sys.stderr.write("\r" + " " * self.width + "\r")
                sys.stderr.flush()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()
        self.clear()


def run_batch(settings: BatchSettings, on_outcome=None) -> BatchResult:
    """
    Run every data set not already complete, then write the aggregated tables and index.

    Parameters
    ----------
    settings : BatchSettings
    on_outcome : callable, optional
        Called with each `DatasetOutcome` as it is known (reused ones first).

    Returns
    -------
    BatchResult

    Raises
    ------
    StischeckError
        Only for the batch as a whole (a data set folder would hold an input, the
        scheduler cannot be reached); a data set's own failure is its row.
    """
    from stischeck.batch.aggregate import write_batch_outputs
    from stischeck.batch.fingerprint import FileHasher, code_digest, dataset_key, is_complete

    if settings.workers < 1:
        raise UsageError("--workers must be at least 1")
    t0 = time.perf_counter()
    settings.outdir.mkdir(parents=True, exist_ok=True)
    check_output_folders(settings.datasets, settings.outdir)
    hasher = FileHasher(settings.outdir / ".batch-hashes.json")
    options, code = _options(settings, hasher), code_digest()
    # The report is a view of the tables, not part of the key: a folder without the
    # report.html asked for is incomplete, and rerun.
    need_report = _report_expected(settings)
    outcomes: dict = {}
    jobs = []
    for ds in settings.datasets:
        key = dataset_key(ds, options, hasher=hasher, code=code)
        folder = settings.outdir / ds.name
        if not settings.force and is_complete(folder, key, need_report=need_report):
            outcomes[ds.name] = _reused(ds, folder)
            if on_outcome:
                on_outcome(outcomes[ds.name])
        else:
            jobs.append((ds, _job(settings, ds, key)))
    hasher.save()
    progress = _Progress(settings.progress, len(settings.datasets), len(outcomes))
    cluster = "every data set reused, no cluster started"
    if jobs:
        progress.start()
        try:
            cluster = _run_jobs(settings, jobs, outcomes, progress, on_outcome)
        finally:
            progress.stop()
    result = BatchResult(
        settings,
        [outcomes[ds.name] for ds in settings.datasets],
        time.perf_counter() - t0,
        cluster,
    )
    write_batch_outputs(result)
    return result


def _run_jobs(settings, jobs, outcomes, progress, on_outcome) -> str:
    from distributed import as_completed

    from stischeck.batch import task
    from stischeck.batch.fingerprint import write_record

    batch = uuid.uuid4().hex[:12]
    with _quiet_dask(), _client(settings) as (client, where):
        # Largest raw files first, so that the longest data sets do not start last.
        order = sorted(jobs, key=lambda j: -j[0].raw.stat().st_size)
        futures = {}
        for rank, (ds, job) in enumerate(order):
            future = client.submit(
                task.run_dataset,
                dict(job, batch=batch),
                key=f"stischeck-batch-{batch}-{ds.name}",
                priority=len(order) - rank,
                pure=False,
                retries=0,
            )
            futures[future] = ds
        progress.update()
        try:
            for future in as_completed(futures):
                ds = futures[future]
                try:
                    outcome = _from_result(ds, future.result())
                except Exception as err:  # noqa: BLE001 - a lost worker is this data set's row
                    message = (
                        f"Dask task failed ({type(err).__name__}: {' '.join(str(err).split())})"
                    )
                    write_record(
                        settings.outdir / ds.name,
                        dict(status="failed", dataset=ds.name, message=message),
                    )
                    outcome = DatasetOutcome(dataset=ds, status="failed", message=message)
                outcomes[ds.name] = outcome
                if on_outcome:
                    progress.clear()
                    on_outcome(outcome)
                progress.update(outcome)
        except BaseException:
            client.cancel(list(futures))
            _stop_children(client, batch, kill=True)
            raise
        _stop_children(client, batch, kill=False)
    return where


def _stop_children(client, batch: str, *, kill: bool) -> None:
    """End the workers' idle child processes, or (``kill``) those running this batch."""
    from stischeck.batch import task

    try:
        client.run(task.shutdown_children, batch, kill)
    except Exception:  # noqa: BLE001 - a worker that is gone has no children left
        pass
    if kill:
        task.shutdown_children(batch, True)
