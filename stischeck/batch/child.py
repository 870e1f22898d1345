"""Run one data set's comparison: the code that runs inside the isolated batch process.

``python -m stischeck.batch.child`` reads one job (JSON) per line on standard
input and answers one result line per job. It is started by `task.ChildRunner`
so that a data set that hangs or crashes can be killed without taking the Dask
worker with it. Within the process the comparison runs as ``stischeck compare``
does, with ``jobs=1`` and the reference in-process (one data set per core).
"""

import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

__all__ = ["run_job", "configurations_for", "one_line", "main"]

#: Imported before the first job (astropy, numpy and pandas come with them).
_WARM_MODULES = (
    "stischeck.compare.engine",
    "stischeck.compare.tables",
    "stischeck.commands.compare",
    "stischeck.diff.products",
    "stischeck.runners.calstis",
    "stischeck.runners.reference",
    "stischeck.truth",
    "reference_impl.pipeline",
    "reference_impl.io.rawfile",
    "reference_impl.io.products",
    "pandas",
)
#: Written when a data set could not run: the traceback, for whoever debugs it.
ERROR_FILE = "batch-error.txt"
LOG_FILE = "batch.log"
#: The keys of a job's ``configurations`` that choose switches (--steps, --only, --switches).
SELECTION_KEYS = ("steps", "only", "switches")


def one_line(err: BaseException) -> str:
    """The error as ``stischeck`` prints it: one line, the file and the problem."""
    from reference_impl.errors import ReferenceImplError
    from stischeck.errors import StischeckError

    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, (StischeckError, ReferenceImplError)):
        return text
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or text}"
    return f"internal error ({type(err).__name__}): {text}"


def configurations_for(header, spec: dict, truth: Path | None = None) -> list:
    """The configurations ``stischeck compare`` runs for these options and this truth.

    ``spec`` has ``only`` (list of switches), ``switches`` (list of lists) or
    ``steps`` (list of ladder names; none: the whole ladder). With a truth
    folder, each configuration takes the switches its manifest recorded, as
    ``stischeck compare --truth`` does.
    """
    from stischeck.config import configurations_for

    return configurations_for(
        header,
        steps=spec.get("steps") or None,
        only=spec.get("only") or None,
        switches=spec.get("switches") or None,
        truth=truth,
    )


def _clear(folder: Path) -> None:
    """Remove a previous run's outputs (only from a folder this command made)."""
    from stischeck.batch.fingerprint import RECORD_NAME
    from stischeck.outdir import MARKER

    if (folder / MARKER).is_file():
        return  # claim_outdir removes exactly the files the earlier run listed
    if any((folder / name).is_file() for name in (RECORD_NAME, ERROR_FILE, LOG_FILE)):
        shutil.rmtree(folder)


def _compare(job: dict, folder: Path) -> dict:
    from stischeck.compare.service import compare_dataset, plan_comparison
    from stischeck.diff.policy import load_policy
    from stischeck.inputs import ReferenceFolder, check_references
    from stischeck.validate import check_raw

    raw = Path(job["raw"])
    check_raw(raw)
    spec = job.get("configurations", {})
    # As stischeck compare, before anything runs: each refusal is this data set's one-line row.
    plan = plan_comparison(
        raw,
        oref=ReferenceFolder(Path(job["oref"]), "the data set's reference folder"),
        truth=job.get("truth") or None,
        selection={k: spec.get(k) for k in SELECTION_KEYS},
    )
    baseline_oref = job.get("baseline_oref")
    if baseline_oref:
        # Reference set A must hold every file of this data set too: else its one-line row.
        check_references(raw, plan.header, plan.configurations,
                         ReferenceFolder(Path(baseline_oref), "--baseline-oref"))  # fmt: skip
    outcome = compare_dataset(
        plan,
        folder,
        baseline_calstis=Path(job["baseline_calstis"]) if job.get("baseline_calstis") else None,
        baseline_oref=Path(baseline_oref) if baseline_oref else None,
        repeat=int(job.get("repeat", 1) or 1),
        calstis=job.get("calstis") or None,
        policy=load_policy(job["policy"]) if job.get("policy") else None,
        timeout_s=float(job["timeout_s"]),
        steplocal=job.get("steplocal", "auto"),
        runner=job.get("runner", "cs0"),
        reference_processes=0,
        # One data set per worker, one core each: the batch's parallelism is across
        # data sets, and overlapping a data set's own lanes only makes workers contend.
        overlap=False,
    )
    summary = outcome.summary
    report, report_error = _report(folder) if job.get("html", True) else (None, "")
    return dict(
        verdict=summary["verdict"],
        exit_code=summary["exit_code"],
        first_divergent=summary["first_divergent"],
        rootname=plan.rootname,
        compare_wall_s=round(outcome.run.wall_s, 3),
        report=report,
        report_error=report_error,
    )


def _report(folder: Path) -> tuple:
    """Write report.html if the report module exists: (file name or None, why not or '')."""
    try:
        from stischeck.report import write_report
    except ImportError:
        return None, ""
    try:
        write_report(folder)
    except Exception as err:  # noqa: BLE001 - the tables are the result; the report is a view
        return None, f"report.html not written: {one_line(err)}"
    return ("report.html", "") if (folder / "report.html").is_file() else (None, "")


def run_job(job: dict) -> dict:
    """
    Run one data set's comparison into ``job["outdir"]`` and record it in ``batch.json``.

    Returns
    -------
    dict
        ``status`` ``"done"`` (the comparison finished, whatever its verdict) with
        ``verdict``, ``exit_code``, ``first_divergent``, ``report``; or ``"failed"``
        with a one-line ``message`` (the traceback is in ``batch-error.txt``).
    """
    from stischeck import __version__
    from stischeck.batch.fingerprint import write_record

    folder = Path(job["outdir"])
    t0 = time.perf_counter()
    try:
        _clear(folder)
        from stischeck.outdir import claim_outdir

        claim_outdir(folder, "batch")  # the log below is this run's, the folder its own
        with _stderr_to(folder / LOG_FILE):
            result = _compare(job, folder)
    except Exception as err:  # noqa: BLE001 - every failure is this data set's row
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ERROR_FILE).write_text(traceback.format_exc())
        from stischeck.outdir import finish_outdir

        finish_outdir(folder, "failed")
        return dict(
            status="failed",
            message=one_line(err),
            wall_s=round(time.perf_counter() - t0, 3),
        )
    result.update(status="done", message="", wall_s=round(time.perf_counter() - t0, 3))
    write_record(
        folder,
        dict(
            result,
            dataset=job["dataset"],
            stischeck=__version__,
            finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            host=os.uname().nodename,
            worker=job.get("worker", ""),
            key=job["key"],
        ),
    )
    from stischeck.outdir import finish_outdir

    finish_outdir(folder, "complete")  # batch.json is this run's too
    return result


class _stderr_to:  # noqa: N801 - used as a context manager, reads as a phrase
    """Send file descriptor 2 (warnings, astropy log lines) to a file while a job runs."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.file = self.path.open("ab")
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.close()


def _exit_with_parent(interval_s: float = 1.0) -> None:
    """If the process that started this one dies, kill what this one started and exit.

    The batch process or Dask worker can be killed without a chance to clean
    up; the job running here (and its cs0.e, in its own session) must not go on.
    """
    import threading

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(interval_s)
        try:
            import psutil

            for p in psutil.Process().children(recursive=True):
                p.kill()
        except Exception:  # noqa: BLE001 - exiting regardless
            pass
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main() -> int:
    """Serve jobs: one JSON object per line in, one JSON result per line out."""
    _exit_with_parent()
    # The protocol owns the real stdout; anything printed goes to stderr instead.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    # Import the heavy modules once, before the first job, so that no data set's time
    # includes them; an import that fails here fails again, reported, in the job.
    import importlib

    for name in _WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported by the first job that needs it
            pass

    protocol.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            result = run_job(job)
        except Exception as err:  # noqa: BLE001 - the protocol must always answer
            result = dict(status="failed", message=f"internal error: {err}", wall_s=0.0)
        protocol.write(json.dumps(result, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
