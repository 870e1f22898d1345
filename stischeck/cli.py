"""The ``stischeck`` command line.

This is the only place that catches exceptions broadly: every known failure
becomes one line on stderr (``stischeck: <file>: <problem>``) and a non-zero
exit code; ``--debug`` shows the traceback instead. Subcommands import their
heavy dependencies lazily so that start-up stays fast.
"""

import argparse
import sys

from stischeck import __version__

__all__ = ["main", "build_parser"]

# Exit codes (as astropy's fitsdiff): 0 agree/success, 1 differ, 2 bad input or tool failure.
EXIT_OK, EXIT_DIFFER, EXIT_ERROR = 0, 1, 2


#: Subcommands, in the order ``stischeck --help`` lists them: one module each in
#: ``stischeck/commands/``, each with ``add_parser(subparsers)`` and only light imports.
COMMANDS = ("demo", "compare", "reference", "record", "report", "synth", "batch", "info")
COMMANDS += ("probes", "trailers")  # issue 18 building blocks


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="stischeck",
        description="Validate the calstis 2-D CCD reduction against a numpy reference.",
    )
    parser.add_argument("--version", action="version", version=f"stischeck {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"stischeck.commands.{name}").add_parser(sub)
    diff = sub.add_parser(
        "diff", help="compare two calstis products (stischeck diff -h)", add_help=False
    )
    diff.add_argument("rest", nargs=argparse.REMAINDER)
    diff.set_defaults(func=_run_diff)
    return parser


def _run_diff(args) -> int:
    from stischeck.diff.command import main as diff_main

    return diff_main(args.rest)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] == "diff":
        # diff has its own parser; pass its arguments through untouched.
        args = argparse.Namespace(func=_run_diff, rest=argv[1:], debug="--debug" in argv)
    else:
        args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("stischeck: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the one broad catch, by design
        if args.debug:
            raise
        print(f"stischeck: {_one_line(err)}", file=sys.stderr)
        return getattr(err, "exit_code", EXIT_ERROR)


def _one_line(err: BaseException) -> str:
    from reference_impl.errors import ReferenceImplError
    from stischeck.errors import StischeckError

    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, (StischeckError, ReferenceImplError)):
        return text
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or text}"
    return f"internal error ({type(err).__name__}): {text}; rerun with --debug for a traceback"


if __name__ == "__main__":
    sys.exit(main())
