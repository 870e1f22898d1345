"""Options that several subcommands share, each registered by one function.

``compare``, ``record``, ``batch`` and ``reference`` take the same ``--oref``,
``--calstis``, ``--runner``, ``--policy`` and ``--timeout``; the wording of an
option's help lives here once, so that ``stischeck X -h`` says the same thing
for every X.
"""

from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = [
    "add_baseline_options",
    "baseline_settings",
    "add_calstis_option",
    "add_comparison_options",
    "add_oref_option",
    "add_policy_option",
    "add_runner_option",
    "add_timeout_option",
]

#: Where ``--oref`` is looked for when it is not given (one raw file).
OREF_DEFAULT = "$oref, then oref/ beside RAW, then $CRDS_PATH/references/hst/"


def add_oref_option(parser, help: str | None = None) -> None:
    """Register ``--oref DIR`` (the folder of ``oref$`` reference files)."""
    parser.add_argument(
        "--oref",
        metavar="DIR",
        help=help or f"folder of oref$ reference files (default: {OREF_DEFAULT})",
    )


def add_calstis_option(parser, help: str = "cs0.e (default $STISCHECK_CALSTIS, PATH)") -> None:
    """Register ``--calstis PATH`` (the cs0.e to run)."""
    parser.add_argument("--calstis", metavar="PATH", help=help)


def add_runner_option(parser) -> None:
    """Register ``--runner cs0|stistools`` (default ``cs0``)."""
    parser.add_argument(
        "--runner",
        choices=("cs0", "stistools"),
        default="cs0",
        help="how calstis is run: cs0 (cs0.e directly, the default) or stistools "
        "(through stistools.calstis.calstis in a child process, as the STScI notebooks do)",
    )


def add_policy_option(parser, help: str = "tolerance policy (default: exact)") -> None:
    """Register ``--policy TOML`` (a tolerance policy file)."""
    parser.add_argument("--policy", metavar="TOML", help=help)


def add_timeout_option(
    parser, help: str = "seconds each run may take before it is killed (default %(default)g)"
) -> None:
    """Register ``--timeout S`` (seconds a run may take; default `DEFAULT_TIMEOUT_S`)."""
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S", help=help)


def add_comparison_options(parser) -> None:
    """
    Register what ``compare`` and ``batch`` both take about how a comparison runs.

    ``--calstis``, ``--no-calstis``, the configuration selection (``--steps``,
    ``--only``, ``--switches``), ``--runner``, ``--policy``, ``--timeout``,
    ``--steplocal``, and the two-build options ``--baseline-calstis``,
    ``--baseline-oref`` and ``--repeat``.
    """
    from stischeck.commands.selection import add_selection_options

    add_calstis_option(parser)
    parser.add_argument(
        "--no-calstis",
        action="store_true",
        help="do not run calstis (the reference against the stored truth only)",
    )
    add_selection_options(parser)
    add_runner_option(parser)
    add_policy_option(parser)
    add_timeout_option(parser)
    parser.add_argument(
        "--steplocal",
        choices=("auto", "always", "never"),
        default="auto",
        help="run each step alone on calstis's previous product, both sides (default auto: "
        "only when a cumulative configuration diverged)",
    )
    add_baseline_options(parser)


def add_baseline_options(parser) -> None:
    """Register ``--baseline-calstis``, ``--baseline-oref`` and ``--repeat N``."""
    parser.add_argument(
        "--baseline-calstis",
        metavar="PATH",
        help="build A: a second cs0.e run on the same staged inputs; --calstis is build B. "
        "Each extension is then A vs B, reference vs A, reference vs B, and which side moved",
    )
    parser.add_argument(
        "--baseline-oref",
        metavar="DIR",
        help="reference set A: calstis (build A if given) and a second reference run read it; "
        "--oref is set B. Names the reference files whose content differs",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run every calstis configuration N times (each build) and report any run whose "
        "products or exit status differ from the first (default 1: no repeat)",
    )


def baseline_settings(args, calstis) -> dict:
    """
    ``--baseline-calstis``, ``--baseline-oref`` and ``--repeat``, checked before anything runs.

    Parameters
    ----------
    args : argparse.Namespace
        With the options of `add_baseline_options` (absent ones count as not given).
    calstis : Path or None
        Build B; None without calstis.

    Returns
    -------
    dict
        ``baseline_calstis`` (Path or None, as found), ``baseline_oref``
        (absolute Path or None) and ``repeat`` (int), as `compare_dataset`
        and `BatchSettings` take them.

    Raises
    ------
    UsageError
        A baseline or ``--repeat`` without calstis, or ``--repeat`` below 1.
    CalstisError
        ``--baseline-calstis`` is not an executable file.
    InputFileError
        ``--baseline-oref`` is not a readable folder.
    """
    from pathlib import Path

    from stischeck.environment import find_calstis
    from stischeck.errors import CalstisError, UsageError
    from stischeck.validate import check_oref

    a_build = getattr(args, "baseline_calstis", None)
    a_oref = getattr(args, "baseline_oref", None)
    repeat = int(getattr(args, "repeat", 1) or 1)
    if repeat < 1:
        raise UsageError(f"--repeat: give 1 or more runs (got {repeat})")
    if calstis is None and (a_build or a_oref or repeat > 1):
        given = "--baseline-calstis" if a_build else "--baseline-oref" if a_oref else "--repeat"
        raise UsageError(f"{given} needs calstis (--calstis, $STISCHECK_CALSTIS or PATH)")
    found = None
    if a_build:
        found, where = find_calstis(a_build)
        if found is None:
            where = where.replace("--calstis", "--baseline-calstis", 1)
            raise CalstisError(f"cs0.e (build A): {where}")
    folder = Path(a_oref).resolve() if a_oref else None
    if folder is not None:
        check_oref(folder, option="--baseline-oref")
    return dict(baseline_calstis=found, baseline_oref=folder, repeat=repeat)
