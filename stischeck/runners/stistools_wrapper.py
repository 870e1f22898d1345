"""Run calstis the way most users do, through ``stistools.calstis.calstis``, in a child process.

The contract is the one of `stischeck.runners.calstis.execute_calstis`: the
same staged input, the products in ``<workdir>/out/``, ``oref`` set in the
environment, cs0.e's output in ``<workdir>/cs0.trl``, a timeout that kills
the whole process group, and a `RunOutcome` whose status is read from
everything there is to read:

- the child process (a Python running `stischeck.runners.stistools_child`):
  killed by a signal, timed out, or exited non-zero without its report;
- the wrapper: an exception, or its return value (0 ok, 1 cs0.e failed, 2 no
  input file matched);
- cs0.e as the wrapper started it (the child observes ``subprocess.call``):
  the command line it built, its real exit status or signal;
- the products (present, readable, performed steps COMPLETE/SKIPPED) and the
  trailer.

stistools finds ``cs0.e`` on PATH only, so the child gets a PATH whose first
folder (``<workdir>/bin``) holds a ``cs0.e`` symlink to the chosen executable.
stistools is imported in the child only: the command's own start-up does not
pay for it, each run does (see `import_seconds`).

`parity` compares what the two runners did for one configuration: products
with the diff engine, and what the wrapper adds or changes (its command line,
its trailer, its own output).
"""

import json
import os
import signal
import sys
from pathlib import Path

from stischeck.runners.outcome import RunOutcome
from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = ["execute_stistools", "runner_function", "parity", "RUNNERS", "import_seconds"]

#: ``--runner`` values.
RUNNERS = ("cs0", "stistools")

_CHILD = Path(__file__).with_name("stistools_child.py")


def runner_function(runner: str):
    """The ``execute_*`` function of a ``--runner`` value (same signature for both)."""
    from stischeck.errors import UsageError

    if runner == "cs0":
        from stischeck.runners.calstis import execute_calstis

        return execute_calstis
    if runner == "stistools":
        return execute_stistools
    raise UsageError(f"--runner {runner}: not one of {', '.join(RUNNERS)}")


def child_command() -> list:
    """The interpreter command line of the child (``-P``: no script folder on sys.path)."""
    flags = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *flags, str(_CHILD)]


def execute_stistools(
    cs0: Path,
    raw_copy: Path,
    oref: Path | None,
    workdir: Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    expects_products: bool | None = True,
    performed: tuple = (),
) -> RunOutcome:
    """
    Run ``stistools.calstis.calstis(<raw_copy>, outroot="out/", trailer="cs0.trl")`` in ``workdir``.

    Parameters
    ----------
    cs0 : Path
        The cs0.e the wrapper is to find on PATH (symlinked as ``bin/cs0.e``).
    raw_copy : Path
        The staged raw file (only read; may lie outside ``workdir``).
    oref : Path or None
        ``oref$`` folder, set in the environment; None leaves it as it is.
    workdir : Path
        The run's folder: ``out/`` products, ``cs0.trl`` (cs0.e's output, as
        the wrapper writes it), ``stistools.log`` (the child's own output),
        ``stistools.json`` (its report).
    timeout_s : float
        Kill the child's process group (the child and cs0.e) after this long.
    expects_products : bool or None
        As `execute_calstis`: True, False (all-OMIT) or None (either).
    performed : tuple
        Switches set to PERFORM, checked COMPLETE/SKIPPED in the products.

    Returns
    -------
    RunOutcome
        ``side="calstis"``; never raises for a failure of the wrapper or cs0.e.
        ``wall_s`` and ``peak_rss_mib`` are those of the child process (Python,
        stistools and the wait for cs0.e), not of cs0.e alone.
    """
    from stischeck.runners.outcome import outcome_of_products
    from stischeck.runners.process import run_measured

    workdir = Path(workdir)
    (workdir / "out").mkdir(parents=True, exist_ok=True)
    bindir = workdir / "bin"
    bindir.mkdir(exist_ok=True)
    link = bindir / "cs0.e"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path(cs0).resolve())
    env = dict(os.environ)
    env["PATH"] = str(bindir.resolve()) + os.pathsep + env.get("PATH", "")
    if oref is not None:
        env["oref"] = str(Path(oref).resolve()) + "/"
    name = Path(raw_copy).name
    source = os.path.relpath(Path(raw_copy).resolve(), workdir.resolve())
    trailer = workdir / "cs0.trl"
    if trailer.exists():
        trailer.unlink()  # the wrapper appends to its trailer
    report_path = workdir / "stistools.json"
    if report_path.exists():
        report_path.unlink()
    log = workdir / "stistools.log"
    argv = [*child_command(), report_path.name, source, "out/", trailer.name]
    run = run_measured(argv, cwd=workdir, env=env, log=log, timeout_s=timeout_s)
    what = "stistools.calstis"
    common = dict(
        side="calstis",
        wall_s=run.wall_s,
        peak_rss_mib=run.peak_rss_mib,
        trailer=trailer if trailer.exists() else log,
    )

    def error(message: str, **kw) -> RunOutcome:
        return RunOutcome(status="error", message=message, **common, **kw)

    if run.timed_out:
        return error(f"{what} timed out after {timeout_s:g} s on {name} (process group killed)")
    if run.returncode is not None and run.returncode < 0:
        sig = signal.Signals(-run.returncode).name
        return error(f"{what} crashed on {name} (its Python killed by {sig})", returncode=None)
    report = _read_report(report_path)
    if report is None:
        last = _last_line(log)
        return error(
            f"{what} on {name}: the child exited {run.returncode} without a report"
            + (f": {last}" if last else "")
        )
    calls = report.get("calls") or []
    cs0_status = calls[-1]["status"] if calls else None
    if report.get("exception"):
        return error(f"{what} raised on {name}: {report['exception']}", returncode=cs0_status)
    returned = report.get("returned")
    if cs0_status is not None and cs0_status < 0:
        sig = signal.Signals(-cs0_status).name
        return error(
            f"{what} on {name}: cs0.e crashed (killed by {sig}); the wrapper returned {returned}",
            returncode=cs0_status,
        )
    if returned != 0 or (cs0_status not in (0, None)):
        detail = _last_error_line(trailer) or _last_line(log)
        if returned == 2:
            why = "no input file matched"
        elif not calls:
            why = f"cs0.e was not started; the wrapper returned {returned!r}"
        else:
            why = f"cs0.e exit status {cs0_status}; the wrapper returned {returned!r}"
        return error(
            f"{what} failed on {name} ({why})" + (f": {detail}" if detail else ""),
            returncode=cs0_status,
        )
    if not calls:
        return error(f"{what} returned 0 on {name} but never started cs0.e")
    return outcome_of_products(
        workdir,
        name,
        performed,
        expects_products,
        what=what,
        no_product=f"{what} returned 0 on {name} but cs0.e wrote no product",
        common=common,
        writer=f"{what}: cs0.e",
    )


def _read_report(path: Path) -> dict | None:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " ".join(lines[-1].split())[:200] if lines else ""


def _last_error_line(trailer: Path) -> str:
    from stischeck.runners.calstis import _last_error_line as last_error

    return last_error(trailer) if trailer.exists() else ""


def wrapper_argv(workdir: Path) -> list | None:
    """The cs0.e command line(s) the wrapper built in a run folder, from the child's report."""
    report = _read_report(Path(workdir) / "stistools.json")
    if report is None:
        return None
    return [c["argv"] for c in report.get("calls") or []]


def parity(
    raw_copy: Path, direct: RunOutcome, wrapped: RunOutcome, direct_dir: Path, wrapped_dir: Path
):
    """
    What the stistools wrapper changed against a direct cs0.e run of the same staged input.

    Parameters
    ----------
    raw_copy : Path
        The staged input both runs read.
    direct, wrapped : RunOutcome
        The `execute_calstis` and `execute_stistools` outcomes.
    direct_dir, wrapped_dir : Path
        Their work folders.

    Returns
    -------
    list of str
        One line per difference that is not in the products (those are the
        diff engine's rows): the command line (apart from the executable, which
        the wrapper finds on PATH), the trailer text (apart from lines holding
        times or dates), and anything the wrapper printed itself. Empty when
        the wrapper only ran cs0.e as stischeck runs it.
    """
    notes = []
    calls = wrapper_argv(wrapped_dir) or []
    if len(calls) != 1:
        notes.append(f"the wrapper started cs0.e {len(calls)} times")
    else:
        built = calls[0][1:]
        ours = [os.path.relpath(Path(raw_copy).resolve(), Path(direct_dir).resolve()), "out/"]
        if built != ours:
            notes.append(f"command line: wrapper {built} vs direct {ours}")
        if calls[0][0] != "cs0.e":
            notes.append(f"the wrapper started {calls[0][0]!r}, not cs0.e from PATH")
    a = _trailer_lines(direct.trailer)
    b = _trailer_lines(wrapped.trailer)
    if a != b:
        extra = [ln for ln in b if ln not in a][:3]
        missing = [ln for ln in a if ln not in b][:3]
        notes.append(f"trailer differs: wrapper adds {extra}, lacks {missing}")
    printed = [
        ln
        for ln in _lines(Path(wrapped_dir) / "stistools.log")
        if ln.strip() and "UserWarning" not in ln and not ln.lstrip().startswith("warnings.warn")
    ]
    if printed:
        notes.append(f"the wrapper printed: {printed[:3]}")
    return notes


def _lines(path) -> list:
    try:
        return Path(path).read_text(errors="replace").splitlines()
    except (OSError, TypeError):
        return []


def _trailer_lines(path) -> list:
    """Trailer lines without the ones that change from run to run (times, dates)."""
    import re

    stamp = re.compile(
        r"\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d|\b\d+\.\d+ s\b|(Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    )
    return [ln for ln in _lines(path) if not stamp.search(ln)]


def import_seconds(repeat: int = 5) -> list:
    """Seconds of ``python -c "import stistools.calstis"`` minus a bare interpreter, per run."""
    import subprocess
    import time

    def wall(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - t0

    return [wall("import stistools.calstis") - wall("pass") for _ in range(repeat)]
