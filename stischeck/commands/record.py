"""``stischeck record RAW --out DIR``: live calstis products stored as truth, in corpus layout."""

import sys
from pathlib import Path

from stischeck.commands import options
from stischeck.commands.selection import add_selection_options, selection
from stischeck.inputs import REFERENCE_RULE

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "run live calstis over the configurations and store the products as truth"
DESCRIPTION = (
    "Run cs0.e over the configurations (default: the cumulative ladder "
    "DQICORR ... FLATCORR) on copies of RAW and write a truth folder laid out like the "
    "corpus (<CONFIG>/<rootname>_flt.fits.gz, _crj, trailers), with the raw file, the "
    "reference files and a manifest (versions, switches, checksums). An existing truth "
    "is replaced only with --force, which prints what changed. Reference files "
    f"(oref$name): {REFERENCE_RULE}. A target acquisition (OBSMODE ACQ, ACQ/PEAK) is not "
    "recorded unless switches are chosen."
)


def add_arguments(p) -> None:
    """Register ``record``'s arguments on its subparser ``p``."""
    p.add_argument("raw", help="STIS CCD _raw.fits[.gz] (never modified)")
    p.add_argument("--out", metavar="DIR", required=True, help="truth folder to write")
    options.add_oref_option(p)
    options.add_calstis_option(p)
    add_selection_options(p)
    options.add_runner_option(p)
    options.add_timeout_option(p)
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="runs in parallel")
    p.add_argument("--force", action="store_true", help="replace an existing truth folder")


def run(args) -> int:
    """Record; print the folder and, with --force, what changed. Exit 0, or 2 on failure."""
    from stischeck.config import configurations_for
    from stischeck.environment import find_calstis
    from stischeck.errors import CalstisError
    from stischeck.inputs import (
        check_references,
        find_reference_folder,
        read_raw_header,
        refuse_target_acquisition,
    )
    from stischeck.record import record_truth
    from stischeck.validate import check_oref, check_raw

    raw = Path(args.raw)
    check_oref(Path(args.oref) if args.oref else None)
    chosen = selection(args)  # a bad --only/--steps/--switches is a usage error first
    check_raw(raw)  # one line for a damaged file, before anything runs
    header = read_raw_header(raw)
    refuse_target_acquisition(raw, header, chosen=any(chosen.values()))
    calstis, where = find_calstis(args.calstis)
    if calstis is None:
        raise CalstisError(f"cs0.e: {where}; record needs live calstis (install hstcal)")
    configurations = configurations_for(header, include_raw=False, **chosen)
    oref = find_reference_folder(raw, header, args.oref)
    check_references(raw, header, configurations, oref)
    result = record_truth(
        raw.resolve(),
        Path(args.out),
        configurations=configurations,
        calstis=calstis,
        oref=oref.path,
        timeout_s=args.timeout,
        force=args.force,
        jobs=max(1, args.jobs),
        runner=args.runner,
    )
    version = result.manifest["calstis"]["version"]
    n = sum(len(s["products"]) for s in result.manifest["steps"])
    sys.stdout.write(
        f"stischeck record: {n} products of {len(configurations)} configurations "
        f"(cs0.e {version}{', through stistools' if args.runner == 'stistools' else ''}) "
        f"in {result.out}\n"
    )
    if args.force:
        if result.changes:
            sys.stdout.write("changed against the replaced truth:\n")
            for line in result.changes:
                sys.stdout.write(f"  {line}\n")
        else:
            sys.stdout.write("no change against the replaced truth\n")
    return 0
