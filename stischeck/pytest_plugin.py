"""pytest plugin: run the STIS reference and/or calstis from another project's test suite.

Installed with stischeck (entry point ``pytest11``: ``stischeck``), so any suite
in the same environment gets, without a ``conftest.py``:

Options
    ``--stischeck-calstis PATH``  the cs0.e to test (default ``$STISCHECK_CALSTIS``, then PATH)
    ``--stischeck-truth DIR``     stored truth: a corpus (``index.json``) or one case folder
                                  (default ``$STISCHECK_CORPUS``, then ``../shared/calstis-corpus``)
    ``--stischeck-runner cs0|stistools``  how the calstis fixtures run cs0.e (default cs0)
    ``--stischeck-baseline-calstis PATH``  build A for ``stischeck_two_builds`` (default
                                  ``$STISCHECK_BASELINE_CALSTIS``)
Wrapper audit
    ``pytest --pyargs stischeck.wrapper_audit``: the stistools wrappers' command lines
    against hstcal's option parsing (`stischeck.wrapper_audit`)
Markers
    ``calstis``  skipped with "cs0.e not found (PATH, STISCHECK_CALSTIS)" when there is no cs0.e
    ``corpus``   skipped with "calstis corpus not found (...)" when there is no truth
Fixtures
    ``stischeck_calstis_path``, ``stischeck_truth_dir`` (skip when absent);
    ``stischeck_compare(raw, ...)`` (the ``stischeck compare`` run: `CompareResult`),
    ``stischeck_two_builds(raw, ...)`` (build A against build B, or reference set
    A against set B, with the reference as arbiter: `CompareResult`, its
    ``two_builds`` the A/B summary; skips without a build A),
    ``stischeck_reference(raw, ...)`` and ``stischeck_calstis(raw, ...)`` (one
    configuration on one side: a `stischeck.runners.outcome.RunOutcome`).
Assertions
    `assert_products_agree` fails with the one-screen ``stischeck diff`` summary;
    `assert_builds_identical` fails with where build B first differs from A and
    which side moved.

This module imports only pytest and the standard library at start-up: pytest
loads it in every session of the environment.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = [
    "CompareResult",
    "assert_products_agree",
    "assert_builds_identical",
    "CORPUS_SKIP_REASON",
]

#: The skip reason of ``corpus`` tests when no truth is found (the default locations).
CORPUS_SKIP_REASON = "calstis corpus not found (../shared/calstis-corpus, STISCHECK_CORPUS)"
_FOUND = pytest.StashKey[dict]()


# ---------------------------------------------------------------- options, markers, skips


def pytest_addoption(parser):
    """Register ``--stischeck-calstis`` and ``--stischeck-truth``."""
    group = parser.getgroup("stischeck", "stischeck (STIS CCD calibration checks)")
    group.addoption(
        "--stischeck-calstis",
        metavar="PATH",
        default=None,
        help="cs0.e for tests marked calstis (default $STISCHECK_CALSTIS, then PATH)",
    )
    group.addoption(
        "--stischeck-truth",
        metavar="DIR",
        default=None,
        help="stored calstis truth for tests marked corpus: a corpus folder (index.json) or a "
        "case folder (default $STISCHECK_CORPUS, then ../shared/calstis-corpus)",
    )
    group.addoption(
        "--stischeck-runner",
        choices=("cs0", "stistools"),
        default="cs0",
        help="how the calstis fixtures run cs0.e: directly (cs0, the default) or through "
        "stistools.calstis.calstis in a child process (stistools)",
    )
    group.addoption(
        "--stischeck-baseline-calstis",
        metavar="PATH",
        default=None,
        help="build A (the baseline cs0.e) for stischeck_two_builds "
        "(default $STISCHECK_BASELINE_CALSTIS)",
    )


def pytest_configure(config):
    """Register the markers; find cs0.e and the truth once (a bad option is a usage error)."""
    config.addinivalue_line(
        "markers", "calstis: needs a runnable cs0.e (--stischeck-calstis, $STISCHECK_CALSTIS, PATH)"
    )
    config.addinivalue_line(
        "markers",
        "corpus: needs stored calstis truth (--stischeck-truth, $STISCHECK_CORPUS, "
        "../shared/calstis-corpus)",
    )
    from stischeck.environment import find_calstis, find_corpus

    given = config.getoption("--stischeck-calstis", default=None)
    calstis, why = find_calstis(given)
    if given and calstis is None:
        raise pytest.UsageError(f"--stischeck-calstis {given}: not an executable file")
    if given:
        why = "--stischeck-calstis"
    truth_option = config.getoption("--stischeck-truth", default=None)
    if truth_option:
        truth = Path(truth_option)
        if not truth.is_dir():
            raise pytest.UsageError(f"--stischeck-truth {truth_option}: not a directory")
        truth, truth_why = truth.resolve(), "--stischeck-truth"
    else:
        truth, truth_why = find_corpus(), CORPUS_SKIP_REASON
    config.stash[_FOUND] = dict(
        calstis=calstis,
        calstis_skip=f"cs0.e {why}",
        calstis_source=why,
        truth=truth,
        truth_skip=truth_why if truth is None else "",
        runner=config.getoption("--stischeck-runner", default="cs0") or "cs0",
        baseline=_baseline_build(config),
    )


def _baseline_build(config):
    """Build A: ``--stischeck-baseline-calstis``, else ``$STISCHECK_BASELINE_CALSTIS``; or None."""
    given = config.getoption("--stischeck-baseline-calstis", default=None)
    value = given or os.environ.get("STISCHECK_BASELINE_CALSTIS")
    if not value:
        return None
    from stischeck.environment import find_calstis

    path, _ = find_calstis(value)  # an explicit path: the same test as for --stischeck-calstis
    if path is None:
        source = "--stischeck-baseline-calstis" if given else "STISCHECK_BASELINE_CALSTIS"
        raise pytest.UsageError(f"{source} {value}: not an executable file")
    return path


def pytest_report_header(config):
    """One line saying which cs0.e and which truth the session uses."""
    found = config.stash.get(_FOUND, None)
    if not found:
        return None
    cal = f"{found['calstis']} ({found['calstis_source']})" if found["calstis"] else "none"
    return f"stischeck: cs0.e {cal}; truth {found['truth'] or 'none'}"


def pytest_collection_modifyitems(config, items):
    """Skip ``calstis`` tests without cs0.e and ``corpus`` tests without truth, saying why."""
    found = config.stash[_FOUND]
    skips = {
        "calstis": None if found["calstis"] else pytest.mark.skip(reason=found["calstis_skip"]),
        "corpus": None if found["truth"] else pytest.mark.skip(reason=found["truth_skip"]),
    }
    for item in items:
        for marker, skip in skips.items():
            if skip is not None and marker in item.keywords:
                item.add_marker(skip)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def stischeck_calstis_path(request) -> Path:
    """The session's cs0.e (``--stischeck-calstis``, ``$STISCHECK_CALSTIS``, PATH); or skip."""
    found = request.config.stash[_FOUND]
    if found["calstis"] is None:
        pytest.skip(found["calstis_skip"])
    return found["calstis"]


@pytest.fixture(scope="session")
def stischeck_truth_dir(request) -> Path:
    """The stored truth (``--stischeck-truth``, ``$STISCHECK_CORPUS``, the corpus); or skip."""
    found = request.config.stash[_FOUND]
    if found["truth"] is None:
        pytest.skip(found["truth_skip"])
    return found["truth"]


@dataclass(frozen=True)
class CompareResult:
    """What ``stischeck_compare`` ran and found.

    Attributes
    ----------
    run : stischeck.compare.engine.CompareRun
        Runs, verdict rows and diff tables.
    summary : dict
        As ``summary.json``: ``verdict``, ``exit_code``, ``configurations``,
        ``first_divergent``, ``attribution``.
    outdir : Path
        The compare output folder (``verdicts.csv``, ``runs/`` ...).
    text : str
        The few-line summary ``stischeck compare`` prints.
    """

    run: object
    summary: dict
    outdir: Path
    text: str

    @property
    def verdict(self) -> str:
        """``"agree"``, ``"differ"`` or ``"error"``."""
        return self.summary["verdict"]

    @property
    def agree(self) -> bool:
        """True when every comparison is identical or within the policy."""
        return self.summary["verdict"] == "agree"

    @property
    def rows(self) -> list:
        """The verdict rows (dicts, as ``verdicts.csv``)."""
        return self.run.rows

    @property
    def two_builds(self) -> dict | None:
        """The A/B summary (`stischeck.compare.movement.summarize_movement`), or None."""
        return self.summary.get("two_builds")


def assert_builds_identical(result: CompareResult) -> None:
    """Fail, with where B first differs from A and which side moved, unless A and B agree.

    ``result`` is what ``stischeck_two_builds`` returned.
    """
    __tracebackhide__ = True
    ab = result.two_builds
    if ab is None:
        raise ValueError(
            "assert_builds_identical: the result has no build A (stischeck_two_builds)"
        )
    if not ab["identical"]:
        where = "\n  ".join(ab["headline"][:6])
        pytest.fail(
            f"build B differs from build A, first at {ab['first_changed']} ({ab['step']}): "
            f"{ab['movement']}\n  {where}\n  outputs: {result.outdir}",
            pytrace=False,
        )


def _policy(policy):
    from stischeck.diff.policy import default_policy, load_policy

    if policy is None:
        return default_policy()
    if isinstance(policy, (str, os.PathLike)):
        return load_policy(Path(policy))
    return policy


def _oref(raw: Path, oref, header=None, configurations=()) -> Path:
    """The reference folder by the rule of every command, its files checked; else fail in a line.

    ``oref=``, then ``$oref``, then the ``oref/`` beside the raw file, then a
    CRDS cache; every file the configurations need must be there.
    """
    __tracebackhide__ = True
    from stischeck.errors import StischeckError
    from stischeck.inputs import check_references, find_reference_folder

    try:
        folder = find_reference_folder(raw, header, oref, option="oref=")
        if header is not None:
            check_references(raw, header, list(configurations), folder)
    except StischeckError as err:
        pytest.fail(str(err), pytrace=False)
    if folder.path is None:
        pytest.fail(f"{raw}: no reference folder ({folder.origin}); pass oref=...", pytrace=False)
    return folder.path


def _plan(raw: Path, oref, truth, steps):
    """The compare service's plan, checked as ``stischeck compare`` checks it; else fail in a line.

    The raw file's schema first; then a target acquisition, another data set's
    truth, a reference file missing or damaged (`plan_comparison`) fail the
    test with that one line. A bad ``steps`` name raises `UsageError`.
    """
    __tracebackhide__ = True
    from stischeck.compare.service import plan_comparison
    from stischeck.errors import InputFileError
    from stischeck.inputs import find_reference_folder
    from stischeck.validate import check_raw

    check_raw(raw)
    try:
        plan = plan_comparison(
            raw, oref=oref, truth=truth, selection={"steps": steps}, option="oref="
        )
    except InputFileError as err:
        pytest.fail(str(err), pytrace=False)
    if plan.oref is None:
        origin = find_reference_folder(raw, plan.header, oref, option="oref=").origin
        pytest.fail(f"{raw}: no reference folder ({origin}); pass oref=...", pytrace=False)
    return plan


def _configuration(raw: Path, config, switches):
    """One Configuration: a ladder name (cumulative, as the corpus folders) or explicit switches."""
    from stischeck import config as cfg
    from stischeck.inputs import read_raw_header
    from stischeck.validate import check_raw

    check_raw(raw)
    header = read_raw_header(raw)
    if switches is not None:
        return cfg.explicit(list(switches), header)
    if isinstance(config, cfg.Configuration):
        return config
    return cfg.cumulative_sequence(header, [config])[0]


@pytest.fixture
def stischeck_compare(request, tmp_path_factory):
    """
    Factory: run ``stischeck compare`` on a data set; returns a `CompareResult`.

    The comparison is the compare service's (`stischeck.compare.service`), the
    one the CLI and batch run, with one calstis run at a time and the
    reference in the test's process.

    ``stischeck_compare(raw, oref=None, *, steps=None, truth=None, calstis=None,
    policy=None, outdir=None, timeout=600, steplocal="auto")``: ``oref`` defaults
    as in every command (``$oref``, the ``oref/`` beside the raw file, a CRDS
    cache), and every reference file needed is checked first; ``steps`` a list
    of ladder names (default the whole ladder); ``truth`` a folder of stored
    products (checked first; its manifest's switches are used, as ``compare
    --truth``); ``calstis`` None for this session's cs0.e (skips the test when
    there is none and no truth), False for reference vs truth only, or a path;
    ``policy`` a `Policy` or a TOML path; ``runner``
    ``"cs0"`` or ``"stistools"`` (default ``--stischeck-runner``; with
    ``"stistools"`` the result also holds the parity with a direct cs0.e run);
    ``baseline_calstis``, ``baseline_oref`` and ``repeat`` as ``stischeck
    compare --baseline-calstis``, ``--baseline-oref`` and ``--repeat``.
    """
    found = request.config.stash[_FOUND]

    def run(
        raw,
        oref=None,
        *,
        steps=None,
        truth=None,
        calstis=None,
        policy=None,
        outdir=None,
        timeout=DEFAULT_TIMEOUT_S,
        steplocal="auto",
        runner=None,
        baseline_calstis=None,
        baseline_oref=None,
        repeat=1,
    ) -> CompareResult:
        from stischeck.compare.service import compare_dataset

        raw = Path(raw).resolve()
        if calstis is None:
            cs0 = found["calstis"]
            if cs0 is None and truth is None:
                pytest.skip(found["calstis_skip"])
        elif calstis is False:
            cs0 = None
            if truth is None:
                raise ValueError("stischeck_compare: calstis=False needs truth=DIR")
        else:
            cs0 = Path(calstis)
        plan = _plan(raw, oref, truth, steps)
        out = (
            Path(outdir)
            if outdir
            else tmp_path_factory.mktemp(f"stischeck-compare-{plan.rootname}")
        )
        outcome = compare_dataset(
            plan,
            out,
            calstis=cs0,
            policy=_policy(policy),
            timeout_s=float(timeout),
            jobs=1,
            steplocal=steplocal,
            runner=runner or found["runner"],
            reference_processes=0,
            baseline_calstis=Path(baseline_calstis) if baseline_calstis else None,
            baseline_oref=Path(baseline_oref).resolve() if baseline_oref else None,
            repeat=int(repeat),
        )
        return CompareResult(outcome.run, outcome.summary, outcome.outdir, outcome.text)

    return run


@pytest.fixture
def stischeck_two_builds(request, stischeck_compare):
    """
    Factory: build A against build B on a data set, the reference as arbiter; a `CompareResult`.

    ``stischeck_two_builds(raw, oref=None, *, baseline=None, calstis=None,
    baseline_oref=None, steps=None, repeat=1, **compare_options)``: build A
    is ``baseline`` (default ``--stischeck-baseline-calstis`` or
    ``$STISCHECK_BASELINE_CALSTIS``; the test skips without one, unless
    ``baseline_oref`` makes it a comparison of two reference sets with one
    build), build B is ``calstis`` (default the session's cs0.e). The
    result's ``two_builds`` holds ``identical``, ``first_changed``, ``step``,
    ``movement`` and ``headline``; `assert_builds_identical` fails with them.
    For hstcal's own suite: ``pytest --stischeck-baseline-calstis
    old/cs0.e --stischeck-calstis new/cs0.e``.
    """
    found = request.config.stash[_FOUND]

    def run(raw, oref=None, *, baseline=None, calstis=None, baseline_oref=None, **options):
        build_a = baseline if baseline is not None else found["baseline"]
        if build_a is None and baseline_oref is None:
            pytest.skip("no build A: give --stischeck-baseline-calstis or "
                        "$STISCHECK_BASELINE_CALSTIS")  # fmt: skip
        if calstis is None and found["calstis"] is None:
            pytest.skip(found["calstis_skip"])
        return stischeck_compare(raw, oref, calstis=calstis, baseline_calstis=build_a,
                                 baseline_oref=baseline_oref, **options)  # fmt: skip

    return run


def _run_one(side, tmp_path_factory, raw, oref, config, switches, outdir, **calstis_kw):
    from stischeck.inputs import read_raw_header
    from stischeck.runners.outcome import prepare_input
    from stischeck.runners.reference import ReferencePool

    raw = Path(raw).resolve()
    configuration = _configuration(raw, config, switches)
    work = Path(outdir) if outdir else tmp_path_factory.mktemp(f"stischeck-{side}")
    ref_dir = _oref(raw, oref, read_raw_header(raw), [configuration])
    copy = prepare_input(raw, work, configuration.switch_dict)
    if side == "reference":
        with ReferencePool(0) as pool:
            handle = pool.submit(
                copy, ref_dir, work, configuration.performed, configuration.expects_products
            )
            return pool.result(handle, timeout_s=float("inf"))
    from stischeck.runners.stistools_wrapper import runner_function

    return runner_function(calstis_kw["runner"])(
        calstis_kw["cs0"],
        copy,
        ref_dir,
        work,
        timeout_s=calstis_kw["timeout"],
        expects_products=configuration.expects_products,
        performed=configuration.performed,
    )


@pytest.fixture
def stischeck_reference(tmp_path_factory):
    """
    Factory: calibrate a raw file with the numpy reference; returns a ``RunOutcome``.

    ``stischeck_reference(raw, oref=None, *, config="FLATCORR", switches=None,
    outdir=None)``: ``config`` a ladder name (cumulative up to that step) or a
    `Configuration`; ``switches`` an explicit list to PERFORM instead. The
    outcome's ``products`` maps ``"flt"``/``"crj"`` to files; ``status`` is
    ``"ok"``, ``"empty"`` or ``"error"`` (``message`` says why).
    """

    def run(raw, oref=None, *, config="FLATCORR", switches=None, outdir=None):
        return _run_one("reference", tmp_path_factory, raw, oref, config, switches, outdir)

    return run


@pytest.fixture
def stischeck_calstis(request, tmp_path_factory):
    """
    Factory: run this session's cs0.e on a raw file; returns a ``RunOutcome``.

    Same arguments as ``stischeck_reference`` plus ``timeout`` (seconds; the
    process group is killed after it), ``calstis`` (another cs0.e) and
    ``runner`` (``"cs0"`` or ``"stistools"``; default ``--stischeck-runner``).
    Skips the test when there is no cs0.e.
    """
    found = request.config.stash[_FOUND]

    def run(
        raw,
        oref=None,
        *,
        config="FLATCORR",
        switches=None,
        outdir=None,
        timeout=DEFAULT_TIMEOUT_S,
        calstis=None,
        runner=None,
    ):
        cs0 = Path(calstis) if calstis else found["calstis"]
        if cs0 is None:
            pytest.skip(found["calstis_skip"])
        return _run_one(
            "calstis",
            tmp_path_factory,
            raw,
            oref,
            config,
            switches,
            outdir,
            cs0=cs0,
            timeout=float(timeout),
            runner=runner or found["runner"],
        )

    return run


# ---------------------------------------------------------------- assertion


def _products(value) -> dict:
    """Suffix -> path for a path, a dict of them, or a RunOutcome."""
    products = getattr(value, "products", value)
    if isinstance(products, dict):
        return {str(k): Path(v) for k, v in products.items()}
    path = Path(products)
    suffix = path.name.split(".fits")[0].rsplit("_", 1)[-1]
    return {suffix: path}


def assert_products_agree(a, b, policy=None, *, step: str = "*") -> None:
    """
    Assert that two calstis-style products agree; else fail with the ``stischeck diff`` summary.

    Parameters
    ----------
    a, b : path-like, dict or RunOutcome
        Two product files, or two sets of them (``{"flt": path, "crj": path}``,
        e.g. ``outcome.products``), compared suffix by suffix.
    policy : Policy, path-like or None
        Tolerances (a `Policy` or a policy TOML); the exact policy by default.
    step : str
        Configuration name the policy's step patterns are matched against.

    Raises
    ------
    AssertionError
        The products differ (its message is the one-screen summary of each
        differing pair), or one side lacks a product the other has.
    """
    __tracebackhide__ = True
    from stischeck.diff.products import diff_products
    from stischeck.diff.summary import format_summary

    policy = _policy(policy)
    pa, pb = _products(a), _products(b)
    problems = []
    if pa.keys() != pb.keys() and not (len(pa) == len(pb) == 1):
        problems.append(
            f"products differ: A has {', '.join(sorted(pa)) or 'none'}, "
            f"B has {', '.join(sorted(pb)) or 'none'}"
        )
    pairs = (
        [(next(iter(pa.values())), next(iter(pb.values())))]
        if len(pa) == len(pb) == 1
        else [(pa[s], pb[s]) for s in sorted(set(pa) & set(pb))]
    )
    for path_a, path_b in pairs:
        result = diff_products(path_a, path_b, policy=policy, step=step)
        if not result.agree:
            problems.append(format_summary(result).rstrip())
    if problems:
        raise AssertionError("\n\n".join(problems))
