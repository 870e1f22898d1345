"""A temporary file for the part-a imsets of a large CR-SPLIT, read back a block of rows at a time.

calstis writes the part-a result (``_blv_tmp``) to disk and calstis2 reads
it back line by line; holding every part-a imset in memory instead costs
6 MB per full-frame imset (SCI float32 + DQ int16), 48 MB at CRSPLIT = 8.
The CR rejection reads its inputs only as blocks of rows (``sci[k][r0:r1]``,
`reference_impl.steps.crcorr`), so a `SpooledImage` can stand in for each
array: the bytes go to an unnamed temporary file (the page cache, not this
process's memory) and come back block by block. The values are the bytes
written: spooling changes no result.
"""

import os
import tempfile
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reference_impl.imset import Imset

__all__ = ["ImageSpool", "SpooledImage", "SpooledImset"]


@dataclass(frozen=True)
class SpooledImage:
    """One 2-D array in an `ImageSpool`: ``image[r0:r1]`` reads those rows (a new array).

    Attributes
    ----------
    fd : int
        The spool's file descriptor.
    offset : int
        Where the array's first byte is, bytes.
    shape : tuple of int
        ``(ny, nx)``.
    dtype : numpy.dtype
        Native byte order, as written.
    """

    fd: int
    offset: int
    shape: tuple
    dtype: np.dtype

    def __getitem__(self, rows: slice) -> NDArray:
        """Rows ``rows`` (a slice of step 1) as a new array of ``shape[1]`` columns."""
        if not isinstance(rows, slice) or rows.step not in (None, 1):
            raise TypeError("a spooled image gives blocks of rows only (image[r0:r1])")
        r0, r1, _ = rows.indices(self.shape[0])
        r1 = max(r1, r0)
        out = np.empty((r1 - r0, self.shape[1]), dtype=self.dtype)
        if out.size == 0:
            return out
        row_bytes = self.shape[1] * self.dtype.itemsize
        wanted = out.nbytes
        got = os.preadv(self.fd, [memoryview(out).cast("B")], self.offset + r0 * row_bytes)
        if got != wanted:
            raise OSError(f"spool file: read {got} of {wanted} bytes")
        return out

    def load(self) -> NDArray:
        """The whole array, in memory."""
        return self[0 : self.shape[0]]


@dataclass(frozen=True)
class SpooledImset:
    """An imset whose arrays are `SpooledImage` (or a broadcast constant, kept as is)."""

    sci: object
    err: object
    dq: object

    def load(self) -> Imset:
        """The imset in memory (new arrays; a broadcast ERR stays broadcast)."""
        return Imset(*(_load(a) for a in (self.sci, self.err, self.dq)))


def _load(array):
    return array.load() if isinstance(array, SpooledImage) else array


class ImageSpool:
    """
    An unnamed temporary file that images are appended to and read back from.

    Use as a context manager; the file (already unlinked) goes when it is
    closed. ``directory`` defaults to `tempfile`'s (``$TMPDIR``).
    """

    def __init__(self, directory=None):
        self._file = tempfile.TemporaryFile(dir=directory)
        self._end = 0

    def __enter__(self) -> "ImageSpool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Delete the file; spooled images of it can no longer be read."""
        self._file.close()

    def put(self, array: NDArray):
        """Append a 2-D array; its `SpooledImage`. A broadcast constant is returned as is."""
        if 0 in array.strides:
            return array  # takes no memory: nothing to gain by writing it out
        data = np.ascontiguousarray(array)
        written = os.pwrite(self._file.fileno(), memoryview(data).cast("B"), self._end)
        if written != data.nbytes:
            raise OSError(f"spool file: wrote {written} of {data.nbytes} bytes")
        image = SpooledImage(self._file.fileno(), self._end, data.shape, data.dtype)
        self._end += data.nbytes
        return image

    def put_imset(self, imset: Imset) -> SpooledImset:
        """Append SCI, ERR and DQ; the `SpooledImset` that reads them back."""
        return SpooledImset(self.put(imset.sci), self.put(imset.err), self.put(imset.dq))
