"""The wrapper-audit cases, the recording fake executables, and the findings table.

A `Case` is one wrapper call: which wrapper, its keyword arguments, and the
command line those arguments should give (the arguments after the program
name, as hstcal documents its options), or ``None`` when the call should be
refused without starting the program. ``finding`` is the known stistools 1.4
defect that makes the wrapper build something else; the test module marks
those cases as strict xfails.
"""

import json
import os
import stat
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from stischeck.wrapper_audit.hstcal_args import parse_cs0, parse_cs1, parse_cs2

__all__ = ["Case", "CASES", "run_case", "meaning", "install_fakes", "findings_table"]

PROGRAMS = {"calstis": "cs0.e", "basic2d": "cs1.e", "ocrreject": "cs2.e"}
PARSERS = {"cs0.e": parse_cs0, "cs1.e": parse_cs1, "cs2.e": parse_cs2}
LOG_ENV = "STISCHECK_AUDIT_LOG"
EXIT_ENV = "STISCHECK_AUDIT_EXIT"

_FAKE = """#!{python}
import json, os, signal, sys
with open(os.environ["{log}"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\\n")
code = os.environ.get("{exit}", "0")
if code.startswith("SIG"):
    os.kill(os.getpid(), getattr(signal, code))
sys.exit(int(code))
"""

RAW = "o8aud1010_raw.fits"
FLT = "o8aud1010_flt.fits"
CRJ = "o8aud1010_crj.fits"
CS1_ON = ("-dqi", "-blev", "-dopp", "-lors", "-glin", "-lflg", "-bias", "-dark", "-flat", "-phot")


@dataclass(frozen=True)
class Case:
    """One wrapper call and the cs0.e/cs1.e/cs2.e command line it should give."""

    id: str
    wrapper: str  # "calstis", "basic2d" or "ocrreject"
    kwargs: dict
    should: object  # list of arguments, a parsed meaning (dict), or None: refuse, start nothing
    finding: str = ""
    raises: tuple = (AssertionError,)
    files: tuple = (RAW, FLT)
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _cs1(*, omit=(), more=(), files=(RAW, ""), stat_flag=True) -> list:
    """The cs1.e arguments of basic2d's default switches, less ``omit``, plus ``more``."""
    flags = [f for f in CS1_ON if f not in omit] + list(more)
    return [*files, *flags, *(["-stat"] if stat_flag else [])]


def _cs1_all_omit() -> dict:
    m = parse_cs1([RAW, "-dqi"])
    m["switches"] = dict.fromkeys(m["switches"], "OMIT")
    return m


_SPACE = "with space/" + RAW
_GLOB = "o8aud[1]010_raw.fits"
_SPLIT = "input is split on blanks and commas and globbed: "

CASES = [
    # --- stistools.calstis -> cs0.e
    Case("calstis-default", "calstis", {"input": RAW}, [RAW]),
    Case("calstis-verbose", "calstis", {"input": RAW, "verbose": True}, ["-v", RAW]),
    Case("calstis-timestamps", "calstis", {"input": RAW, "timestamps": True}, ["-t", RAW]),
    Case("calstis-savetmp", "calstis", {"input": RAW, "savetmp": True}, ["-s", RAW]),
    Case("calstis-outroot-dir", "calstis", {"input": RAW, "outroot": "out/"}, [RAW, "out/"]),
    Case("calstis-outroot-empty", "calstis", {"input": RAW, "outroot": ""}, [RAW]),
    Case(
        "calstis-wavecal",
        "calstis",
        {"input": RAW, "wavecal": "o8aud1010_wav.fits"},
        [RAW, "-w", "o8aud1010_wav.fits"],
    ),
    Case(
        "calstis-all-flags",
        "calstis",
        dict(input=RAW, outroot="out/", verbose=True, timestamps=True, savetmp=True, wavecal="w"),
        ["-tsv", RAW, "out/", "-w", "w"],
    ),
    Case("calstis-print-version", "calstis", {"input": RAW, "print_version": True}, ["--version"]),
    Case("calstis-print-revision", "calstis", {"input": RAW, "print_revision": True}, ["-r"]),
    Case("calstis-missing-input", "calstis", {"input": "absent_raw.fits"}, None),
    Case(
        "calstis-empty-input",
        "calstis",
        {"input": ""},
        None,
        finding="input '' returns 0 without starting cs0.e (no 'no file matched', status 0)",
    ),
    Case(
        "calstis-path-with-space",
        "calstis",
        {"input": _SPACE},
        [_SPACE],
        finding=_SPLIT + "a path with a blank never reaches cs0.e (returns 2)",
        files=(_SPACE,),
    ),
    Case(
        "calstis-name-with-brackets",
        "calstis",
        {"input": _GLOB},
        [_GLOB],
        finding=_SPLIT + "a file name with [ ] does not match itself (returns 2)",
        files=(_GLOB,),
    ),
    # --- stistools.basic2d -> cs1.e
    Case("basic2d-default", "basic2d", {"input": RAW}, _cs1()),
    *[
        Case(f"basic2d-{sw}-omit", "basic2d", {"input": RAW, sw: "omit"}, _cs1(omit=(flag,)))
        for sw, flag in [
            ("dqicorr", "-dqi"),
            ("blevcorr", "-blev"),
            ("doppcorr", "-dopp"),
            ("lorscorr", "-lors"),
            ("glincorr", "-glin"),
            ("lflgcorr", "-lflg"),
            ("biascorr", "-bias"),
            ("darkcorr", "-dark"),
            ("flatcorr", "-flat"),
            ("photcorr", "-phot"),
        ]
    ],
    Case(
        "basic2d-statflag-false",
        "basic2d",
        {"input": RAW, "statflag": False},
        _cs1(stat_flag=False),
    ),
    Case(
        "basic2d-atodcorr-perform",
        "basic2d",
        {"input": RAW, "atodcorr": "perform"},
        _cs1(more=("-atod",)),
        finding="basic2d never passes -atod (cs1.e accepts it): atodcorr='perform' is ignored",
    ),
    Case(
        "basic2d-shadcorr-perform",
        "basic2d",
        {"input": RAW, "shadcorr": "perform"},
        _cs1(more=("-shad",)),
        finding="basic2d never passes -shad (cs1.e accepts it): shadcorr='perform' is ignored",
    ),
    Case(
        "basic2d-all-omit",
        "basic2d",
        dict(
            {"input": RAW, "statflag": False},
            **{
                sw: "omit"
                for sw in (
                    "dqicorr blevcorr doppcorr lorscorr glincorr lflgcorr biascorr darkcorr "
                    "flatcorr photcorr"
                ).split()
            },
        ),
        _cs1_all_omit(),
        finding="every switch omit: no switch option on the command line, so cs1.e falls "
        "back to its defaults and performs every step but ATODCORR and SHADCORR",
    ),
    Case(
        "basic2d-uppercase-perform",
        "basic2d",
        {"input": RAW, "dqicorr": "PERFORM"},
        _cs1(),
        finding="switch values are compared with 'perform' case-sensitively: 'PERFORM' "
        "(the header spelling) silently means omit",
    ),
    Case(
        "basic2d-darkscale",
        "basic2d",
        {"input": RAW, "darkscale": "1.5"},
        ["-dscl", "1.5", *_cs1()],
    ),
    Case(
        "basic2d-darkscale-per-imset",
        "basic2d",
        {"input": RAW, "darkscale": "0.9 1.1"},
        ["-dscl", "0.9 1.1", *_cs1()],
    ),
    Case("basic2d-output", "basic2d", {"input": RAW, "output": FLT}, _cs1(files=(RAW, FLT))),
    Case(
        "basic2d-output-outblev",
        "basic2d",
        {"input": RAW, "output": FLT, "outblev": "blev.txt"},
        _cs1(files=(RAW, FLT, "blev.txt")),
    ),
    Case(
        "basic2d-outblev-without-output",
        "basic2d",
        {"input": RAW, "outblev": "blev.txt"},
        {**parse_cs1(_cs1(files=(RAW, "", "blev.txt"))), "output": "", "outblev": "blev.txt"},
        finding="outblev without output: the wrapper passes '' then the outblev name, and "
        "cs1.e (an empty argument leaves its slot empty) takes that name as the OUTPUT file "
        "(live cs1.e of hstcal 3.5.0 then dies of SIGSEGV)",
    ),
    Case(
        "basic2d-verbose-timestamps",
        "basic2d",
        {"input": RAW, "verbose": True, "timestamps": True},
        ["-v", "-t", *_cs1()],
    ),
    Case(
        "basic2d-path-with-space",
        "basic2d",
        {"input": _SPACE},
        _cs1(files=(_SPACE, "")),
        finding=_SPLIT + "a path with a blank never reaches cs1.e (returns 2)",
        files=(_SPACE,),
    ),
    Case("basic2d-print-version", "basic2d", {"input": RAW, "print_version": True}, ["--version"]),
    Case("basic2d-print-revision", "basic2d", {"input": RAW, "print_revision": True}, ["-r"]),
    # --- stistools.ocrreject -> cs2.e
    Case("ocrreject-default", "ocrreject", {"input": FLT, "output": CRJ}, [FLT, CRJ]),
    Case(
        "ocrreject-crradius-zero",
        "ocrreject",
        {"input": FLT, "output": CRJ, "crradius": 0},
        [FLT, CRJ, "-radius", "0"],
        finding="crradius=0 dropped by `if crradius:` (stistools #163 / PR #164 fixed "
        "crthresh=0 and badinpdq=0 only); the CRREJTAB radius is used instead",
    ),
    Case(
        "ocrreject-crradius-zero-float",
        "ocrreject",
        {"input": FLT, "output": CRJ, "crradius": 0.0},
        [FLT, CRJ, "-radius", "0"],
        finding="crradius=0.0 dropped by `if crradius:`, as crradius=0",
    ),
    Case(
        "ocrreject-crradius",
        "ocrreject",
        {"input": FLT, "output": CRJ, "crradius": 1.5},
        [FLT, CRJ, "-radius", "1.5"],
    ),
    Case(
        "ocrreject-crthresh-zero",
        "ocrreject",
        {"input": FLT, "output": CRJ, "crthresh": 0},
        [FLT, CRJ, "-thresh", "0"],
    ),
    Case(
        "ocrreject-crthresh",
        "ocrreject",
        {"input": FLT, "output": CRJ, "crthresh": 0.8},
        [FLT, CRJ, "-thresh", "0.8"],
    ),
    Case(
        "ocrreject-badinpdq-zero",
        "ocrreject",
        {"input": FLT, "output": CRJ, "badinpdq": 0},
        [FLT, CRJ, "-pdq", "0"],
    ),
    Case(
        "ocrreject-badinpdq-max",
        "ocrreject",
        {"input": FLT, "output": CRJ, "badinpdq": 32767},
        [FLT, CRJ, "-pdq", "32767"],
    ),
    Case(
        "ocrreject-text-options",
        "ocrreject",
        dict(
            input=FLT,
            output=CRJ,
            crrejtab="crr.fits",
            scalense="0",
            initgues="med",
            skysub="mode",
            crsigmas="4,3",
            crmask="yes",
        ),
        [FLT, CRJ, "-table", "crr.fits", "-scale", "0", "-init", "med", "-sky", "mode"]
        + ["-sigmas", "4,3", "-crmask", "yes"],
    ),
    Case(
        "ocrreject-crmask-no",
        "ocrreject",
        {"input": FLT, "output": CRJ, "crmask": "no"},
        [FLT, CRJ, "-crmask", "no"],
    ),
    Case(
        "ocrreject-scalense-number",
        "ocrreject",
        {"input": FLT, "output": CRJ, "scalense": 10.0},
        [FLT, CRJ, "-scale", "10"],
        finding="scalense given as a number (as CRREJTAB holds it) is put into the argument "
        "list unconverted: subprocess raises TypeError",
        raises=(AssertionError, TypeError),
    ),
    Case(
        "ocrreject-print-version",
        "ocrreject",
        {"input": FLT, "output": CRJ, "print_version": True},
        ["--version"],
    ),
    Case(
        "ocrreject-verbose-timestamps",
        "ocrreject",
        {"input": FLT, "output": CRJ, "verbose": True, "timestamps": True},
        [FLT, CRJ, "-v", "-t"],
    ),
]


def install_fakes(bindir: Path) -> Path:
    """Write recording ``cs0.e``, ``cs1.e``, ``cs2.e`` into ``bindir``; returns ``bindir``."""
    bindir.mkdir(parents=True, exist_ok=True)
    text = _FAKE.replace("{python}", sys.executable).replace("{log}", LOG_ENV)
    text = text.replace("{exit}", EXIT_ENV)
    for name in PROGRAMS.values():
        path = bindir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bindir


def wrapper_function(name: str):
    """The stistools function ``name`` (imported with stsci.tools' import warnings silenced)."""
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = importlib.import_module(f"stistools.{name}")
    return getattr(module, name)


def run_case(case: Case, folder: Path, *, exit_code: str = "0") -> tuple:
    """
    Call the case's wrapper in ``folder`` with the fakes first on PATH.

    Changes the working directory and PATH for the call only. Returns
    ``(returned, calls)``: the wrapper's return value and the argument
    vectors (program name first) the fakes recorded, in order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bindir = install_fakes(folder / "_fakebin")
    log = folder / "_calls.jsonl"
    log.write_text("")
    for name in case.files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")
    function = wrapper_function(case.wrapper)
    saved = {k: os.environ.get(k) for k in ("PATH", LOG_ENV, EXIT_ENV)}
    cwd = Path.cwd()
    os.environ["PATH"] = f"{bindir}{os.pathsep}{saved['PATH'] or ''}"
    os.environ[LOG_ENV] = str(log)
    os.environ[EXIT_ENV] = exit_code
    try:
        os.chdir(folder)
        returned = function(**case.kwargs)
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    calls = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return returned, calls


def meaning(program: str, should) -> dict:
    """What ``program`` runs with for the ``should`` arguments (or a meaning given as a dict)."""
    return dict(should) if isinstance(should, dict) else PARSERS[program](list(should))


def check(case: Case, returned, calls) -> None:
    """Raise AssertionError, with both command lines, when the wrapper did not do what it should."""
    program = PROGRAMS[case.wrapper]
    if case.should is None:
        assert not calls, f"{case.id}: {program} started with {calls[0][1:]}; expected a refusal"
        assert returned != 0, f"{case.id}: returned {returned} without starting {program}"
        return
    assert len(calls) == 1, f"{case.id}: {program} started {len(calls)} times (returned {returned})"
    built = calls[0]
    assert built[0] == program, f"{case.id}: started {built[0]}, not {program}"
    got, want = PARSERS[program](built[1:]), meaning(program, case.should)
    assert got == want, (
        f"{case.id}: the wrapper built {built[1:]} meaning {got}; "
        f"the options should give {case.should} meaning {want}"
    )


def findings_table(folder: Path) -> str:
    """A Markdown table: every case, the command line built, the one it should be, the verdict."""
    rows = ["| case | call | built | should | verdict | finding |", "|---|---|---|---|---|---|"]
    for case in CASES:
        work = Path(folder) / case.id
        try:
            returned, calls = run_case(case, work)
            built = (
                " ".join(repr(a) for a in calls[0][1:]) if calls else f"(none; returned {returned})"
            )
            check(case, returned, calls)
            verdict = "ok" if not case.finding else "ok (finding FIXED?)"
        except AssertionError:
            verdict = "DIFFERS" if case.finding else "DIFFERS (new finding)"
        except Exception as err:  # noqa: BLE001 - a wrapper exception is a finding
            built = f"raised {type(err).__name__}: {err}"
            verdict = "RAISES" if case.finding else "RAISES (new finding)"
        args = ", ".join(f"{k}={v!r}" for k, v in case.kwargs.items())
        should = (
            "(refuse)"
            if case.should is None
            else (
                "(meaning) " + _short(case.should)
                if isinstance(case.should, dict)
                else " ".join(repr(a) for a in case.should)
            )
        )
        rows.append(
            f"| {case.id} | {case.wrapper}({args}) | {built} | {should} | {verdict} | "
            f"{case.finding} |"
        )
    return "\n".join(rows) + "\n"


def _short(m: dict) -> str:
    if "switches" in m:
        on = [k for k, v in m["switches"].items() if v == "PERFORM"]
        return f"input={m.get('input')!r} output={m.get('output')!r} PERFORM={on or 'none'}"
    return str(m)
