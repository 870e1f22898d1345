"""Errors stischeck reports as one line naming the file and the problem."""

__all__ = ["StischeckError", "InputFileError", "CalstisError", "UsageError"]


class StischeckError(Exception):
    """Base class: the command line prints the message and exits with ``exit_code``."""

    exit_code = 2


class InputFileError(StischeckError):
    """A user input (raw file, folder, option value) cannot be used."""


class CalstisError(StischeckError):
    """cs0.e is missing, failed, crashed, hung or wrote nothing."""


class UsageError(StischeckError):
    """Options that contradict each other or are missing."""
