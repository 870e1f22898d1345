"""One module per command-line subcommand; each exposes ``add_parser`` and ``run``."""
