"""The ``--runner cs0|stistools`` option of ``compare``, ``record`` and ``batch``."""

__all__ = ["add_runner_option"]


def add_runner_option(parser) -> None:
    """Register ``--runner`` (default ``cs0``)."""
    parser.add_argument(
        "--runner",
        choices=("cs0", "stistools"),
        default="cs0",
        help="how calstis is run: cs0 (cs0.e directly, the default) or stistools "
        "(through stistools.calstis.calstis in a child process, as the STScI notebooks do)",
    )
