"""The unit of data every step works on: one SCI/ERR/DQ triple."""

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from reference_impl.errors import ShapeMismatchError

__all__ = ["Imset", "no_err", "readonly_view", "require_same_shape"]


class Imset(NamedTuple):
    """One STIS image set.

    Attributes
    ----------
    sci : ndarray of float32, shape (ny, nx)
        Science array in DN.
    err : ndarray of float32, shape (ny, nx)
        Uncertainty array in DN.
    dq : ndarray of int16, shape (ny, nx)
        Data-quality bits (see ``reference_impl.dqflags``).
    """

    sci: NDArray[np.float32]
    err: NDArray[np.float32]
    dq: NDArray[np.int16]

    @property
    def shape(self) -> tuple[int, int]:
        """Shape ``(ny, nx)`` of the arrays."""
        return self.sci.shape

    def copy(self) -> "Imset":
        """Return an Imset with copies of the three arrays."""
        return Imset(self.sci.copy(), self.err.copy(), self.dq.copy())


def require_same_shape(science: NDArray, reference: NDArray, *, what: str) -> None:
    """Raise ShapeMismatchError unless two arrays have the same shape.

    Parameters
    ----------
    science, reference : ndarray
        Arrays that must cover each other pixel for pixel.
    what : str
        What the reference is, for the message ("bias image").
    """
    if science.shape != reference.shape:
        raise ShapeMismatchError(
            f"{what} has shape {reference.shape[::-1]} (NAXIS1, NAXIS2), "
            f"science has {science.shape[::-1]}"
        )


def readonly_view(array: NDArray) -> NDArray:
    """A read-only view of ``array``: how a step passes an array through unchanged.

    Steps never write into their arguments and return new arrays; an array a
    step leaves as it was is returned as this view instead of a copy (a
    full-frame copy is 4 MiB), so that nobody can write into the input
    through the output either.
    """
    view = array.view()
    view.flags.writeable = False
    return view


def no_err(shape: tuple[int, int]) -> NDArray[np.float32]:
    """A stand-in ERR array of zeros that takes no memory (read-only).

    For imsets whose ERR nobody downstream reads (the part-a imsets of a CR
    rejection without an EXPSCORR ``_flt``: calstis2 combines SCI and DQ).
    """
    return np.broadcast_to(np.float32(0.0), shape)
