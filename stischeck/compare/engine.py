"""Run both sides over the configurations, compare every product, localise the divergence.

Data flow: Configuration -> runners (calstis | reference) -> products ->
`stischeck.diff` -> rows -> tables (``tables.py``) -> CSV and report.
"""

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from stischeck.runners.outcome import RunOutcome, prepare_input

__all__ = ["CompareSettings", "CompareRun", "run_compare", "hdu_rows"]

#: Which side is compared with which; the first one available decides the verdict.
COMPARISONS = (
    ("reference", "calstis"),
    ("reference", "truth"),
    ("calstis", "truth"),
    ("steplocal-reference", "steplocal-calstis"),
)


@dataclass(frozen=True)
class CompareSettings:
    """Everything a comparison run needs besides the configurations."""

    raw: Path
    oref: Path | None
    outdir: Path
    calstis: Path | None
    truth: Path | None
    policy: object
    timeout_s: float = 600.0
    jobs: int = 1
    steplocal: str = "auto"  # "auto" (only after a divergence), "always", "never"
    progress: bool = False
    #: Reference worker processes (None: ``jobs``; 0: in the calling process).
    reference_processes: int | None = None


@dataclass
class CompareRun:
    """What `run_compare` produced (mutable while it runs)."""

    settings: CompareSettings
    configurations: list
    rootname: str
    runs: dict = field(default_factory=dict)  # (config, side) -> RunOutcome
    rows: list = field(default_factory=list)  # verdict rows (dicts)
    frames: list = field(default_factory=list)  # tidy diff DataFrames
    wall_s: float = 0.0


def hdu_rows(result) -> list:
    """One row per HDU of a `DiffResult`: verdict, worst figures, DQ bits, keyword count."""
    from stischeck.diff.arrays import DQ_BIT_NAMES

    rows = {}

    def row(extname, imset):
        key = (extname, imset)
        if key not in rows:
            rows[key] = dict(
                extname=extname,
                imset=imset,
                verdict="identical",
                n_differ=0,
                max_ulp=0,
                max_abs_diff=0.0,
                dq_bits="",
                keywords_differ=0,
                worst_x=None,
                worst_y=None,
                detail="",
            )
        return rows[key]

    rank = {"identical": 0, "agree": 1, "differ": 2}
    for e in result.extensions:
        r = row(e.extname, e.extver)
        r["verdict"] = e.verdict
        c = e.comparison
        r["n_differ"] = c.n_differ
        if e.kind == "dq":
            r["dq_bits"] = " ".join(f"{b}:{DQ_BIT_NAMES[b]}" for b in c.differing_bits())
            if c.first:
                r["worst_x"], r["worst_y"] = next(iter(sorted(c.first.items())))[1]
        else:
            r["max_ulp"], r["max_abs_diff"] = c.max_ulp, c.max_abs_diff
            if c.worst:
                r["worst_x"], r["worst_y"] = c.worst[0].x, c.worst[0].y
            if e.rules:
                r["detail"] = "; ".join(e.rules)
    for s in result.structure:
        r = row(s.extname, s.extver)
        r["verdict"] = "differ"
        r["detail"] = f"{s.what}: A {s.a or '-'}, B {s.b or '-'}"
    for k in result.keywords:
        r = row(k.extname, k.extver)
        if k.is_difference:
            r["keywords_differ"] += 1
            r["verdict"] = "differ"
            r["detail"] = (
                r["detail"] + "; " if r["detail"] else ""
            ) + f"{k.keyword}: {k.a!r} vs {k.b!r}"
        elif rank[r["verdict"]] < 1:
            r["verdict"] = "agree"
    return list(rows.values())


def run_compare(settings: CompareSettings, configurations: list, rootname: str) -> CompareRun:
    """
    Run every configuration on both sides (and the step-local runs), then compare.

    Errors of either program are recorded as ``error`` rows, never raised; only
    problems with the user's inputs (raise before anything runs) stop it.
    """
    from stischeck.runners.calstis import execute_calstis
    from stischeck.runners.reference import ReferencePool

    run = CompareRun(settings, configurations, rootname)
    t_start = time.perf_counter()
    runs_dir = settings.outdir / "runs"
    if runs_dir.exists():
        # A previous comparison's products would make cs0.e refuse to write.
        shutil.rmtree(runs_dir)
    progress = _Progress(settings.progress, total=len(configurations))

    processes = (
        settings.jobs if settings.reference_processes is None else settings.reference_processes
    )
    with ReferencePool(processes) as pool:

        def one(config):
            work = runs_dir / config.name
            expects = config.expects_products
            ref_in = prepare_input(settings.raw, work / "reference", config.switch_dict)
            handle = pool.submit(
                ref_in, settings.oref, work / "reference", config.performed, expects
            )
            if settings.calstis is not None:
                cal_in = prepare_input(settings.raw, work / "calstis", config.switch_dict)
                run.runs[config.name, "calstis"] = execute_calstis(
                    settings.calstis,
                    cal_in,
                    settings.oref,
                    work / "calstis",
                    timeout_s=settings.timeout_s,
                    expects_products=expects,
                    performed=config.performed,
                )
            run.runs[config.name, "reference"] = pool.result(handle, timeout_s=settings.timeout_s)
            progress.step(config.name)

        with ThreadPoolExecutor(max(1, settings.jobs)) as threads:
            list(threads.map(one, configurations))

        if settings.calstis is not None and settings.steplocal != "never":
            _run_steplocal(run, pool)

    _compare_all(run)
    run.wall_s = time.perf_counter() - t_start
    progress.done()
    return run


def _run_steplocal(run: CompareRun, pool) -> None:
    """Both sides run each rung's own step on calstis's product of the previous rung.

    Cumulative runs tell whether the sides agree after N steps; these tell
    whether step N itself agrees when both start from the same input. With
    ``steplocal == "auto"`` they run only when a cumulative comparison diverged.
    """
    from stischeck.runners.calstis import execute_calstis

    settings = run.settings
    if settings.steplocal == "auto":
        _compare_all(run)
        diverged = any(r["verdict"] in ("differ", "error") for r in run.rows)
        run.rows.clear()
        run.frames.clear()
        if not diverged:
            return
    by_name = {c.name: c for c in run.configurations}

    def one(config):
        prev = by_name.get(config.previous or "")
        if prev is None or prev.name == "RAW" or config.added is None:
            return
        before = run.runs.get((prev.name, "calstis"))
        if before is None or before.status != "ok":
            return
        suffix = "crj" if "crj" in before.products else "flt"
        switches = dict(config.switch_dict)
        for key, value in before.header_switches.get(suffix, {}).items():
            if key != config.added:
                switches[key] = value  # COMPLETE / SKIPPED as calstis left them
        switches["EXPSCORR"] = "OMIT"
        work = settings.outdir / "runs" / config.name
        name = f"{run.rootname}_raw.fits"
        source = before.products[suffix]
        ref_in = prepare_input(source, work / "steplocal-reference", switches, name=name)
        handle = pool.submit(
            ref_in, settings.oref, work / "steplocal-reference", (config.added,), True
        )
        cal_in = prepare_input(source, work / "steplocal-calstis", switches, name=name)
        outcome = execute_calstis(
            settings.calstis,
            cal_in,
            settings.oref,
            work / "steplocal-calstis",
            timeout_s=settings.timeout_s,
            expects_products=True,
            performed=(config.added,),
        )
        run.runs[config.name, "steplocal-calstis"] = replace(outcome, side="steplocal-calstis")
        run.runs[config.name, "steplocal-reference"] = pool.result(
            handle, timeout_s=settings.timeout_s, side="steplocal-reference"
        )

    with ThreadPoolExecutor(max(1, settings.jobs)) as threads:
        list(threads.map(one, run.configurations))


def _products_of(run: CompareRun, config, side: str):
    """(products dict or None, error message) for one side of one configuration."""
    settings = run.settings
    if side == "truth":
        if settings.truth is None:
            return None, ""
        from stischeck.truth import load_truth

        found = load_truth(settings.truth).products(config.name, run.rootname)
        if not found and config.expects_products:
            return {}, f"truth: no product in {settings.truth / config.name}"
        return found, ""
    outcome: RunOutcome | None = run.runs.get((config.name, side))
    if outcome is None:
        return None, ""
    if outcome.status == "error":
        return {}, outcome.message
    return outcome.products, ""


def _compare_all(run: CompareRun) -> None:
    from stischeck.diff.products import diff_products

    policy = run.settings.policy
    for config in run.configurations:
        for left, right in COMPARISONS:
            a, a_err = _products_of(run, config, left)
            b, b_err = _products_of(run, config, right)
            if a is None or b is None:
                continue
            base = dict(configuration=config.name, comparison=f"{left}-vs-{right}")
            if a_err or b_err:
                run.rows.append(
                    dict(
                        base,
                        product="",
                        extname="",
                        imset=None,
                        verdict="error",
                        detail=a_err or b_err,
                    )
                )
                continue
            if not config.expects_products and not a and not b:
                run.rows.append(
                    dict(
                        base,
                        product="",
                        extname="",
                        imset=None,
                        verdict="empty",
                        detail="no switch on: neither side writes a product",
                    )
                )
                continue
            for suffix in sorted(set(a) | set(b)):
                if suffix not in a or suffix not in b:
                    missing = left if suffix not in a else right
                    run.rows.append(
                        dict(
                            base,
                            product=suffix,
                            extname="",
                            imset=None,
                            verdict="error",
                            detail=f"_{suffix} missing on the {missing} side",
                        )
                    )
                    continue
                try:
                    result = diff_products(a[suffix], b[suffix], policy=policy, step=config.name)
                except Exception as err:  # noqa: BLE001 - an unreadable product is an error row
                    run.rows.append(
                        dict(
                            base,
                            product=suffix,
                            extname="",
                            imset=None,
                            verdict="error",
                            detail=" ".join(str(err).split()),
                        )
                    )
                    continue
                for r in hdu_rows(result):
                    run.rows.append(dict(base, product=suffix, **r))
                frame = result.to_frame()
                frame.insert(0, "comparison", base["comparison"])
                frame.insert(0, "configuration", config.name)
                frame.insert(2, "product", suffix)
                run.frames.append(frame)


class _Progress:
    """A one-line progress display on a terminal, for runs longer than a second."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self.count = enabled, total, 0
        self.t0 = time.perf_counter()
        self.lock = threading.Lock()
        self.shown = False

    def step(self, name: str) -> None:
        import sys

        with self.lock:
            self.count += 1
            if self.enabled and time.perf_counter() - self.t0 > 1.0:
                sys.stderr.write(
                    f"\rstischeck compare: {self.count}/{self.total} configurations ({name})   "
                )
                sys.stderr.flush()
                self.shown = True

    def done(self) -> None:
        import sys

        if self.shown:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()
