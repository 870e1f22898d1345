"""The ``stischeck`` command line.

This is the only place that catches exceptions broadly: every known failure
becomes one line on stderr (``stischeck: <file>: <problem>``) and a non-zero
exit code; ``--debug`` shows the traceback instead. Subcommands import their
heavy dependencies lazily so that start-up stays fast.
"""

import argparse
import os
import signal
import sys
from pathlib import Path

from stischeck import __version__
from stischeck.allocator import keep_freed_memory

__all__ = ["main", "build_parser", "add_command"]

# Exit codes (as astropy's fitsdiff): 0 agree/success, 1 differ, 2 bad input or tool failure.
EXIT_OK, EXIT_DIFFER, EXIT_ERROR = 0, 1, 2


#: Subcommands, in the order ``stischeck --help`` lists them: one module each in
#: ``stischeck/commands/``, each with ``HELP``, ``DESCRIPTION``, ``add_arguments(p)``
#: and ``run(args)`` (and optionally ``PARSER_CLASS``), and only light imports.
COMMANDS = ("demo", "compare", "reference", "record", "report", "diff", "synth", "batch", "info")
COMMANDS += ("probes", "trailers")  # issue 18 building blocks


def build_parser(commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    """
    Return the argument parser with the given subcommands registered.

    Parameters
    ----------
    commands : tuple of str
        Names from `COMMANDS` to register (default: all). `main` registers only
        the one named on the command line, so that a run imports no other
        subcommand's parser (``synth``'s pulls in astropy: issue 17).
    """
    parser = argparse.ArgumentParser(
        prog="stischeck",
        description="Validate the calstis 2-D CCD reduction against a numpy reference.",
    )
    parser.add_argument("--version", action="version", version=f"stischeck {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        add_command(sub, name)
    return parser


def add_command(subparsers, name: str) -> argparse.ArgumentParser:
    """
    Register subcommand ``name`` from ``stischeck/commands/<name>.py``; return its parser.

    The module's ``HELP`` and ``DESCRIPTION`` become the sub-parser's texts,
    ``add_arguments(p)`` adds its options and ``run(args)`` is what it runs.
    """
    import importlib

    module = importlib.import_module(f"stischeck.commands.{name}")
    default_class = subparsers._parser_class
    subparsers._parser_class = getattr(module, "PARSER_CLASS", default_class)
    try:
        p = subparsers.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
    finally:
        subparsers._parser_class = default_class
    module.add_arguments(p)
    p.set_defaults(func=module.run)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        # astropy ignores one that is not a folder, with a two-line warning in each worker.
        if name in os.environ and not Path(os.environ[name]).is_dir():
            del os.environ[name]
    parser = build_parser((argv[0],) if argv and argv[0] in COMMANDS else COMMANDS)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    import warnings

    previous = _install_signal_handlers()
    try:
        with warnings.catch_warnings():
            # numpy's floating-point warnings are not for the user: a real problem
            # (an overflowing header value) is the command's one-line error.
            warnings.simplefilter("ignore", RuntimeWarning)
            # astropy's notes on damaged headers: the damage is the command's one line.
            warnings.filterwarnings("ignore", module="astropy")
            return int(args.func(args))
    except BrokenPipeError as err:
        if not _stdout_closed():
            # A pipe to a worker or a child broke: a failure, never "stdout closed".
            return _report(args, err)
        # stdout closed early (e.g. piped into head): not an error of ours.
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt as err:
        _stop_children()
        signum = getattr(err, "signum", signal.SIGINT)
        name = "" if signum == signal.SIGINT else f" ({signal.Signals(signum).name})"
        print(f"stischeck: interrupted{name}", file=sys.stderr)
        return 128 + int(signum)
    except Exception as err:  # noqa: BLE001 - the one broad catch, by design
        _stop_children()
        return _report(args, err)
    finally:
        _restore_signal_handlers(previous)
        if "stischeck.runners.process" in sys.modules:
            # Everything is stopped; a next command in this process may start children.
            sys.modules["stischeck.runners.process"].reset_cancel()


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived: stop everything, say so, exit 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum, frame):  # noqa: ARG001 - the signal-handler signature
    # Kill every child first (cs0.e in its own session, the reference workers): the
    # exception then unwinds without waiting on anything still running.
    _stop_children()
    raise Interrupted(signum)


def _install_signal_handlers() -> dict:
    """SIGINT, SIGTERM and SIGHUP stop every child and end the command (main thread only)."""
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, _on_signal)
        except (ValueError, OSError):  # not the main thread: leave the handlers alone
            break
    return previous


def _restore_signal_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, OSError, TypeError):
            pass


def _stop_children() -> None:
    if "stischeck.runners.process" in sys.modules:
        sys.modules["stischeck.runners.process"].cancel_all()


def _stdout_closed() -> bool:
    """True when nobody reads our stdout any more (the reader of its pipe has gone)."""
    import select

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        pass
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _report(args, err: BaseException) -> int:
    if args.debug:
        raise err
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


#: Environment the program sets for itself and its children unless the user set it
#: (`entry`): the harness's numpy is elementwise, and OpenBLAS's worker thread only
#: spins (measured: 0.13 s of CPU per process, on the core compare's cs0.e and
#: reference worker need).
PROGRAM_ENV = {"OPENBLAS_NUM_THREADS": "1"}

#: Commands whose process ends without the interpreter's teardown (`entry`).
EXIT_WITHOUT_TEARDOWN = frozenset({"compare", "diff", "reference"})


def entry() -> None:
    """
    The ``stischeck`` program: `main`, then exit with its code.

    `PROGRAM_ENV` is set first (OpenBLAS on one thread unless the user says
    otherwise), and malloc keeps freed arrays for reuse
    (`stischeck.allocator.keep_freed_memory`: page faults were a tenth to a third
    of a reference run or a diff).
    compare, diff and reference end with ``os._exit`` once stdout and stderr
    are flushed: the teardown of an interpreter that loaded pandas and
    astropy takes 0.1-0.15 s (a tenth of a full-frame compare), and those
    commands need none of it, their files being closed and their children
    and worker pools stopped before `main` returns. Other commands (batch
    stops its cluster in an ``atexit`` handler) exit normally.
    """
    for name, value in PROGRAM_ENV.items():
        os.environ.setdefault(name, value)  # the user's own setting wins; children inherit it
    keep_freed_memory()
    argv = sys.argv[1:]
    code = main(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in EXIT_WITHOUT_TEARDOWN:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed pipe: nothing more can be said on it
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
