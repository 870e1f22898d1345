"""Options that several subcommands share, each registered by one function.

``compare``, ``record``, ``batch`` and ``reference`` take the same ``--oref``,
``--calstis``, ``--runner``, ``--policy`` and ``--timeout``; the wording of an
option's help lives here once, so that ``stischeck X -h`` says the same thing
for every X.
"""

from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = [
    "add_baseline_options",
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
