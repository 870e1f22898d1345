"""What a probe is, what one run of cs0.e on its reproducer showed, and the verdict.

A probe's decision is a pure function of `RunFacts` (exit status, signal,
products, trailer text) and the `ProbeInput` it built, so it is tested with
fake products and fake ``cs0.e`` scripts; `stischeck.probes.run` does the I/O.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "STATUSES",
    "STILL_PRESENT",
    "FIXED",
    "CRASHES",
    "FAILS",
    "COULD_NOT_RUN",
    "Probe",
    "ProbeInput",
    "RunFacts",
    "Verdict",
    "ProbeResult",
]

#: The issue's symptom is there.
STILL_PRESENT = "still present"
#: The build does what the probe expects of a build without the issue.
FIXED = "fixed"
#: Killed by a signal or hung (killed at the timeout), where the issue is not a crash.
CRASHES = "crashes"
#: Exited non-zero without a signal where the probe expected products (a clean refusal
#: of an input calstis should calibrate).
FAILS = "fails"
#: The reproducer could not be built, cs0.e could not be started, or the run did not
#: exercise the issue (the reason says which). The command exits 2.
COULD_NOT_RUN = "could not run"
STATUSES = (STILL_PRESENT, FIXED, CRASHES, FAILS, COULD_NOT_RUN)


@dataclass(frozen=True)
class Verdict:
    """A status from `STATUSES` and one line saying what was seen."""

    status: str
    detail: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown probe status {self.status!r}")


@dataclass(frozen=True)
class ProbeInput:
    """The staged reproducer.

    Attributes
    ----------
    raw : Path
        The raw file cs0.e is given (already carrying the probe's switches).
    oref : Path
        Folder of the reference files.
    notes : dict
        What the decision needs to know about the input (edited pixels, imsets...).
    rundir : Path or None
        Folder cs0.e runs in (its products go to ``rundir/out/``); None: ``raw``'s folder.
        cs0.e is given ``raw``'s path relative to it.
    """

    raw: Path
    oref: Path
    notes: dict = field(default_factory=dict)
    rundir: Path | None = None


@dataclass(frozen=True)
class RunFacts:
    """What one cs0.e run did, as read from outside.

    Attributes
    ----------
    returncode : int or None
        Exit status; negative: killed by that signal; None: it hung and was killed.
    signal : str
        Signal name (``"SIGSEGV"``) when ``returncode < 0``, else "".
    products : dict
        Suffix (``"flt"``, ``"crj"``) -> path of each product found, whatever the status.
    trailer : str
        cs0.e's standard output and error (the text of its trailer).
    message : str
        The runner's one-line message ("" when the run was ok).
    """

    returncode: int | None
    signal: str = ""
    products: dict = field(default_factory=dict)
    trailer: str = ""
    message: str = ""

    @property
    def timed_out(self) -> bool:
        """True when the run was killed at the timeout."""
        return self.returncode is None


@dataclass(frozen=True)
class Probe:
    """One known calstis issue and its synthetic reproducer.

    Attributes
    ----------
    name : str
        Short identifier (CSV key, pytest id).
    title : str
        What the issue is, in a few words.
    issue : str
        The citation: hstcal issue URL, commit, or source file and line.
    expects : str
        What a build without the issue does on this input.
    present : str
        What the issue looks like on this input.
    build : callable
        ``build(workdir) -> ProbeInput``: writes the reproducer (seeded, deterministic).
    decide : callable
        ``decide(facts, probe_input) -> Verdict`` for runs that ended by themselves and
        were not killed by a signal (unless ``crash_is_issue``).
    crash_is_issue : bool
        The issue *is* a crash: a signal means `STILL_PRESENT`, not `CRASHES`.
    """

    name: str
    title: str
    issue: str
    expects: str
    present: str
    build: Callable
    decide: Callable
    crash_is_issue: bool = False


@dataclass(frozen=True)
class ProbeResult:
    """One probe on one build: the row of the probe table."""

    probe: Probe
    calstis: Path
    verdict: Verdict
    returncode: int | None = None
    wall_s: float = 0.0
    workdir: Path | None = None

    @property
    def status(self) -> str:
        """The verdict's status."""
        return self.verdict.status

    def row(self) -> dict:
        """Plain data for ``probes.csv``."""
        return {
            "calstis": str(self.calstis),
            "probe": self.probe.name,
            "status": self.verdict.status,
            "detail": self.verdict.detail,
            "returncode": "" if self.returncode is None else self.returncode,
            "wall_s": round(self.wall_s, 2),
            "issue": self.probe.issue,
            "expects": self.probe.expects,
        }
