"""``stischeck probes``: run the known-issue probes against one or more cs0.e builds."""

import sys

__all__ = ["HELP", "DESCRIPTION", "add_arguments", "run"]


HELP = "run a synthetic reproducer of each known calstis issue against cs0.e builds"
DESCRIPTION = (
    "Run a seeded synthetic reproducer of each known calstis 2-D CCD issue "
    "through each cs0.e build and say per build: still present, fixed, crashes, fails or "
    "could not run. Exit 0 when every probe ran, 2 when one could not run."
)


def add_arguments(p) -> None:
    """Register ``probes``'s arguments on its subparser ``p``."""
    p.add_argument(
        "--calstis",
        metavar="PATH",
        action="append",
        help="a cs0.e to probe (repeatable; default: --calstis of stischeck info: "
        "$STISCHECK_CALSTIS, then PATH)",
    )
    p.add_argument(
        "--probe",
        metavar="NAME",
        action="append",
        help="run only this probe (repeatable; default all)",
    )
    p.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="seconds before a hung cs0.e is killed (default 300)")  # fmt: skip
    p.add_argument(
        "--outdir",
        metavar="DIR",
        help="write probes.csv and probes.html there, and keep every run in DIR/runs/ "
        "(default: runs in a temporary folder, removed after)",
    )


def _builds(paths) -> list:
    from pathlib import Path

    from stischeck import environment
    from stischeck.errors import CalstisError

    if not paths:
        found, source = environment.find_calstis(None)
        if found is None:
            raise CalstisError(f"cs0.e: {source}; give --calstis PATH")
        return [Path(found)]
    out = []
    for text in paths:
        path = Path(text)
        if not path.is_file():
            raise CalstisError(f"{path}: cs0.e not found")
        out.append(path)
    return out


def run(args) -> int:
    """Print the probe table; write ``probes.csv``/``probes.html`` with ``--outdir``."""
    import tempfile
    from pathlib import Path

    from stischeck.probes import COULD_NOT_RUN, run_probes, select, table_text, write_csv
    from stischeck.probes.html import render_probes_html

    probes = select(args.probe or ())
    builds = _builds(args.calstis)
    if args.outdir:
        outdir = Path(args.outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        results = run_probes(probes, builds, outdir / "runs", timeout_s=args.timeout)
        write_csv(results, outdir / "probes.csv")
        (outdir / "probes.html").write_text(render_probes_html(results))
    else:
        with tempfile.TemporaryDirectory(prefix="stischeck-probes-") as tmp:
            results = run_probes(probes, builds, Path(tmp), timeout_s=args.timeout)
    sys.stdout.write(table_text(results))
    if args.outdir:
        sys.stdout.write(f"stischeck probes: wrote {outdir / 'probes.csv'} and probes.html\n")
    return 2 if any(r.status == COULD_NOT_RUN for r in results) else 0
