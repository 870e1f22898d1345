"""Compare one data set: the one way the CLI, batch, the pytest plugin and the tests run it.

Two stages, because the CLI checks ``--pixel`` against the plan and names the
output folder after the rootname before anything runs:

1. `plan_comparison`: read the raw header, refuse a target acquisition or the
   truth of another data set, choose the configurations, find every reference
   file they need. Nothing runs; every refusal is one line naming the file.
2. `compare_dataset`: run both sides over the plan's configurations, compare
   every product, write the tables (``summary.json`` last). A run stopped by
   any exception leaves the folder marked failed or interrupted, never a
   result.

The raw file's schema check (`stischeck.validate`) comes before both, in the
caller: the CLI words its refusal with what calstis would do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stischeck.vocabulary import DEFAULT_TIMEOUT_S
from stischeck.vocabulary import rootname as rootname_of

__all__ = ["ComparisonPlan", "CompareOutcome", "plan_comparison", "compare_dataset"]


@dataclass(frozen=True)
class ComparisonPlan:
    """What one comparison will run, checked before anything runs.

    Attributes
    ----------
    raw : Path
        The user's raw file (absolute; only read).
    header : PrimaryCards
        Its primary header.
    rootname : str
        `stischeck.vocabulary.rootname` of the raw file.
    oref : Path
        The reference folder both sides are given.
    truth : Path or None
        A recorded truth folder (`stischeck record`).
    configurations : list of Configuration
        In the order they run.
    """

    raw: Path
    header: object
    rootname: str
    oref: Path
    truth: Path | None
    configurations: list


@dataclass(frozen=True)
class CompareOutcome:
    """A finished comparison: the engine's run, the summary written, the text printed."""

    run: object
    summary: dict
    outdir: Path
    text: str

    @property
    def exit_code(self) -> int:
        """0 agree, 1 differ, 2 could not compare (``summary["exit_code"]``)."""
        return int(self.summary["exit_code"])


def plan_comparison(
    raw,
    *,
    oref=None,
    truth=None,
    selection: dict | None = None,
    option: str = "--oref",
    check_damage: bool = True,
) -> ComparisonPlan:
    """
    Check the inputs of one comparison and choose what it runs.

    Parameters
    ----------
    raw : path-like
        STIS CCD raw file (``.fits`` or ``.fits.gz``), schema-checked by the caller.
    oref : path-like or `ReferenceFolder`, optional
        The reference folder; None: found by the rule (``$oref``, ``oref/``
        beside the raw file, the CRDS cache).
    truth : path-like, optional
        A truth folder; each configuration then takes the switches it recorded.
    selection : dict, optional
        ``steps``, ``only`` or ``switches`` as `stischeck.config.configurations_for`
        takes them; none: the cumulative ladder.
    option : str
        How the reference folder was given, for messages (``"--oref"``, ``"oref="``).
    check_damage : bool
        Also refuse a damaged reference file the configurations read (the CLI
        checks damage itself, to say what calstis does with it).

    Raises
    ------
    StischeckError
        One line naming the file: not a STIS CCD raw file, a target acquisition
        with no switch chosen, another data set's truth, a missing reference file.
    """
    from stischeck.config import configurations_for
    from stischeck.inputs import (
        ReferenceFolder,
        check_references,
        check_truth,
        find_reference_folder,
        read_raw_header,
        refuse_target_acquisition,
    )

    raw = Path(raw).resolve()
    truth = Path(truth).resolve() if truth is not None else None
    selection = {k: v for k, v in (selection or {}).items() if v}
    header = read_raw_header(raw)
    refuse_target_acquisition(raw, header, chosen=bool(selection))
    if truth is not None:
        check_truth(truth, raw, header)
    configurations = configurations_for(header, truth=truth, **selection)
    folder = oref if isinstance(oref, ReferenceFolder) else None
    if folder is None:
        folder = find_reference_folder(raw, header, oref, option=option)
    check_references(raw, header, configurations, folder, damage=check_damage)
    return ComparisonPlan(raw, header, rootname_of(header, raw), folder.path, truth, configurations)


def compare_dataset(
    plan: ComparisonPlan,
    outdir,
    *,
    calstis=None,
    policy=None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    jobs: int = 1,
    steplocal: str = "auto",
    runner: str = "cs0",
    progress: bool = False,
    reference_pool=None,
    **engine,
) -> CompareOutcome:
    """
    Run the plan's comparison into ``outdir`` and write its tables.

    Parameters
    ----------
    plan : ComparisonPlan
    outdir : path-like
        A new or empty folder, or one stischeck made (it removes only its own files).
    calstis : Path, optional
        cs0.e; None compares the reference with the plan's truth only.
    policy : Policy, optional
        Tolerances; the shipped exact policy by default.
    timeout_s : float
        Time limit of one run, seconds.
    jobs, steplocal, runner, progress
        As ``stischeck compare`` (``--jobs``, ``--steplocal``, ``--runner``).
    reference_pool : ReferencePool, optional
        Workers started early (`run_compare`); used and closed here.
    **engine
        Further `CompareSettings` fields (``reference_processes``, ``overlap``).

    Returns
    -------
    CompareOutcome
    """
    from stischeck.compare.engine import CompareSettings, run_compare
    from stischeck.compare.tables import format_text, write_outputs
    from stischeck.diff.policy import default_policy
    from stischeck.outdir import finish_outdir

    outdir = Path(outdir)
    settings = CompareSettings(
        raw=plan.raw,
        oref=plan.oref,
        outdir=outdir,
        calstis=Path(calstis) if calstis is not None else None,
        truth=plan.truth,
        policy=policy if policy is not None else default_policy(),
        timeout_s=float(timeout_s),
        jobs=max(1, int(jobs)),
        steplocal=steplocal,
        progress=progress,
        runner=runner,
        **engine,
    )
    try:
        run = run_compare(
            settings, plan.configurations, plan.rootname, reference_pool=reference_pool
        )
        summary = write_outputs(run)
    except BaseException as err:
        # Whatever stopped it, the folder says so: half a run is never read as a result.
        finish_outdir(outdir, "interrupted" if isinstance(err, KeyboardInterrupt) else "failed")
        raise
    return CompareOutcome(run, summary, outdir, format_text(run, summary))
