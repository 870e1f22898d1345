"""Determinism: run one calstis configuration N times and compare every run with the first.

Uninitialised memory, a race or a time-dependent branch in calstis shows up as
runs of the same build on the same input that do not give the same products
or the same exit status. `repeat_calstis` runs cs0.e ``n`` times through the
calstis runner (`stischeck.runners.calstis.execute_calstis`: own process
group, timeout, real exit status and signal), each run on its own freshly
staged copy of the raw file in its own folder, and compares each later run's
products with the first run's through `stischeck.diff.diff_products` (the
exact policy by default: SCI/ERR bit for bit, DQ identical, keywords equal
except those the policy ignores with a reason, such as DATE).

``stischeck compare --repeat N`` hands the comparison's own run in as run 1
(``first``), so each build runs N times in all.
"""

from dataclasses import dataclass
from pathlib import Path

from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = ["RepeatRun", "RepeatDifference", "RepeatResult", "repeat_calstis"]


@dataclass(frozen=True)
class RepeatRun:
    """One of the N runs.

    Attributes
    ----------
    index : int
        1-based run number.
    status : str
        The runner's status: ``"ok"``, ``"empty"`` or ``"error"``.
    returncode : int or None
        Exit status (negative: signal; None: killed at the timeout).
    message : str
        The runner's one line ("" when ok).
    products : dict
        Suffix -> product path.
    """

    index: int
    status: str
    returncode: int | None
    message: str
    products: dict


@dataclass(frozen=True)
class RepeatDifference:
    """A way in which run ``run`` differs from run 1.

    ``kind``: ``"exit status"``, ``"product missing"`` (in one of the two runs)
    or ``"product differs"``; ``suffix`` names the product (``"flt"``,
    ``"crj"``, "" for the exit status); ``detail`` is one line (the first
    findings of the diff, or both statuses).
    """

    run: int
    kind: str
    suffix: str
    detail: str


@dataclass(frozen=True)
class RepeatResult:
    """The N runs of one configuration and what differed from the first."""

    config: str
    runs: tuple
    differences: tuple
    policy: str = "exact"

    @property
    def deterministic(self) -> bool:
        """True when every run exited alike and wrote the same products as run 1."""
        return not self.differences

    @property
    def differing_runs(self) -> tuple:
        """Numbers of the runs that differ from run 1."""
        return tuple(sorted({d.run for d in self.differences}))

    def text(self) -> str:
        """One line per run that differs (or one line saying none did)."""
        n = len(self.runs)
        if self.deterministic:
            statuses = sorted({str(r.returncode) for r in self.runs})
            return (
                f"{self.config}: {n} runs, the same products as run 1 ({self.policy} policy) "
                f"and the same exit status ({', '.join(statuses)})\n"
            )
        lines = [
            f"{self.config}: {len(self.differing_runs)} of {n - 1} repeat(s) differ from run 1"
        ]
        for d in self.differences:
            what = f"{d.kind} ({d.suffix})" if d.suffix else d.kind
            lines.append(f"  run {d.run}: {what}: {d.detail}")
        return "\n".join(lines) + "\n"


def _status(run: RepeatRun) -> str:
    if run.returncode is None:
        return "timed out"
    return f"exit {run.returncode}" + (f" ({run.message})" if run.message else "")


def repeat_calstis(
    cs0: Path,
    raw: Path,
    oref: Path | None,
    workdir: Path,
    *,
    switches: dict,
    n: int = 3,
    config: str = "repeat",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    policy=None,
    first=None,
) -> RepeatResult:
    """
    Run cs0.e ``n`` times on one configuration and compare each run with the first.

    Parameters
    ----------
    cs0 : Path
        The cs0.e executable.
    raw : Path
        The raw file (only read; each run gets its own staged copy).
    oref : Path or None
        Folder of the ``oref$`` reference files (None: the environment's ``oref``).
    workdir : Path
        New or empty folder; run k goes to ``workdir/run<k>/``.
    switches : dict
        Calibration switch -> value, as a `stischeck.config.Configuration`'s ``switch_dict``.
    n : int
        Number of runs, at least 2.
    config : str
        Name of the configuration (the policy's step patterns match it).
    timeout_s : float
        Per run.
    policy : stischeck.diff.Policy, optional
        The exact policy by default.
    first : RunOutcome, optional
        A run already made on the same input and switches: it is run 1, and
        only ``n - 1`` more runs are made.

    Returns
    -------
    RepeatResult

    Raises
    ------
    UsageError
        ``n`` below 2.
    InputFileError
        ``raw`` cannot be read.
    """
    from stischeck.diff import default_policy, diff_products
    from stischeck.errors import UsageError
    from stischeck.runners.calstis import execute_calstis
    from stischeck.runners.outcome import prepare_input

    if n < 2:
        raise UsageError(f"repeat: give at least 2 runs (got {n})")
    policy = policy or default_policy()
    performed = tuple(k for k, v in switches.items() if v == "PERFORM")
    expects = any(k != "EXPSCORR" for k in performed)
    runs = []
    if first is not None:
        runs.append(RepeatRun(1, first.status, first.returncode, first.message,
                              dict(first.products)))  # fmt: skip
    for index in range(len(runs) + 1, n + 1):
        rundir = Path(workdir) / f"run{index}"
        copy = prepare_input(Path(raw), rundir, switches)
        outcome = execute_calstis(Path(cs0), copy, oref, rundir, timeout_s=timeout_s,
                                  expects_products=expects, performed=performed)  # fmt: skip
        runs.append(RepeatRun(index, outcome.status, outcome.returncode, outcome.message,
                              dict(outcome.products)))  # fmt: skip
    first = runs[0]
    differences = []
    for run in runs[1:]:
        if (run.status, run.returncode) != (first.status, first.returncode):
            differences.append(RepeatDifference(
                run.index, "exit status", "", f"run 1: {_status(first)}; run {run.index}: "
                f"{_status(run)}"))  # fmt: skip
        for suffix in sorted(set(first.products) | set(run.products)):
            if suffix not in first.products or suffix not in run.products:
                where = "run 1" if suffix in first.products else f"run {run.index}"
                differences.append(
                    RepeatDifference(run.index, "product missing", suffix, f"only in {where}")
                )
                continue
            result = diff_products(first.products[suffix], run.products[suffix],
                                   policy=policy, step=config)  # fmt: skip
            if not result.agree:
                found = "; ".join(f.text for f in result.findings()[:3])
                differences.append(RepeatDifference(run.index, "product differs", suffix, found))
    name = policy.name
    return RepeatResult(config, tuple(runs), tuple(differences), name)
