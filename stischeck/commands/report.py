"""``stischeck report DIR``: re-render the HTML report of a compare folder, running nothing."""

import sys

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "write the HTML report of a stischeck compare output folder"
DESCRIPTION = (
    "Render DIR/report.html from the tables and products a stischeck compare "
    "run left in DIR, without running calstis or the reference again. One self-contained "
    "file: verdicts first, then each configuration's images, histograms, differences and "
    "DQ bits, negative counts with pixel waterfalls, trailers and provenance."
)


def add_arguments(p) -> None:
    """Register ``report``'s arguments on its subparser ``p``."""
    p.add_argument("dir", metavar="DIR", help="the --outdir of a stischeck compare run")
    p.add_argument(
        "--pixel",
        metavar="X,Y",
        action="append",
        help="a pixel to follow through the steps (FITS, 1-based, in the final trimmed "
        "product's coordinates; repeatable)",
    )
    p.add_argument("--out", metavar="FILE", help="where to write (default DIR/report.html)")


def run(args) -> int:
    """Write the report; print its path and size; return 0."""
    from stischeck.report import write_report

    path = write_report(args.dir, pixels=args.pixel, out=args.out)
    size = path.stat().st_size / 1e6
    sys.stdout.write(f"stischeck report: wrote {path} ({size:.1f} MB)\n")
    return 0
