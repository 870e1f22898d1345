"""``stischeck diff A B``: compare two calstis-style products; exit 0 agree, 1 differ, 2 cannot."""

import argparse
import sys
from pathlib import Path

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "compare two calstis products, extension by extension"
DESCRIPTION = (
    "Compare two STIS products (_flt, _crj, _raw; .fits or .fits.gz) "
    "extension by extension and imset by imset, every header card included, or two "
    "reference tables column by column. Exit 0 when they agree within the "
    "policy (default: bit for bit), 1 when they differ, 2 when they cannot be compared."
)


def add_arguments(p) -> None:
    """Register ``diff``'s arguments on its subparser ``p``."""
    p.add_argument("a", metavar="A", help="first file (e.g. the reference product)")
    p.add_argument("b", metavar="B", help="second file (e.g. calstis's product)")
    p.add_argument(
        "--policy",
        metavar="TOML",
        help="tolerance policy file; it extends the default (exact) unless it says "
        'extends = "none"',
    )
    p.add_argument("--step", default="*", help="configuration name the policy's step rules match")
    p.add_argument("--csv", metavar="FILE", help="write the tidy table of every statistic")
    p.add_argument(
        "--worst", type=int, default=10, metavar="N", help="largest differences kept per extension"
    )
    p.add_argument(
        "--detail",
        action="store_true",
        help="add histograms, ladders, NaN/inf tables and worst pixels",
    )
    p.add_argument("--quiet", action="store_true", help="print only the verdict line")
    # Also after the command (``stischeck diff A B --debug``); SUPPRESS keeps a
    # ``stischeck --debug diff`` from being reset by this parser's default.
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )


def run(args) -> int:
    """Run ``stischeck diff``; errors propagate to the CLI as one-line messages (exit 2)."""
    from stischeck.diff.policy import default_policy, load_policy
    from stischeck.diff.products import diff_products
    from stischeck.diff.summary import format_summary
    from stischeck.validate import check_fits

    for path in (args.a, args.b):
        # A damaged file: one line, the same as compare's. Tables are compared column by
        # column (reference tables; the PEAKUP table of an ACQ/PEAK file).
        check_fits(Path(path), images_only=False)
    policy = load_policy(args.policy) if args.policy else default_policy()
    result = diff_products(
        Path(args.a), Path(args.b), policy=policy, step=args.step, n_worst=args.worst
    )
    if args.csv:
        from stischeck.atomic import write_text

        # Complete or not at all: a full disk or a missing folder is one line, no half CSV.
        write_text(args.csv, result.to_frame().to_csv(index=False), what="CSV")
    text = format_summary(result, detail=args.detail)
    sys.stdout.write(text.splitlines()[0] + "\n" if args.quiet else text)
    return result.exit_code
