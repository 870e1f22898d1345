"""``stischeck batch``: not implemented yet (placeholder that says so)."""

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Register ``batch``."""
    p = subparsers.add_parser("batch", help="(not implemented yet)")
    p.add_argument("rest", nargs="*")
    p.set_defaults(func=run)


def run(args) -> int:  # noqa: ARG001 - placeholder
    """Refuse loudly: this command does not exist yet."""
    from stischeck.errors import StischeckError

    raise StischeckError("stischeck batch: not implemented yet")
