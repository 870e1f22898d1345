"""``stischeck trailers A B``: compare two calstis trailers step by step."""

import sys

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "compare two calstis trailers step by step, after normalising run-specific text"
DESCRIPTION = (
    "Normalise two calstis trailers (.trl or .trl.gz, or cs0.e's captured "
    "output: timestamps, build identification, paths, host and user names, blanks), split "
    "them by module and step, and print per step the new warnings, vanished messages and "
    "changed numbers. Exit 0 same after normalisation, 1 differ, 2 cannot read."
)


def add_arguments(p) -> None:
    """Register ``trailers``'s arguments on its subparser ``p``."""
    p.add_argument("a", metavar="A.trl", help="the first trailer (the baseline)")
    p.add_argument("b", metavar="B.trl", help="the second trailer")


def run(args) -> int:
    """Print the differences; return 0 (same), 1 (differ)."""
    from stischeck.trailers import diff_trailers, format_diff, read_trailer

    a = read_trailer(args.a)
    b = read_trailer(args.b)
    diff = diff_trailers(a, b)
    sys.stdout.write(format_diff(diff))
    return 0 if diff.same else 1
