"""Compare two calstis trailers step by step, after removing what only says when and where.

A calstis trailer (``.trl``, or cs0.e's standard output, which carries the
same lines) is read, normalised, split into the steps that wrote each line,
and two trailers are diffed step by step: new warnings, vanished messages,
lines whose numbers changed.

Normalisation rules (`normalise_line`), each for text that differs from run
to run of the same build on the same input:

1. **Timestamps.** Dates ``24-Nov-2026`` become ``<date>``; clock times
   ``09:14:03`` (with an optional time-zone word such as ``UTC`` or ``EDT``)
   become ``<time>`` (the ``Begin``/``End`` lines of each module and imset).
2. **Build identification.** The ``git tag:``, ``git branch:`` and ``HEAD @:``
   lines hstcal prints first become ``<build info>``; ``Version 3.5.0
   (02-Feb-2026)`` in a module banner becomes ``Version <version>``. The
   versions of both trailers are kept aside (`Trailer.versions`) and printed,
   never counted as a difference.
3. **Paths.** Every directory part of a file name (``FLATCORR/``,
   ``.work/``, ``/tmp/pytest-7/run/``) is removed, leaving the base name:
   cs0.e names its inputs and outputs by the folder it is run in. Reference
   files named ``oref$name`` keep their name (a different reference file is
   a real difference); an ``oref`` folder written out in full keeps only the
   base name. The value of cs0.e's ``Outroot`` line (where the caller asked
   the products to go: a folder or a file name) becomes ``<outroot>``; the
   products' own names are on the ``Output`` lines.
4. **Host and user names.** This machine's host name and the login name, if
   they appear (calstis 3.5.0 prints neither; paths may), become ``<host>``
   and ``<user>``.
5. **Blanks.** Trailing blanks are dropped and runs of blanks inside a line
   become one blank (calstis pads its columns); empty lines are dropped.

Step split (`split_steps`): a line ``*** CALSTIS-N -- Version ... ***``
starts a module section (``CALSTIS-1``, ``CALSTIS-2``; a module that runs
again, such as calstis1 after the rejection, is ``CALSTIS-1 (2)``); ``Imset
k Begin`` and ``Imset k End`` bound an imset; ``SWITCH PERFORM`` opens a
step and ``SWITCH COMPLETE`` or ``SKIPPED`` closes it (``SWITCH OMIT`` is a
step of one line). A line inside an open step belongs to that step; any other
line belongs to the module's ``(general)`` part. Lines keep their imset
(``imset 2: ...``), so a step's lines from all imsets are compared together.
"""

import difflib
import getpass
import gzip
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from stischeck.errors import InputFileError

__all__ = [
    "Trailer",
    "Change",
    "StepDiff",
    "TrailerDiff",
    "normalise_line",
    "read_trailer",
    "parse_trailer",
    "split_steps",
    "diff_trailers",
    "format_diff",
    "change_rows",
]

GENERAL = "(general)"

_DATE = re.compile(r"\b\d{1,2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4}\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?: (?:UTC|GMT|[A-Z]{3,4}))?\b")
_BUILD = re.compile(r"^\s*(git tag:|git branch:|HEAD @:)")
_BANNER = re.compile(r"^\*\*\* (CALSTIS-\d+[a-z]?) -- Version (.+?) \*\*\*\s*$")
_VERSION = re.compile(r"Version \S+(?: \([^)]*\))?")
# A directory part: one or more "name/" before a file name, "/" at the start allowed.
_DIRS = re.compile(r"(?<![\w$])(?:/|\.{1,2}/|~/)?(?:[\w.+-]+/)+(?=[\w.+-])")
_STEP = re.compile(r"^([A-Z0-9]{4,8})\s+(PERFORM|COMPLETE|SKIPPED|OMIT)\b")
_IMSET = re.compile(r"^Imset (\d+)\s+(Begin|End)\b")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Trailer:
    """A trailer read and normalised.

    Attributes
    ----------
    path : Path or None
    steps : dict
        ``(module, step)`` -> list of normalised lines (``"imset k: ..."`` inside an imset),
        in the order of first appearance.
    versions : tuple of str
        The build identification removed by rule 2 (banner versions, git lines).
    """

    path: Path | None
    steps: dict
    versions: tuple = ()


@dataclass(frozen=True)
class Change:
    """One difference inside a step.

    ``kind``: ``"new warning"``, ``"new error"``, ``"new message"``,
    ``"vanished warning"``, ``"vanished error"``, ``"vanished message"`` or
    ``"changed numbers"``; ``a`` and ``b`` are the lines (None on the side
    that lacks it).
    """

    kind: str
    a: str | None
    b: str | None


@dataclass(frozen=True)
class StepDiff:
    """The differences of one ``(module, step)``."""

    module: str
    step: str
    changes: tuple

    @property
    def name(self) -> str:
        """``"CALSTIS-1 BLEVCORR"``."""
        return f"{self.module} {self.step}"


@dataclass(frozen=True)
class TrailerDiff:
    """Two trailers compared: the steps that differ, and both sides' versions."""

    a: Trailer
    b: Trailer
    steps: tuple = field(default_factory=tuple)

    @property
    def same(self) -> bool:
        """True when the normalised trailers are equal step by step."""
        return not self.steps


def _host_user() -> tuple:
    names = []
    try:
        host = socket.gethostname()
        names.append((host, "<host>"))
        short = host.split(".")[0]
        if short != host:
            names.append((short, "<host>"))
    except OSError:
        pass
    try:
        names.append((getpass.getuser(), "<user>"))
    except (OSError, KeyError):
        pass
    # Very short names (e.g. "a") would eat ordinary words: only 3 characters and more.
    return tuple((n, t) for n, t in names if len(n) >= 3)


_NAMES = _host_user()


def normalise_line(line: str, *, names: tuple = _NAMES) -> str:
    """
    Apply the normalisation rules 1-5 of the module docstring to one line.

    Parameters
    ----------
    line : str
    names : tuple of (str, str)
        (text, placeholder) pairs for rule 4; this machine's host and login by default.

    Examples
    --------
    >>> normalise_line("Begin    24-Nov-2026 09:14:03 UTC", names=())
    'Begin <date> <time>'
    >>> normalise_line("Input    /tmp/run/FLATCORR/ovappx010_raw.fits", names=())
    'Input ovappx010_raw.fits'
    >>> normalise_line("CCDTAB   oref$71q0l7joo_ccd.fits", names=())
    'CCDTAB oref$71q0l7joo_ccd.fits'
    """
    if _BUILD.match(line):
        return "<build info>"
    text = _VERSION.sub("Version <version>", line) if _BANNER.match(line.strip()) else line
    text = _DATE.sub("<date>", text)
    text = _TIME.sub("<time>", text)
    # Folders first: a host or user name inside a path goes with its folder.
    text = _DIRS.sub("", text)
    for name, placeholder in names:
        text = re.sub(rf"(?<![\w]){re.escape(name)}(?![\w])", placeholder, text)
    text = " ".join(text.split())
    if text.startswith("Outroot "):
        return "Outroot <outroot>"
    return text


def read_trailer(path: Path) -> Trailer:
    """
    Read a trailer file (``.trl`` or ``.trl.gz``) and parse it.

    Raises
    ------
    InputFileError
        The file is missing, unreadable, or holds no calstis module banner.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise InputFileError(f"{path}: cannot read the trailer ({reason})") from err
    text = raw.decode("utf-8", errors="replace")
    trailer = parse_trailer(text, path=path)
    if not any(module != "(before)" for module, _ in trailer.steps):
        raise InputFileError(f"{path}: not a calstis trailer (no '*** CALSTIS-N' banner)")
    return trailer


def parse_trailer(text: str, *, path: Path | None = None) -> Trailer:
    """Normalise and split a trailer's text (see the module docstring)."""
    build, modules = [], {}
    for line in text.splitlines():
        banner = _BANNER.match(line.strip())
        if _BUILD.match(line):
            build.append(" ".join(line.split()))
        elif banner:
            modules.setdefault(banner.group(2), []).append(banner.group(1))
    if len(modules) == 1:
        versions = [f"calstis {next(iter(modules))}"]
    else:
        versions = [f"{'/'.join(dict.fromkeys(m))} {v}" for v, m in modules.items()]
    return Trailer(path, split_steps(text.splitlines()), tuple(versions + build))


def split_steps(lines: list) -> dict:
    """
    Group normalised lines by ``(module, step)``.

    Parameters
    ----------
    lines : list of str
        The trailer's lines, raw (normalised here).

    Returns
    -------
    dict
        ``(module, step)`` -> list of str, keys in order of first appearance;
        ``step`` is a switch name or ``"(general)"``; lines before the first
        banner are under module ``"(before)"``.
    """
    out: dict = {}
    seen: dict = {}
    module, imset, step = "(before)", None, None
    for raw in lines:
        line = normalise_line(raw)
        if not line:
            continue
        banner = _BANNER.match(raw.strip())
        if banner:
            name = banner.group(1)
            seen[name] = seen.get(name, 0) + 1
            module = name if seen[name] == 1 else f"{name} ({seen[name]})"
            imset, step = None, None
        imset_match = _IMSET.match(line)
        if imset_match:
            imset = int(imset_match.group(1)) if imset_match.group(2) == "Begin" else None
            step = None
        step_match = _STEP.match(line)
        key_step = step or GENERAL
        if step_match:
            key_step = step_match.group(1)
            step = key_step if step_match.group(2) == "PERFORM" else None
        text = f"imset {imset}: {line}" if imset is not None and not imset_match else line
        out.setdefault((module, key_step), []).append(text)
    return out


def _severity(line: str) -> str:
    body = line.split(": ", 1)[1] if line.startswith("imset ") else line
    word = body.split(" ", 1)[0].upper()
    if word.startswith("ERROR"):
        return "error"
    if word.startswith("WARNING"):
        return "warning"
    return "message"


def _template(line: str) -> str:
    return _NUMBER.sub("#", line)


def _diff_lines(a: list, b: list) -> list:
    """Changes between two steps' lines: paired lines by their number-free template."""
    changes = []
    matcher = difflib.SequenceMatcher(a=[_template(x) for x in a], b=[_template(x) for x in b],
                                      autojunk=False)  # fmt: skip
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                if x != y:
                    changes.append(Change("changed numbers", x, y))
            continue
        for x in a[i1:i2]:
            changes.append(Change(f"vanished {_severity(x)}", x, None))
        for y in b[j1:j2]:
            changes.append(Change(f"new {_severity(y)}", None, y))
    return changes


def diff_trailers(a: Trailer, b: Trailer) -> TrailerDiff:
    """
    Compare two parsed trailers step by step.

    Returns
    -------
    TrailerDiff
        One `StepDiff` per ``(module, step)`` whose lines differ, in the order
        the steps appear in ``a`` (then those only in ``b``).
    """
    keys = list(dict.fromkeys([*a.steps, *b.steps]))
    steps = []
    for module, step in keys:
        changes = _diff_lines(a.steps.get((module, step), []), b.steps.get((module, step), []))
        if changes:
            steps.append(StepDiff(module, step, tuple(changes)))
    return TrailerDiff(a, b, tuple(steps))


def format_diff(diff: TrailerDiff, *, a_name: str = "A", b_name: str = "B") -> str:
    """
    The differences as text: a verdict line, both sides' versions, then each step's changes.

    Numbers that changed are shown as ``A -> B`` under the line's text.
    """
    lines = []
    if diff.same:
        lines.append("same after normalisation (timestamps, build identification, paths, hosts)")
    else:
        n = sum(len(s.changes) for s in diff.steps)
        names = ", ".join(s.name for s in diff.steps)
        lines.append(f"differ: {n} change(s) in {len(diff.steps)} step(s): {names}")
    for label, trailer in ((a_name, diff.a), (b_name, diff.b)):
        versions = "; ".join(trailer.versions) or "none found"
        lines.append(f"{label}: {trailer.path or '(text)'} ({versions})")
    for step in diff.steps:
        lines.append("")
        lines.append(f"{step.name}:")
        for change in step.changes:
            if change.kind == "changed numbers":
                lines.append(f"  changed numbers: {change.a}")
                old = _NUMBER.findall(change.a)
                new = _NUMBER.findall(change.b)
                pairs = [f"{x} -> {y}" for x, y in zip(old, new, strict=False) if x != y]
                lines.append(f"      {', '.join(pairs)}")
            else:
                lines.append(f"  {change.kind}: {change.a if change.b is None else change.b}")
    return "\n".join(lines) + "\n"


def _same_text(a: Path, b: Path) -> bool:
    """True when two logs are the same line for line after `normalise_line`."""
    try:
        texts = [p.read_text(errors="replace").splitlines() for p in (a, b)]
    except OSError:
        return False
    lines = [[normalise_line(x) for x in t if x.strip()] for t in texts]
    return lines[0] == lines[1]


def change_rows(a: Path, b: Path) -> list:
    """
    Trailer ``a`` against trailer ``b`` as table rows, one per change.

    Returns
    -------
    list of dict
        ``module``, ``step``, ``kind`` (`Change.kind`), ``a`` and ``b`` (the
        lines). A log that is not a calstis trailer (no module banner) gives
        one ``unreadable`` row, unless both logs are the same after
        normalisation.
    """
    try:
        diff = diff_trailers(read_trailer(Path(a)), read_trailer(Path(b)))
    except Exception as err:  # noqa: BLE001 - an unreadable trailer is a row, not a crash
        if _same_text(Path(a), Path(b)):
            return []  # not calstis's layout (a stand-in's log), but the same on both sides
        return [dict(module="", step="", kind="unreadable", a=None, b=" ".join(str(err).split()))]
    return [
        dict(module=step.module, step=step.step, kind=change.kind, a=change.a, b=change.b)
        for step in diff.steps
        for change in step.changes
    ]
