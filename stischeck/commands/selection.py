"""The ``--steps`` / ``--only`` / ``--switches`` options that choose the configurations.

``compare``, ``record`` and ``batch`` take the same three mutually exclusive
options; this module registers them and turns them into the keyword arguments
of `stischeck.config.configurations_for`.
"""

from stischeck.config import CALIBRATION_SWITCHES
from stischeck.errors import UsageError

__all__ = ["add_selection_options", "selection"]


def add_selection_options(parser) -> None:
    """Register ``--steps LIST``, ``--only SWITCH`` and ``--switches A,B,...`` (exclusive)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--steps",
        metavar="LIST",
        help="comma-separated subset of the ladder RAW,DQICORR,BLEVCORR,BIASCORR,CRCORR,"
        "DARKCORR,FLATCORR (,PHOTCORR for imaging that asks for it), and HEADER: the raw "
        "file's own 2-D switches",
    )
    group.add_argument(
        "--only",
        metavar="SWITCH",
        action="append",
        help="a single-switch configuration (repeatable)",
    )
    group.add_argument(
        "--switches",
        metavar="A,B,...",
        action="append",
        help="an explicit set of switches to PERFORM (repeatable)",
    )


def _names(text: str) -> list:
    """``"dqicorr, BLEVCORR,"`` -> ``["DQICORR", "BLEVCORR"]``."""
    return [s.strip().upper() for s in text.split(",") if s.strip()]


def _checked(option: str, names: list) -> list:
    """``names`` if each is a calibration switch; else a `UsageError` naming ``option``."""
    unknown = [n for n in names if n not in CALIBRATION_SWITCHES]
    if unknown:
        raise UsageError(
            f"{option}: unknown switch(es) {', '.join(unknown)}; choose from "
            f"{', '.join(CALIBRATION_SWITCHES)}"
        )
    return names


def selection(args) -> dict:
    """
    The selection options as `stischeck.config.configurations_for` keyword arguments.

    Returns
    -------
    dict
        ``steps`` (list of str or None), ``only`` (list of str or None) and
        ``switches`` (list of list of str or None), names stripped and upper-cased.
    """
    return dict(
        steps=_names(args.steps) if args.steps else None,
        only=_checked("--only", [s.strip().upper() for s in args.only]) if args.only else None,
        switches=[_checked("--switches", _names(s)) for s in args.switches]
        if args.switches
        else None,
    )
