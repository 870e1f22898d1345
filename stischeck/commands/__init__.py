"""One module per command-line subcommand: ``HELP``, ``DESCRIPTION``, ``add_arguments``, ``run``.

`stischeck.cli.add_command` registers each; shared options are in `stischeck.commands.options`.
"""
