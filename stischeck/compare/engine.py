"""Run both sides over the configurations, compare every product, localise the divergence.

Data flow: Configuration -> runners (calstis | reference) -> products ->
`stischeck.diff` -> rows -> tables (``tables.py``) -> CSV and report.
"""

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from stischeck.outdir import claim_outdir
from stischeck.runners.outcome import RunOutcome, prepare_input
from stischeck.runners.process import cancel_all, reset_cancel
from stischeck.vocabulary import DEFAULT_TIMEOUT_S, Verdict, verdict_rank

__all__ = ["CompareSettings", "CompareRun", "run_compare", "hdu_rows"]

#: Which side is compared with which; the first one available decides the verdict.
COMPARISONS = (
    ("reference", "calstis"),
    ("reference", "truth"),
    ("calstis", "truth"),
    ("steplocal-reference", "steplocal-calstis"),
)
#: With ``runner="stistools"``: the wrapper's products against cs0.e run directly (parity).
PARITY = ("calstis", "cs0")
#: With a baseline (build A, or the reference-file set A): A against B (side ``calstis``),
#: and the reference against A. With a baseline reference set the reference runs on it
#: too (side ``baseline-reference``), so that each build is judged on its own files.
TWO_BUILDS = (("baseline", "calstis"), ("reference", "baseline"))
TWO_REFERENCE_SETS = (("baseline", "calstis"), ("baseline-reference", "baseline"))
#: Step-local: A and B each run the rung's own step on B's product of the rung before.
STEPLOCAL_TWO_BUILDS = ("steplocal-baseline", "steplocal-calstis")


@dataclass(frozen=True)
class CompareSettings:
    """Everything a comparison run needs besides the configurations."""

    raw: Path
    oref: Path | None
    outdir: Path
    calstis: Path | None
    truth: Path | None
    policy: object
    timeout_s: float = DEFAULT_TIMEOUT_S
    jobs: int = 1
    steplocal: str = "auto"  # "auto" (only after a divergence), "always", "never"
    progress: bool = False
    #: Reference worker processes (None: one; 0: in the calling process).
    reference_processes: int | None = None
    #: Run the sides and the comparisons at once (False: one after the other, one core
    #: at a time, as `stischeck batch` runs each data set while others use the cores).
    overlap: bool = True
    #: How calstis is run: ``"cs0"`` (cs0.e directly) or ``"stistools"`` (through
    #: ``stistools.calstis.calstis`` in a child process, with a parity run of cs0.e).
    runner: str = "cs0"
    #: Build A (``--baseline-calstis``): cs0.e run beside ``calstis`` (build B).
    baseline_calstis: Path | None = None
    #: Reference set A (``--baseline-oref``): build A (or B) and a second reference
    #: run read it, while B and the reference read ``oref``.
    baseline_oref: Path | None = None
    #: ``--repeat N``: every calstis configuration (each build) run N times in all.
    repeat: int = 1

    @property
    def two_builds(self) -> bool:
        """True when a baseline (build or reference set) runs beside build B."""
        return self.calstis is not None and (
            self.baseline_calstis is not None or self.baseline_oref is not None
        )

    @property
    def baseline_build(self) -> Path | None:
        """cs0.e of side A: ``baseline_calstis``, else build B itself (two reference sets)."""
        return self.baseline_calstis if self.baseline_calstis is not None else self.calstis

    @property
    def baseline_references(self) -> Path | None:
        """The reference folder side A reads."""
        return self.baseline_oref if self.baseline_oref is not None else self.oref

    def builds(self) -> list:
        """``(side, cs0.e, reference folder)`` of each calstis build: B, then A if any."""
        out = [("calstis", self.calstis, self.oref)]
        if self.two_builds:
            out.append(("baseline", self.baseline_build, self.baseline_references))
        return out

    def comparisons(self) -> tuple:
        """The cumulative comparisons made per configuration, primary first."""
        if not self.two_builds:
            return COMPARISONS[:3]
        ab = TWO_REFERENCE_SETS if self.baseline_oref is not None else TWO_BUILDS
        return (*ab, *COMPARISONS[:3])

    def steplocal_comparisons(self) -> tuple:
        """The step-local comparisons."""
        return (STEPLOCAL_TWO_BUILDS,) * self.two_builds + COMPARISONS[3:]


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
    #: config -> what the stistools wrapper changed besides the products (runner stistools).
    parity: dict = field(default_factory=dict)
    #: (config, side) -> `stischeck.repeat.RepeatResult` (``repeat`` above 1).
    repeats: dict = field(default_factory=dict)
    #: config -> build A's trailer against B's (`stischeck.trailers.change_rows`), two builds.
    trailer_changes: dict = field(default_factory=dict)
    #: Future of `stischeck.compare.tables.input_provenance`, computed while the runs go on.
    input_provenance: object = None


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
                # Not in verdicts.csv; for the summary's headline and attribution.
                n_pixels=0,
                keywords=[],
            )
        return rows[key]

    for e in result.extensions:
        r = row(e.extname, e.extver)
        r["verdict"] = e.verdict
        c = e.comparison
        r["n_differ"] = c.n_differ
        r["n_pixels"] = int(getattr(c, "n_pixels", 0) or 0)
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
        r["structure"] = True
        r["detail"] = f"{s.what}: A {s.a or '-'}, B {s.b or '-'}"
    for k in result.keywords:
        r = row(k.extname, k.extver)
        if k.is_difference:
            r["keywords_differ"] += 1
            r["keywords"].append(k.keyword)
            r["verdict"] = "differ"
            r["detail"] = (
                r["detail"] + "; " if r["detail"] else ""
            ) + f"{k.keyword}: {k.a!r} vs {k.b!r}"
        elif verdict_rank(r["verdict"]) < Verdict.AGREE.rank:
            r["verdict"] = Verdict.AGREE.word
    return list(rows.values())


def run_compare(
    settings: CompareSettings, configurations: list, rootname: str, *, reference_pool=None
) -> CompareRun:
    """
    Run every configuration on both sides (and the step-local runs), then compare.

    Three lanes run at once: cs0.e runs (``jobs`` at a time), the reference
    (one worker process by default), and the comparisons, each made as soon
    as both sides of a configuration are done. Both programs take the
    configurations in one order (`_run_order`), so that the sides of each
    finish close together and the comparisons spread over the run instead of
    queueing at its end. Errors of either program are recorded as
    ``error`` rows, never raised; only problems with the user's inputs (raised
    before anything runs) stop it.

    ``reference_pool``: a `ReferencePool` the caller started early
    (`ReferencePool.warm`); this run uses it and closes it. None: a new one of
    ``settings.reference_processes`` workers.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from stischeck.compare.tables import input_provenance
    from stischeck.runners.reference import ReferencePool
    from stischeck.runners.stistools_wrapper import runner_function

    execute = runner_function(settings.runner)
    run = CompareRun(settings, configurations, rootname)
    reset_cancel()
    t_start = time.perf_counter()
    runs_dir = settings.outdir / "runs"
    # Only what an earlier stischeck run wrote is removed (its products would make
    # cs0.e refuse to write); a folder stischeck did not make is refused, named.
    claim_outdir(settings.outdir, "compare")
    progress = _Progress(settings.progress, total=len(configurations))
    inputs = _stage_inputs(settings, configurations, runs_dir)
    run.input_provenance = _in_background(input_provenance, settings, rootname)

    processes = 1 if settings.reference_processes is None else settings.reference_processes
    if reference_pool is None:
        reference_pool = ReferencePool(processes)
    with (
        reference_pool as pool,
        ThreadPoolExecutor(max(1, settings.jobs)) as lane,
        _stop_children_on_error(),
    ):
        handles = []
        order = _run_order(settings, configurations)
        for config in order:
            sides = [("reference", settings.oref)]
            if settings.baseline_oref is not None and settings.two_builds:
                sides.append(("baseline-reference", settings.baseline_oref))
            for side, oref in sides:
                work = runs_dir / config.name / side
                handle = pool.submit(
                    inputs[config.name], oref, work, config.performed, _expects_products(config)
                )
                handles.append((config, side, handle))
        side_jobs = _submit_calstis(settings, order, inputs, runs_dir, execute, lane)

        # Only now, with cs0.e running: the imports hold the interpreter lock for a while.
        threading.Thread(target=_warm_imports, daemon=True).start()

        def reference_results():
            """Collect the reference outcomes in submission order; yield each finished config."""
            previous_done = None
            for k, (config, side, handle) in enumerate(handles):
                outcome = pool.result(
                    handle, timeout_s=settings.timeout_s, since=previous_done, side=side
                )
                previous_done = time.perf_counter()
                run.runs[config.name, side] = outcome
                if k + 1 == len(handles) or handles[k + 1][0] is not config:
                    yield config

        # Compare each configuration once all of its sides are in.
        pending = {}

        def finish_ready() -> None:
            for name in [n for n in pending if _all_done(side_jobs.get(n))]:
                _finish(run, pending.pop(name), side_jobs.get(name))
                progress.step(name)

        for config in reference_results():
            pending[config.name] = config
            finish_ready()
        while True:
            if all(_all_done(side_jobs.get(n)) for n in pending):
                # Every run of both programs is in: the worker exits during the comparisons left.
                pool.release()
            finish_ready()
            if not pending:
                break
            futures = [f for n in pending for f in (side_jobs.get(n) or {}).values()]
            wait([f for f in futures if not f.done()] or futures, return_when=FIRST_COMPLETED)

        if settings.calstis is not None and settings.steplocal != "never":
            diverged = any(r["verdict"] in ("differ", "error") for r in run.rows)
            if settings.steplocal == "always" or diverged:
                _run_steplocal(run, pool)
                _compare_steplocal(run)

    order = {c.name: k for k, c in enumerate(configurations)}
    run.rows.sort(key=lambda r: order[r["configuration"]])
    run.frames.sort(key=lambda f: order[f["configuration"].iloc[0]] if len(f) else 0)
    run.wall_s = time.perf_counter() - t_start
    progress.done()
    return run


#: Switches calstis may skip with nothing else to do: CR rejection needs two or more imsets.
_SKIPPABLE_ALONE = frozenset({"CRCORR", "RPTCORR", "EXPSCORR"})


def _expects_products(config) -> bool | None:
    """
    Whether a run of ``config`` must write a product: True, False (RAW) or None (either).

    A configuration that performs only CR rejection writes nothing on a
    one-imset file (calstis: "CRCORR will be omitted because there's only one
    imset", then nothing to do); both sides doing that is an agreement about
    "no product", compared like any other outcome.
    """
    if not config.expects_products:
        return False
    return None if set(config.performed) <= _SKIPPABLE_ALONE else True


def _run_order(settings: CompareSettings, configurations: list) -> list:
    """
    The order both programs take the configurations in: ladder order, or longest first.

    With several cs0.e at a time, longest first (more steps; names break
    ties): the calstis lane then ends with short runs, not one long one, and
    the reference, taking the same order, finishes each configuration about
    when calstis does, so its comparison can start at once.
    """
    order = list(configurations)
    if settings.overlap and settings.jobs > 1:
        order.sort(key=lambda c: (-len(c.performed), c.name))
    return order


def _submit_calstis(settings, configurations, inputs, runs_dir, execute, lane) -> dict:
    """Queue every calstis run on the lane, in the order given; config name -> {side: future}.

    Side ``calstis`` is build B (``--calstis``) on ``oref``; ``cs0`` its parity
    run (``runner="stistools"``); ``baseline`` build A on reference set A.
    """
    from stischeck.runners.calstis import execute_calstis

    if settings.calstis is None:
        return {}
    submit = lane.submit if settings.overlap else _run_now
    sides = [(side, execute, cs0, oref) for side, cs0, oref in settings.builds()]
    if execute is not execute_calstis:
        sides.append(("cs0", execute_calstis, settings.calstis, settings.oref))
    jobs: dict = {}
    for config in configurations:
        for side, function, cs0, oref in sides:
            jobs.setdefault(config.name, {})[side] = submit(
                function,
                cs0,
                inputs[config.name],
                oref,
                runs_dir / config.name / side,
                timeout_s=settings.timeout_s,
                expects_products=_expects_products(config),
                performed=config.performed,
            )
    return jobs


def _all_done(futures: dict | None) -> bool:
    return all(f.done() for f in (futures or {}).values())


@contextlib.contextmanager
def _stop_children_on_error():
    """On any error or interrupt, kill every cs0.e and reference worker before waiting for them."""
    try:
        yield
    except BaseException:
        cancel_all()
        raise


def _in_background(fn, *args):
    """A Future of ``fn(*args)``, computed in a thread of its own (hashing releases the GIL)."""
    executor = ThreadPoolExecutor(1)
    try:
        return executor.submit(fn, *args)
    finally:
        executor.shutdown(wait=False)


def _warm_imports() -> None:
    """Import what the comparisons and tables need while the first runs go on."""
    import pandas  # noqa: F401

    import stischeck.diff.products  # noqa: F401


def _stage_inputs(settings: CompareSettings, configurations: list, runs_dir: Path) -> dict:
    """Write one copy of the raw file per configuration, with its switches.

    Returns configuration name -> ``runs/<CONFIG>/input/<rootname>_raw.fits``.
    Both sides read that same copy (neither writes its input), so they run on
    the same bytes by construction. The user's raw file is read once and never
    written.
    """
    from stischeck.runners.outcome import prepare_inputs

    wanted = {
        config.name: (runs_dir / config.name / "input", config.switch_dict)
        for config in configurations
    }
    return prepare_inputs(settings.raw, wanted)


def _run_now(fn, *args, **kwargs):
    """Run ``fn`` at once and return a finished future (the no-overlap lane)."""
    from concurrent.futures import Future

    future = Future()
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as err:  # noqa: BLE001 - handed to whoever reads the future
        future.set_exception(err)
    return future


def _finish(run: CompareRun, config, futures: dict | None) -> None:
    """Record the calstis outcomes of ``config`` (side -> future) and compare its products.

    With a parity run (``runner="stistools"``), the direct cs0.e run is recorded
    as side ``"cs0"``, its products are compared with the wrapper's
    (``calstis-vs-cs0``), and what the wrapper changed besides the products
    goes into ``run.parity``. With ``repeat`` above 1 each build runs the
    configuration again (`stischeck.repeat`), compared with the run just made.
    """
    comparisons = run.settings.comparisons()
    futures = dict(futures or {})
    for side, future in futures.items():
        outcome = future.result()
        run.runs[config.name, side] = (
            outcome if outcome.side == side else replace(outcome, side=side)
        )
    if "cs0" in futures:
        from stischeck.runners.stistools_wrapper import parity

        direct, wrapped = run.runs[config.name, "cs0"], run.runs[config.name, "calstis"]
        work = run.settings.outdir / "runs" / config.name
        raw_copy = next(iter(sorted((work / "input").glob("*.fits"))), work / "input")
        if direct.ok and wrapped.ok:
            run.parity[config.name] = parity(
                raw_copy, direct, wrapped, work / "cs0", work / "calstis"
            )
        comparisons = (*comparisons, PARITY)
    a, b = run.runs.get((config.name, "baseline")), run.runs.get((config.name, "calstis"))
    if a is not None and b is not None and a.trailer and b.trailer:
        from stischeck.trailers import change_rows

        run.trailer_changes[config.name] = change_rows(a.trailer, b.trailer)
    if run.settings.repeat > 1:
        _repeat(run, config)
    rows, frames = _compare_config(run, config, comparisons)
    run.rows.extend(rows)
    run.frames.extend(frames)


def _repeat(run: CompareRun, config) -> None:
    """Run each build ``repeat - 1`` more times on ``config``; keep what differs from run 1."""
    from stischeck.repeat import repeat_calstis

    settings = run.settings
    work = settings.outdir / "runs" / config.name
    for side, cs0, oref in settings.builds():
        first = run.runs.get((config.name, side))
        if first is None:
            continue
        run.repeats[config.name, side] = repeat_calstis(
            cs0,
            work / "input" / f"{run.rootname}_raw.fits",
            oref,
            work / f"repeat-{side}",
            switches=config.switch_dict,
            n=settings.repeat,
            config=config.name,
            timeout_s=settings.timeout_s,
            policy=settings.policy,
            first=first,
        )


def _compare_steplocal(run: CompareRun) -> None:
    for config in run.configurations:
        rows, frames = _compare_config(run, config, run.settings.steplocal_comparisons())
        run.rows.extend(rows)
        run.frames.extend(frames)


def _run_steplocal(run: CompareRun, pool) -> None:
    """Both sides run each rung's own step on calstis's product of the previous rung.

    Cumulative runs tell whether the sides agree after N steps; these tell
    whether step N itself agrees when both start from the same input (with a
    baseline, build A runs the step on that input too). With
    ``steplocal == "auto"`` they run only when a cumulative comparison diverged.
    """
    from stischeck.runners.calstis import execute_calstis

    settings = run.settings
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
        staged = prepare_input(source, work / "steplocal-input", switches, name=name)
        # One step alone may legitimately leave calstis nothing to do (CRCORR on one
        # imset, a DUMMY reference file): no product is then an outcome to compare.
        handle = pool.submit(
            staged, settings.oref, work / "steplocal-reference", (config.added,), None
        )
        # With two builds, A and B each run the step on the same input: a difference
        # between them is the step's own.
        for build, cs0, oref in settings.builds():
            side = f"steplocal-{build}"
            outcome = execute_calstis(
                cs0,
                staged,
                oref,
                work / side,
                timeout_s=settings.timeout_s,
                expects_products=None,
                performed=(config.added,),
            )
            run.runs[config.name, side] = replace(outcome, side=side)
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


def _why_no_product(run: CompareRun, config, sides) -> str:
    """The first warning of the runs of ``sides`` that wrote nothing, quoted (or "")."""
    for side in sorted(sides, key=lambda s: "calstis" not in s):  # calstis's own words first
        outcome = run.runs.get((config.name, side))
        if outcome is None or outcome.trailer is None or outcome.products:
            continue
        try:
            lines = Path(outcome.trailer).read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            text = " ".join(line.split())
            if text.lower().startswith("warning"):
                text = text.split(None, 1)[1] if " " in text else text
                return f"{side}: {text.lstrip(': ')}"
    return ""


def _compare_config(run: CompareRun, config, comparisons) -> tuple[list, list]:
    """Compare one configuration's products for each pair of sides; (verdict rows, frames)."""
    from stischeck.diff.products import diff_products
    from stischeck.inputs import relative_to_folder

    policy = run.settings.policy
    rows, frames = [], []
    for left, right in comparisons:
        a, a_err = _products_of(run, config, left)
        b, b_err = _products_of(run, config, right)
        if a is None or b is None:
            continue
        base = dict(configuration=config.name, comparison=f"{left}-vs-{right}")

        def note(verdict: str, detail: str, product: str = "", base=base) -> None:
            """A row for a whole product (or configuration) that was not compared pixel by pixel."""
            rows.append(
                dict(base, product=product, extname="", imset=None, verdict=verdict, detail=detail)
            )

        if a_err or b_err:
            note("error", a_err or b_err)
            continue
        if not a and not b:
            if not config.expects_products:
                note("empty", "no switch on: neither side writes a product")
            else:
                why = _why_no_product(run, config, (left, right))
                note("empty", "neither side wrote a product" + (f" ({why})" if why else ""))
            continue
        for suffix in sorted(set(a) | set(b)):
            if suffix not in a or suffix not in b:
                # Both runs ended normally: what they wrote is itself the difference.
                only, other = (left, right) if suffix in a else (right, left)
                detail = f"_{suffix} written by {only} only"
                if not (b if other == right else a):
                    why = _why_no_product(run, config, (other,))
                    detail += f"; {other} wrote no product" + (f" ({why})" if why else "")
                note(
                    "differ",
                    detail,
                    suffix,
                )
                continue
            try:
                result = diff_products(a[suffix], b[suffix], policy=policy, step=config.name)
            except Exception as err:  # noqa: BLE001 - an unreadable product is an error row
                note("error", " ".join(str(err).split()), suffix)
                continue
            for r in hdu_rows(result):
                rows.append(dict(base, product=suffix, **r))
            frame = result.to_frame()
            for col in ("file_a", "file_b"):  # one path per column: map it once
                frame[col] = relative_to_folder(frame[col].iloc[0], run.settings.outdir)
            frame.insert(0, "comparison", base["comparison"])
            frame.insert(0, "configuration", config.name)
            frame.insert(2, "product", suffix)
            frames.append(frame)
    return rows, frames


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
