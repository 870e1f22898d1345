"""Exceptions raised by the reference implementation.

Every message is one line that names the file (where there is one) and the
problem, so that the command line can print it as it is.
"""

__all__ = [
    "ReferenceImplError",
    "RawInputError",
    "ReferenceFileError",
    "ShapeMismatchError",
    "NotImplementedStepError",
]


class ReferenceImplError(Exception):
    """Base class of every error the reference implementation raises on purpose."""


class RawInputError(ReferenceImplError):
    """The science (raw) input cannot be read or is not a STIS CCD exposure.

    Not `stischeck.errors.InputFileError`, the harness's own error for its inputs.
    """


class ReferenceFileError(ReferenceImplError):
    """A reference file is missing, unreadable, or does not fit the science data."""


class ShapeMismatchError(ReferenceFileError):
    """A reference array does not cover the science array pixel for pixel."""


class NotImplementedStepError(ReferenceImplError, NotImplementedError):
    """A PERFORM case the reference does not reproduce.

    FLATCORR with an LFLTFILE alone, and IMPHTTAB layouts where calstis reads
    outside its arrays (`reference_impl.steps.photcorr`); every 2-D CCD step
    itself exists.
    """
