"""Run probes against calstis builds through the calstis runner, and write the probe table.

Each probe runs in its own folder: the reproducer is written there, then
``cs0.e`` runs on it through `stischeck.runners.calstis.execute_calstis` (the
runner every comparison uses: own process group, timeout, real exit status and
signal). A run killed by a signal or by the timeout is `CRASHES` (or
`STILL_PRESENT` when the issue is that crash); otherwise the probe decides.
"""

import csv
import io
import signal
import time
from pathlib import Path

from stischeck.probes.model import (
    COULD_NOT_RUN,
    CRASHES,
    STATUSES,
    STILL_PRESENT,
    Probe,
    ProbeResult,
    RunFacts,
    Verdict,
)

__all__ = ["run_probe", "run_probes", "facts_from_outcome", "judge", "table_text", "write_csv"]

#: Columns of ``probes.csv``.
CSV_COLUMNS = ("calstis", "probe", "status", "detail", "returncode", "wall_s", "issue", "expects")


def facts_from_outcome(outcome, workdir: Path, raw: Path) -> RunFacts:
    """
    What the runner's `RunOutcome` says, plus the products found after a failed run.

    The runner lists products only for a run that exited 0; a probe also wants
    to know whether a failing run left a ``_crj`` behind.
    """
    products = dict(outcome.products)
    stem = raw.name[: -len("_raw.fits")] if raw.name.endswith("_raw.fits") else raw.stem
    for suffix in ("flt", "crj"):
        path = Path(workdir) / "out" / f"{stem}_{suffix}.fits"
        if suffix not in products and path.exists():
            products[suffix] = path
    returncode = outcome.returncode
    timed_out = outcome.status == "error" and returncode is None
    sig = ""
    if returncode is not None and returncode < 0:
        try:
            sig = signal.Signals(-returncode).name
        except ValueError:
            sig = f"signal {-returncode}"
    trailer = ""
    if outcome.trailer is not None and Path(outcome.trailer).exists():
        trailer = Path(outcome.trailer).read_text(errors="replace")
    return RunFacts(
        returncode=None if timed_out else returncode,
        signal=sig,
        products=products,
        trailer=trailer,
        message=outcome.message,
    )


def judge(probe: Probe, facts: RunFacts, inp) -> Verdict:
    """
    The verdict for one run: signals and timeouts first, then the probe's own decision.

    A decision that cannot read a product (a truncated file, a missing
    extension) is `COULD_NOT_RUN` with the reason, never a guess.
    """
    if facts.timed_out:
        return Verdict(CRASHES, f"hung: killed at the timeout ({facts.message})")
    if facts.returncode is not None and facts.returncode < 0:
        status = STILL_PRESENT if probe.crash_is_issue else CRASHES
        return Verdict(status, f"killed by {facts.signal}")
    try:
        return probe.decide(facts, inp)
    except (OSError, KeyError, IndexError, ValueError, TypeError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        return Verdict(COULD_NOT_RUN, f"could not read the products: {reason}")


def run_probe(probe: Probe, cs0: Path, workdir: Path, *, timeout_s: float = 300.0) -> ProbeResult:
    """
    Build one probe's reproducer in ``workdir`` and run ``cs0`` on it.

    Parameters
    ----------
    probe : Probe
    cs0 : Path
        The cs0.e to probe.
    workdir : Path
        New or empty folder for the reproducer and the run.
    timeout_s : float
        Seconds before cs0.e's process group is killed (a hang is `CRASHES`).

    Returns
    -------
    ProbeResult
        Never raises for a failure of the build under test or of the reproducer:
        those are verdicts (`COULD_NOT_RUN` says why).
    """
    from stischeck.errors import StischeckError
    from stischeck.runners.calstis import execute_calstis

    workdir = Path(workdir)
    cs0 = Path(cs0)
    t0 = time.perf_counter()

    def result(verdict, returncode=None):
        return ProbeResult(probe, cs0, verdict, returncode, time.perf_counter() - t0, workdir)

    try:
        inp = probe.build(workdir)
    except (StischeckError, OSError, ValueError, KeyError) as err:
        return result(Verdict(COULD_NOT_RUN, f"building the reproducer failed: {err}"))
    runs = inp.rundir or inp.raw.parent
    try:
        outcome = execute_calstis(cs0, inp.raw, inp.oref, runs, timeout_s=timeout_s,
                                  expects_products=None)  # fmt: skip
    except OSError as err:
        return result(Verdict(COULD_NOT_RUN, f"could not start {cs0}: {err.strerror or err}"))
    facts = facts_from_outcome(outcome, runs, inp.raw)
    return result(judge(probe, facts, inp), facts.returncode)


def run_probes(probes, builds, outdir: Path, *, timeout_s: float = 300.0, progress=None) -> list:
    """
    Every probe on every build; each run in ``outdir/<build index>/<probe name>/``.

    Parameters
    ----------
    probes : sequence of Probe
    builds : sequence of Path
        cs0.e executables.
    outdir : Path
        Folder for the runs (kept: each holds the reproducer, the run and its trailer);
        a probe's folder left there by an earlier call is replaced.
    progress : callable, optional
        Called with each `ProbeResult` as it is done.

    Returns
    -------
    list of ProbeResult
        Build-major order.
    """
    import shutil

    results = []
    for index, cs0 in enumerate(builds, start=1):
        for probe in probes:
            workdir = Path(outdir) / f"build{index}" / probe.name
            if workdir.exists():
                shutil.rmtree(workdir)  # an earlier run of the same probe: ours to replace
            res = run_probe(probe, cs0, workdir, timeout_s=timeout_s)
            results.append(res)
            if progress is not None:
                progress(res)
    return results


def table_text(results: list) -> str:
    """The probe table as aligned text: one row per build x probe, status and what was seen."""
    header = ("calstis", "probe", "status", "detail")
    rows = [(str(r.calstis), r.probe.name, r.status, r.verdict.detail) for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header[:3])]  # fmt: skip
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:3], widths, strict=True)) + "  detail"]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True))
                     + "  " + row[3])  # fmt: skip
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no probe run")
    return "\n".join(lines) + "\n"


def write_csv(results: list, path: Path) -> Path:
    """Write ``probes.csv`` (`CSV_COLUMNS`, one row per build x probe); return its path."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow(r.row())
    Path(path).write_text(buf.getvalue())
    return Path(path)
