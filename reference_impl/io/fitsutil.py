"""Small FITS helpers shared by the readers: opening with clear errors, null extensions.

`FitsFile` is what the reference's own readers use: the whole file in memory,
headers parsed by astropy, image arrays taken straight from the bytes (astropy's
image-data machinery costs more than the conversion itself). `open_fits`,
`find_hdu` and `extension_data` serve code that wants astropy's HDU data.
"""

import gzip
import io
import math
import warnings
import zlib
from pathlib import Path

import numpy as np

from reference_impl.errors import InputFileError

__all__ = [
    "FitsFile",
    "open_fits",
    "extension_data",
    "find_hdu",
    "read_primary_header",
]

_BLOCK = 2880
#: FITS BITPIX -> big-endian numpy dtype of the stored values.
_BITPIX_DTYPE = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
_READ_ERRORS = (OSError, ValueError, TypeError, IndexError, EOFError, Warning, zlib.error)


def _check_path(path: Path, error_cls, what: str) -> None:
    if not path.exists():
        raise error_cls(f"{path}: {what} not found")
    if path.is_dir():
        raise error_cls(f"{path}: is a directory, not a FITS {what}")
    if path.stat().st_size == 0:
        raise error_cls(f"{path}: empty file, not a FITS {what}")


def _unreadable(path: Path, error_cls, what: str, err: BaseException):
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return error_cls(f"{path}: not a readable FITS {what} ({reason})")


def _file_bytes(path: Path) -> bytes:
    raw_bytes = path.read_bytes()
    if raw_bytes[:2] == b"\x1f\x8b":
        raw_bytes = gzip.decompress(raw_bytes)
    return raw_bytes


def _open_bytes(raw_bytes: bytes):
    from astropy.io import fits

    with warnings.catch_warnings():
        # A truncated file is an error here, not a warning and a short array.
        warnings.filterwarnings("error", message=".*truncated.*")
        # Reading from memory leaves no file handle open if astropy gives up halfway.
        return fits.open(io.BytesIO(raw_bytes), memmap=False, lazy_load_hdus=False)


def open_fits(path: Path, *, error_cls=InputFileError, what: str = "file"):
    """
    Open a FITS file (``.fits`` or ``.fits.gz``) read-only, loading data into memory.

    Raises ``error_cls`` with a one-line message naming the file for a missing
    path, a directory, an empty, truncated or non-FITS file.
    """
    path = Path(path)
    _check_path(path, error_cls, what)
    try:
        hdul = _open_bytes(_file_bytes(path))
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*truncated.*")
            for hdu in hdul:
                # Touch the data now so truncation is reported here, not later.
                _ = hdu.data
    except _READ_ERRORS as err:
        raise _unreadable(path, error_cls, what, err) from err
    return hdul


def read_primary_header(path: Path, *, error_cls=InputFileError, what: str = "file"):
    """
    Read only the primary header of a FITS file (``.fits`` or ``.fits.gz``).

    A gzipped file is decompressed only as far as the header's END card, so
    this is cheap for large reference images (calstis opens just the header to
    read PEDIGREE, too). Errors as for `open_fits`.
    """
    from astropy.io import fits

    path = Path(path)
    _check_path(path, error_cls, what)
    try:
        with path.open("rb") as raw:
            is_gzip = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if is_gzip else open
        blocks = []
        with opener(path, "rb") as f:
            while True:
                block = f.read(_BLOCK)
                if len(block) < _BLOCK:
                    raise OSError("no END card in the primary header")
                blocks.append(block)
                # END starts a card: a multiple of 80 bytes into the block.
                if any(block[k : k + 8] == b"END     " for k in range(0, _BLOCK, 80)):
                    break
        text = b"".join(blocks).decode("ascii")
        if not text.startswith("SIMPLE  "):
            raise OSError("no SIMPLE card: not a FITS file")
        return fits.Header.fromstring(text)
    except (*_READ_ERRORS, UnicodeDecodeError) as err:
        raise _unreadable(path, error_cls, what, err) from err


_END_CARD = b"END" + b" " * 77


def _data_offsets(raw_bytes: bytes, headers: list) -> list[int]:
    """Byte offset of each HDU's data, walking the 2880-byte blocks of the file.

    A header ends at its END card (on an 80-byte card boundary); the data
    follow on the next block boundary and take ``|BITPIX|/8 * GCOUNT *
    (PCOUNT + NAXIS1 * ... * NAXISn)`` bytes, padded to whole blocks (FITS 4.0
    sections 4.4.1 and 7). Raises OSError if the file ends early.
    """
    offsets = []
    start = 0
    for k, header in enumerate(headers):
        end = raw_bytes.find(_END_CARD, start)
        while end >= 0 and (end - start) % 80:
            end = raw_bytes.find(_END_CARD, end + 1)
        if end < 0:
            raise OSError(f"file truncated: no END card in HDU {k}")
        data_start = start + -(-(end + 80 - start) // _BLOCK) * _BLOCK
        naxis = int(header.get("NAXIS", 0))
        axes = [int(header[f"NAXIS{i}"]) for i in range(1, naxis + 1)]
        if header.get("GROUPS") is True and axes and axes[0] == 0:
            axes = axes[1:]  # random groups: NAXIS1 = 0 is not a dimension
        n_values = math.prod(axes) if axes else 0
        size = (
            abs(int(header.get("BITPIX", 8)))
            // 8
            * int(header.get("GCOUNT", 1))
            * (int(header.get("PCOUNT", 0)) + n_values)
        )
        if data_start + size > len(raw_bytes):
            raise OSError(f"file truncated: HDU {k} data end past the end of the file")
        offsets.append(data_start)
        start = data_start + -(-size // _BLOCK) * _BLOCK
    return offsets


class FitsFile:
    """
    A FITS file read whole into memory: astropy headers, image arrays from the bytes.

    Use as a context manager. ``hdul`` is the astropy HDU list (headers, and
    table data through astropy); `image` returns an image extension's array.

    Parameters
    ----------
    path : Path
        ``.fits`` or ``.fits.gz``.
    error_cls : type
        Exception raised, with a one-line message naming the file, for a
        missing, empty, truncated or non-FITS file.
    what : str
        What the file is, for messages ("raw file", "bias image").
    """

    def __init__(self, path: Path, *, error_cls=InputFileError, what: str = "file"):
        self.path = Path(path)
        self._error_cls, self._what = error_cls, what
        _check_path(self.path, error_cls, what)
        try:
            self._bytes = _file_bytes(self.path)
            self.hdul = _open_bytes(self._bytes)
            self._data_offsets = _data_offsets(self._bytes, [hdu.header for hdu in self.hdul])
        except _READ_ERRORS as err:
            raise _unreadable(self.path, error_cls, what, err) from err
        self._index = {}
        for k, hdu in enumerate(self.hdul):
            if k == 0:
                continue
            key = (
                str(hdu.header.get("EXTNAME", "")).strip().upper(),
                int(hdu.header.get("EXTVER", 1)),
            )
            self._index.setdefault(key, k)  # the first match, as find_hdu

    def __enter__(self) -> "FitsFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the HDU list."""
        self.hdul.close()

    def find(self, extname: str, extver: int) -> int | None:
        """Index of the HDU with (EXTNAME, EXTVER), or None."""
        return self._index.get((extname, extver))

    def image(self, index: int, dtype) -> np.ndarray:
        """
        Return an image HDU's array as ``dtype`` (native byte order, a new array).

        A null extension (``NAXIS = 0``, or an axis of length 0) stands for a
        constant ``PIXVALUE`` over ``NPIX1`` x ``NPIX2`` pixels (hstio
        ``getFloatData``/``getShortData``). ``BSCALE``/``BZERO`` are applied in
        double and the result rounded to ``dtype``, as cfitsio does for hstio;
        integer data with ``BSCALE = 1`` and an integral ``BZERO`` (raw SCI:
        uint16 stored as int16 with ``BZERO = 32768``) converts exactly in
        float32, and is done so directly. ``BLANK`` is ignored: hstio reads
        with a null value of 0, which turns cfitsio's undefined-pixel check
        off, so a BLANK pixel is scaled like any other (astropy would give NaN
        when scaling).
        """
        from astropy.io import fits

        hdu = self.hdul[index]
        if type(hdu) not in (fits.PrimaryHDU, fits.ImageHDU):
            return extension_data(hdu, dtype)  # e.g. tile-compressed: astropy decodes it
        header = hdu.header
        naxis = int(header.get("NAXIS", 0))
        shape = tuple(int(header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))
        if naxis == 0 or 0 in shape:
            shape = (int(header.get("NPIX2", 0)), int(header.get("NPIX1", 0)))
            value = header.get("PIXVALUE", 0)
            if value == 0 and not np.signbit(value):
                return np.zeros(shape, dtype=dtype)
            return np.full(shape, value, dtype=dtype)
        try:
            stored = np.dtype(_BITPIX_DTYPE[int(header["BITPIX"])])
        except KeyError as err:
            raise self._error_cls(
                f"{self.path}: BITPIX = {header.get('BITPIX')} in HDU {index}; not a FITS image"
            ) from err
        raw = np.frombuffer(
            self._bytes, dtype=stored, count=math.prod(shape), offset=self._data_offsets[index]
        ).reshape(shape)
        dtype = np.dtype(dtype)
        bscale = float(header.get("BSCALE", 1.0))
        bzero = float(header.get("BZERO", 0.0))
        if bscale == 1.0 and bzero == 0.0:
            return raw.astype(dtype)
        if (
            bscale == 1.0
            and bzero.is_integer()
            and abs(bzero) <= 2**23
            and stored.itemsize <= 2
            and dtype == np.float32
        ):
            # |value| < 2**24: every value is an exact float32, as in double.
            return np.add(raw, np.float32(bzero), dtype=np.float32)
        scaled = raw.astype(np.float64)
        if bscale != 1.0:
            scaled *= bscale
        if bzero != 0.0:
            scaled += bzero
        return scaled.astype(dtype)


def find_hdu(hdul, extname: str, extver: int):
    """Return the HDU with (EXTNAME, EXTVER), or None."""
    for hdu in hdul[1:]:
        if (
            str(hdu.header.get("EXTNAME", "")).strip().upper() == extname
            and int(hdu.header.get("EXTVER", 1)) == extver
        ):
            return hdu
    return None


def extension_data(hdu, dtype) -> np.ndarray:
    """
    Return an extension's array, expanding an HST null extension.

    A null extension has ``NAXIS = 0`` and stands for a constant ``PIXVALUE``
    over ``NPIX1`` x ``NPIX2`` pixels (hstio ``getFloatData``/``getShortData``).
    """
    header = hdu.header
    if hdu.data is None or header.get("NAXIS", 0) == 0:
        npix1 = int(header.get("NPIX1", 0))
        npix2 = int(header.get("NPIX2", 0))
        value = header.get("PIXVALUE", 0)
        return np.full((npix2, npix1), value, dtype=dtype)
    return np.asarray(hdu.data).astype(dtype)
