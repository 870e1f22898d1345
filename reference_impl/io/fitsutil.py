"""Small FITS helpers shared by the readers: opening with clear errors, null extensions.

`FitsReader` is what the reference's own readers use: the file read front to
back, headers parsed by `reference_impl.io.fitsheader` (astropy's values, without
importing astropy), image arrays read straight into numpy arrays
(astropy's image-data machinery costs more than the conversion itself, and
holds the whole file). `open_fits`, `find_hdu` and `extension_data` serve code
that wants astropy's HDU data.
"""

import gzip
import io
import math
import warnings
import zlib
from pathlib import Path

import numpy as np

from reference_impl.errors import RawInputError
from reference_impl.io.fitsheader import header_from_text
from reference_impl.numerics import is_constant

__all__ = [
    "FitsHdu",
    "FitsReader",
    "StoredImage",
    "open_fits",
    "extension_data",
    "null_extension_array",
    "find_hdu",
    "read_primary_header",
    "read_table",
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


def open_fits(path: Path, *, error_cls=RawInputError, what: str = "file"):
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


def read_primary_header(path: Path, *, error_cls=RawInputError, what: str = "file"):
    """
    Read only the primary header of a FITS file (``.fits`` or ``.fits.gz``).

    A gzipped file is decompressed only as far as the header's END card, so
    this is cheap for large reference images (calstis opens just the header to
    read PEDIGREE, too). Errors as for `open_fits`.
    """
    with FitsReader(path, error_cls=error_cls, what=what) as reader:
        return reader.primary_header


class _Source:
    """Sequential bytes of a plain or gzipped file, read into caller buffers.

    Gzip members are inflated with zlib in bounded pieces straight into the
    caller's buffer (``gzip.GzipFile.readinto`` is about twice as slow), so a
    file is never held whole in memory, compressed or not.
    """

    _PIECE = 1 << 20

    def __init__(self, path: Path):
        self._file = path.open("rb")
        self._gzip = self._file.read(2) == b"\x1f\x8b"
        self._file.seek(0)
        self._inflate = zlib.decompressobj(31) if self._gzip else None
        self._tail = b""  # compressed input not yet consumed
        self._pending = memoryview(b"")  # inflated bytes not yet handed out

    def close(self) -> None:
        self._file.close()

    def _inflate_some(self, limit: int) -> bytes:
        """Up to ``limit`` more inflated bytes (b"" at the end of the file)."""
        while True:
            if self._inflate.eof:
                rest = self._inflate.unused_data + self._tail
                self._tail = b""
                if not rest:
                    rest = self._file.read(self._PIECE)
                if not rest:
                    return b""
                self._inflate = zlib.decompressobj(31)  # a further gzip member
                self._tail = rest
            if not self._tail:
                self._tail = self._file.read(self._PIECE)
                if not self._tail:
                    raise EOFError("compressed file ended before the end of its gzip stream")
            out = self._inflate.decompress(self._tail, limit)
            self._tail = self._inflate.unconsumed_tail
            if out:
                return out

    def readinto(self, buffer) -> int:
        """Fill ``buffer`` (a writable buffer) as far as the file goes; the count read."""
        view = memoryview(buffer).cast("B")
        if not self._gzip:
            return self._file.readinto(view)
        filled = 0
        while filled < len(view):
            if not len(self._pending):
                piece = self._inflate_some(min(len(view) - filled, self._PIECE))
                if not piece:
                    break
                self._pending = memoryview(piece)
            n = min(len(self._pending), len(view) - filled)
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        return filled

    def skip(self, n: int) -> int:
        """Skip ``n`` bytes; the count skipped."""
        if not self._gzip:
            here = self._file.tell()
            end = self._file.seek(0, 2)
            self._file.seek(min(here + n, end))
            return min(n, end - here)
        scratch = bytearray(min(n, self._PIECE))
        done = 0
        while done < n:
            got = self.readinto(memoryview(scratch)[: min(len(scratch), n - done)])
            if not got:
                break
            done += got
        return done


_END_CARD = b"END" + b" " * 77


def _data_size(header) -> int:
    """Bytes of an HDU's data: ``|BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1 * ... * NAXISn)``."""
    naxis = int(header.get("NAXIS", 0))
    axes = [int(header[f"NAXIS{i}"]) for i in range(1, naxis + 1)]
    if header.get("GROUPS") is True and axes and axes[0] == 0:
        axes = axes[1:]  # random groups: NAXIS1 = 0 is not a dimension
    n_values = math.prod(axes) if axes else 0
    return (
        abs(int(header.get("BITPIX", 8)))
        // 8
        * int(header.get("GCOUNT", 1))
        * (int(header.get("PCOUNT", 0)) + n_values)
    )


class FitsHdu:
    """One HDU met by a `FitsReader`: its header, and its data on request.

    The data must be taken (`image`, `table_bytes`) before the reader moves on;
    untaken data are skipped.

    Attributes
    ----------
    index : int
        Position in the file (0 = primary).
    header : reference_impl.io.fitsheader.Header
        Its cards as read; values as astropy parses them.
    key : tuple of (str, int)
        ``(EXTNAME upper-cased and stripped, EXTVER)``, EXTVER 1 when absent.
    header_text : str
        The header as stored: 80-character cards up to and including END.
    """

    def __init__(self, reader: "FitsReader", index: int, header, header_text: str = ""):
        self._reader = reader
        self.index = index
        self.header = header
        self.header_text = header_text
        self.key = (
            str(header.get("EXTNAME", "")).strip().upper(),
            int(header.get("EXTVER", 1)),
        )
        self._size = _data_size(header)
        self._unread = True

    @property
    def is_image(self) -> bool:
        """True for the primary HDU and IMAGE extensions."""
        if self.index == 0:
            return True
        return str(self.header.get("XTENSION", "")).strip() == "IMAGE"

    def _read(self, buffer) -> None:
        if not self._unread:
            raise ValueError(f"HDU {self.index} data already read")
        self._unread = False
        got = self._reader._source.readinto(buffer)
        if got < len(memoryview(buffer).cast("B")):
            raise OSError(f"file truncated: HDU {self.index} data end past the end of the file")
        self._reader._skip_padding(self._size)

    def _finish(self) -> None:
        """Skip the data if nobody took them."""
        if self._unread:
            self._unread = False
            total = self._size + (-self._size % _BLOCK)
            if self._reader._source.skip(total) < self._size:
                raise OSError(f"file truncated: HDU {self.index} data end past the end of the file")

    def _errors_named(self, err: BaseException) -> Exception:
        reader = self._reader
        return _unreadable(reader.path, reader._error_cls, reader._what, err)

    def table_bytes(self) -> bytes:
        """The data bytes as stored (tables: the rows, then any heap)."""
        buffer = bytearray(self._size)
        try:
            self._read(buffer)
        except _READ_ERRORS as err:
            raise self._errors_named(err) from err
        return bytes(buffer)

    def image(self, dtype) -> np.ndarray:
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
        when scaling). Data already in ``dtype`` (big-endian on disk) are read
        into the output array and byte-swapped in place: no second copy.
        """
        try:
            return self._image(np.dtype(dtype))
        except _READ_ERRORS as err:
            raise self._errors_named(err) from err

    def _image(self, dtype: np.dtype) -> np.ndarray:
        stored = StoredImage.header_dtype(self.header, self.index)
        if stored is not None and StoredImage.is_unscaled(self.header):
            if stored.newbyteorder("=") == dtype:
                # Read into the output itself and swap in place: no second array.
                raw = np.empty(StoredImage.header_shape(self.header), dtype=stored)
                self._read(raw)
                if not stored.isnative:
                    raw.byteswap(inplace=True)
                return raw.view(dtype)
        return self._stored().array(dtype)

    def image_blocks(self, dtype, rows: int):
        """
        Yield the image as ``(row slice, array)`` blocks of ``rows`` rows, in order.

        Each block is converted as `image` converts the whole (a new native
        array); a null extension gives its constant. For a 2-D image read
        once, a block at a time, without holding it whole.
        """
        dtype = np.dtype(dtype)
        shape = StoredImage.header_shape(self.header)
        ny = shape[0]
        try:
            stored = StoredImage.header_dtype(self.header, self.index)
            if stored is None:
                for r0 in range(0, ny, rows):
                    r1 = min(r0 + rows, ny)
                    yield slice(r0, r1), null_extension_array(self.header, dtype)[: r1 - r0]
                return
            if not self._unread:
                raise ValueError(f"HDU {self.index} data already read")
            self._unread = False
            for r0 in range(0, ny, rows):
                r1 = min(r0 + rows, ny)
                raw = np.empty((r1 - r0, *shape[1:]), dtype=stored)
                if self._reader._source.readinto(raw) < raw.nbytes:
                    raise OSError(
                        f"file truncated: HDU {self.index} data end past the end of the file"
                    )
                yield slice(r0, r1), StoredImage(self.header, raw).array(dtype)
            self._reader._skip_padding(self._size)
        except _READ_ERRORS as err:
            raise self._errors_named(err) from err

    def stored(self) -> "StoredImage":
        """The data as stored on disk (null extensions as their constant), converted later."""
        try:
            return self._stored()
        except _READ_ERRORS as err:
            raise self._errors_named(err) from err

    def _stored(self) -> "StoredImage":
        stored = StoredImage.header_dtype(self.header, self.index)
        if stored is None:
            return StoredImage(self.header, None)
        raw = np.empty(StoredImage.header_shape(self.header), dtype=stored)
        self._read(raw)
        return StoredImage(self.header, raw)


class StoredImage:
    """
    An image extension's values as stored in the file, converted on request.

    A raw SCI array is stored as 16-bit integers: kept so, it takes half the
    memory of its float32 values, which `array` computes exactly each time.

    Parameters
    ----------
    header : reference_impl.io.fitsheader.Header
        The extension header (BITPIX, NAXISn, BSCALE, BZERO, NPIXn, PIXVALUE).
    raw : ndarray or None
        The data in the file's type and byte order; None for a null extension.
    """

    def __init__(self, header, raw: np.ndarray | None):
        self.header = header
        self.raw = raw
        self.shape = raw.shape if raw is not None else self.header_shape(header)

    @staticmethod
    def header_shape(header) -> tuple[int, ...]:
        """The data's shape in numpy order; ``(NPIX2, NPIX1)`` for a null extension."""
        naxis = int(header.get("NAXIS", 0))
        shape = tuple(int(header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))
        if naxis == 0 or 0 in shape:
            return (int(header.get("NPIX2", 0)), int(header.get("NPIX1", 0)))
        return shape

    @staticmethod
    def header_dtype(header, index: int) -> np.dtype | None:
        """The stored (big-endian) dtype; None for a null extension."""
        naxis = int(header.get("NAXIS", 0))
        if naxis == 0 or 0 in (int(header[f"NAXIS{k}"]) for k in range(1, naxis + 1)):
            return None
        try:
            return np.dtype(_BITPIX_DTYPE[int(header["BITPIX"])])
        except KeyError as err:
            raise OSError(f"BITPIX = {header.get('BITPIX')} in HDU {index}") from err

    @staticmethod
    def is_unscaled(header) -> bool:
        """True when BSCALE is 1 and BZERO is 0 (or absent)."""
        return float(header.get("BSCALE", 1.0)) == 1.0 and float(header.get("BZERO", 0.0)) == 0.0

    def _exact_in_float32(self) -> bool:
        """True when ``array(np.float32)`` is ``raw + BZERO`` exactly: one-to-one, no rounding.

        16-bit (or 8-bit) integers, BSCALE 1 and an integer BZERO with
        ``|BZERO| <= 2**23``: every value is then below 2**24 in magnitude, an
        exact float32 (as in double).
        """
        bscale = float(self.header.get("BSCALE", 1.0))
        bzero = float(self.header.get("BZERO", 0.0))
        return (
            self.raw is not None
            and self.raw.dtype.itemsize <= 2
            and bscale == 1.0
            and bzero.is_integer()
            and abs(bzero) <= 2**23
        )

    def is_constant(self) -> bool:
        """True when every value is the same (a null extension is constant).

        Decided on the stored integers, without converting, where the
        conversion to float32 is exact and one-to-one.
        """
        if self.raw is None:
            return True
        if self._exact_in_float32():
            return is_constant(self.raw)
        return is_constant(self.array(np.float32))

    def array(self, dtype) -> np.ndarray:
        """The values as ``dtype``, native byte order, in a new array (see `FitsHdu.image`)."""
        dtype = np.dtype(dtype)
        header = self.header
        if self.raw is None:
            return null_extension_array(header, dtype)
        raw = self.raw
        bscale = float(header.get("BSCALE", 1.0))
        bzero = float(header.get("BZERO", 0.0))
        if bscale == 1.0 and bzero == 0.0:
            return raw.astype(dtype)
        if dtype == np.float32 and self._exact_in_float32():
            return np.add(raw, np.float32(bzero), dtype=np.float32)
        scaled = raw.astype(np.float64)
        if bscale != 1.0:
            scaled *= bscale
        if bzero != 0.0:
            scaled += bzero
        return scaled.astype(dtype)


class FitsReader:
    """
    Read a FITS file front to back: astropy parses the headers, numpy gets the data.

    ``.fits`` or ``.fits.gz``; only what is asked for is kept, and reading can
    stop early (a reference image's imset 1, a table's first extension), so no
    file is ever held whole in memory. Use as a context manager; iterate for
    the extensions, in file order.

    Parameters
    ----------
    path : Path
        The file.
    error_cls : type
        Exception raised, with a one-line message naming the file, for a
        missing, empty, truncated or non-FITS file.
    what : str
        What the file is, for messages ("raw file", "bias image").

    Attributes
    ----------
    primary_header : reference_impl.io.fitsheader.Header
        Read on opening.
    primary : FitsHdu
        The primary HDU (its data can be taken before iterating).
    """

    def __init__(self, path: Path, *, error_cls=RawInputError, what: str = "file"):
        self.path = Path(path)
        self._error_cls, self._what = error_cls, what
        _check_path(self.path, error_cls, what)
        self._source = None
        self._current = None
        self._index = 0
        try:
            self._source = _Source(self.path)
            header = self._read_header(first=True)
            if header is None:
                raise OSError("no SIMPLE card: not a FITS file")
            self.primary_header = header
            self._current = FitsHdu(self, 0, header, self._last_header_text)
            self.primary = self._current
        except (*_READ_ERRORS, UnicodeDecodeError) as err:
            self.close()
            raise _unreadable(self.path, error_cls, what, err) from err

    def __enter__(self) -> "FitsReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        if self._source is not None:
            self._source.close()
            self._source = None

    def _skip_padding(self, size: int) -> None:
        self._source.skip(-size % _BLOCK)  # a short final block is tolerated

    def _read_header(self, *, first: bool):
        """The next header, or None at the end of the file (or where no header starts)."""
        blocks = []
        while True:
            block = bytearray(_BLOCK)
            got = self._source.readinto(block)
            if got == 0 and not blocks:
                return None
            if got < _BLOCK:
                raise OSError("file truncated inside a header")
            if not blocks:
                start = bytes(block[:8])
                if first and start != b"SIMPLE  ":
                    return None
                if not first and start != b"XTENSION":
                    return None  # trailing padding or junk after the last HDU
            blocks.append(bytes(block))
            # END starts a card: a multiple of 80 bytes into the block.
            if any(block[k : k + 80] == _END_CARD for k in range(0, _BLOCK, 80)):
                break
        text = b"".join(blocks).decode("ascii")
        header = header_from_text(text)
        self._last_header_text = text
        return header

    def __iter__(self):
        """Yield each extension (`FitsHdu`), skipping data not taken."""
        try:
            while True:
                self._current._finish()
                header = self._read_header(first=False)
                if header is None:
                    return
                self._index += 1
                self._current = FitsHdu(self, self._index, header, self._last_header_text)
                yield self._current
        except (*_READ_ERRORS, UnicodeDecodeError) as err:
            raise _unreadable(self.path, self._error_cls, self._what, err) from err


_TFORM_DTYPE = {"L": "S1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}


def _binary_table_dtype(header) -> tuple[np.dtype, set] | None:
    """The row layout of a plain BINTABLE and its logical columns, or None for astropy.

    Plain means: fixed-width L, B, I, J, K, A, E, D columns and no TSCAL/TZERO
    (scaled or pseudo-unsigned columns, bit, complex and variable-length
    arrays are left to astropy).
    """
    import re

    names, formats, offsets, logical = [], [], [], set()
    offset = 0
    for k in range(1, int(header.get("TFIELDS", 0)) + 1):
        if f"TSCAL{k}" in header or f"TZERO{k}" in header:
            return None
        m = re.fullmatch(r"\s*(\d*)([A-Z])\s*", str(header.get(f"TFORM{k}", "")))
        if m is None:
            return None
        repeat, code = int(m.group(1) or 1), m.group(2)
        if code == "A":
            fmt = f"S{repeat}"
        elif code in _TFORM_DTYPE:
            fmt = (_TFORM_DTYPE[code], (repeat,)) if repeat != 1 else _TFORM_DTYPE[code]
        else:
            return None
        width = np.dtype(fmt if isinstance(fmt, str) else (fmt[0], fmt[1])).itemsize
        if repeat:
            names.append(str(header.get(f"TTYPE{k}", f"COL{k}")).strip().upper())
            if code == "L":
                logical.add(names[-1])
            formats.append(fmt)
            offsets.append(offset)
        offset += width
    if offset != int(header.get("NAXIS1", -1)) or len(set(names)) != len(names):
        return None
    layout = {"names": names, "formats": formats, "offsets": offsets, "itemsize": offset}
    return np.dtype(layout), logical


def read_table(path: Path, *, error_cls=RawInputError, what: str = "table"):
    """
    Read the first extension of a FITS table file (``.fits`` or ``.fits.gz``).

    Returns
    -------
    tuple
        ``(primary_header, table_header, columns)``: ``columns`` maps each
        column name, upper-cased, to a 1-D array (strings as ``str``, logical
        columns as ``bool``, numbers in their stored type).

    Raises
    ------
    error_cls
        For a missing or unreadable file, or one whose first extension is not a
        binary or ASCII table.
    """
    with FitsReader(path, error_cls=error_cls, what=what) as reader:
        primary = reader.primary_header
        hdu = next(iter(reader), None)
        xtension = "" if hdu is None else str(hdu.header.get("XTENSION", "")).strip()
        if xtension not in ("BINTABLE", "TABLE"):
            raise error_cls(f"{Path(path).name}: not a FITS table")
        plain = _binary_table_dtype(hdu.header) if xtension == "BINTABLE" else None
        if plain is not None:
            layout, logical = plain
            n_rows = int(hdu.header.get("NAXIS2", 0))
            data = hdu.table_bytes()
            rows = np.frombuffer(data, dtype=layout, count=n_rows)
            columns = {
                name: rows[name] == b"T" if name in logical else _plain_column(rows[name])
                for name in layout.names
            }
            return primary, hdu.header, columns
    # Anything else through astropy (rare: scaled, bit or variable-length columns).
    with open_fits(path, error_cls=error_cls, what=what) as hdul:
        table = hdul[1]
        columns = {n.upper(): np.asarray(table.data[n]) for n in table.data.columns.names}
        return hdul[0].header, table.header, {k: _plain_column(v) for k, v in columns.items()}


def _plain_column(values: np.ndarray) -> np.ndarray:
    """Native-order numbers and ``str`` for characters (a new array).

    A character cell ends at its first NUL, as the C string cfitsio hands
    calstis does: ``MODEL``, NUL padding, then a stray byte, reads ``MODEL``.
    """
    if values.dtype.kind in "SU":
        # numpy strips only trailing NULs (and a NUL separator is empty to np.char).
        text = values.astype(str)
        return np.array([v.split("\0", 1)[0] for v in text.ravel()], dtype=str).reshape(text.shape)
    return values.astype(values.dtype.newbyteorder("="))


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

    A null extension (see `null_extension_array`) gives its constant.
    """
    if hdu.data is None or hdu.header.get("NAXIS", 0) == 0:
        return null_extension_array(hdu.header, dtype)
    return np.asarray(hdu.data).astype(dtype)


def null_extension_array(header, dtype) -> np.ndarray:
    """
    Expand an HST null extension into its array.

    A null extension (``NAXIS = 0``, or an axis of length 0) stands for a
    constant ``PIXVALUE`` (default 0) over ``NPIX1`` x ``NPIX2`` pixels (hstio
    ``getFloatData``/``getShortData``).

    Parameters
    ----------
    header : reference_impl.io.fitsheader.Header
        The extension header (NPIX1, NPIX2, PIXVALUE).
    dtype : numpy dtype
        Type of the array returned.

    Returns
    -------
    ndarray, shape (NPIX2, NPIX1)
        PIXVALUE everywhere, read-only and taking no memory (one value
        broadcast): the raw ERR and DQ arrays are null extensions, and
        expanded they would hold 6.6 MB per full-frame imset that nobody
        writes (steps return new arrays).
    """
    shape = (int(header.get("NPIX2", 0)), int(header.get("NPIX1", 0)))
    return np.broadcast_to(np.asarray(header.get("PIXVALUE", 0)).astype(dtype), shape)
