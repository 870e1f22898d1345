"""``stischeck demo``: the comparison on a bundled example, no calstis or corpus needed."""

from pathlib import Path

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run", "demo_dir"]


def demo_dir() -> Path:
    """The bundled example: a truth folder (raw, oref/, recorded calstis products)."""
    return Path(__file__).resolve().parent.parent / "data" / "demo"


HELP = "compare the reference with calstis products stored for a bundled example"
DESCRIPTION = (
    "Run stischeck compare on the example bundled with stischeck (a synthetic "
    "STIS CCD exposure and the calstis 3.5.0 products recorded for it): the reference "
    "against the stored truth, step by step, plus live calstis with --calstis or "
    "--with-calstis. Writes the tables and report.html and prints where they are."
)


def add_arguments(p) -> None:
    """Register ``demo``'s arguments on its subparser ``p``."""
    p.add_argument(
        "--outdir", metavar="DIR", default="reports/demo", help="output folder (reports/demo)"
    )
    p.add_argument("--calstis", metavar="PATH", help="also run this cs0.e (three-way)")
    p.add_argument(
        "--with-calstis",
        action="store_true",
        help="also run cs0.e from $STISCHECK_CALSTIS or PATH (three-way)",
    )
    p.add_argument("--no-html", action="store_true", help="write the CSV tables only")


def run(args) -> int:
    """Run the comparison on the bundled example; exit as compare does (0, 1, 2)."""
    from stischeck.commands import compare
    from stischeck.errors import InputFileError
    from stischeck.truth import load_truth

    data = demo_dir()
    truth = load_truth(data)
    raw = data / truth.manifest.get("raw", {}).get("file", "")
    if not truth.manifest or not raw.is_file():
        raise InputFileError(f"{data}: the bundled demo data are missing (reinstall stischeck)")
    argv = [str(raw), "--oref", str(data / "oref"), "--truth", str(data)]
    argv += ["--outdir", args.outdir]
    if args.calstis:
        argv += ["--calstis", args.calstis]
    elif not args.with_calstis:
        argv += ["--no-calstis"]
    if args.no_html:
        argv += ["--no-html"]
    parser = _compare_parser()
    return compare.run(parser.parse_args(argv))


def _compare_parser():
    """The ``compare`` sub-parser alone, to parse the arguments `run` builds."""
    import argparse

    from stischeck.cli import add_command

    return add_command(argparse.ArgumentParser(prog="stischeck").add_subparsers(), "compare")
