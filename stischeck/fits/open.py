"""The harness's own FITS opening: astropy, with one-line errors naming the file.

The comparator, the run checks and the report read products here, never
through `reference_impl`'s reader: a bug in the contestant's reader must not
make the reference's products and calstis's look alike to the judge.
"""

import gzip
import io
import warnings
import zlib
from pathlib import Path

__all__ = [
    "open_fits",
    "open_fits_with_stored_headers",
    "read_file_bytes",
    "read_leading_blocks",
    "is_gzipped",
    "check_readable_path",
    "BLOCK",
]

#: Bytes in a FITS block (FITS 4.0 section 3.1).
BLOCK = 2880

_READ_ERRORS = (OSError, ValueError, TypeError, IndexError, EOFError, Warning, zlib.error)


def open_fits(path, *, error_cls, what: str = "file"):
    """
    Open a FITS file (``.fits`` or ``.fits.gz``) read-only, every HDU's data in memory.

    Parameters
    ----------
    path : str or Path
    error_cls : type
        The `StischeckError` subclass raised for a file that cannot be read.
    what : str
        What the file is, for the message (``"product"``, ``"file"``).

    Returns
    -------
    astropy.io.fits.HDUList
        Read from memory: no file handle stays open.

    Raises
    ------
    error_cls
        ``<path>: <what> not found``, ``is a directory``, ``empty file``, or
        ``not a readable FITS <what> (<reason>)`` for a non-FITS, damaged or
        truncated file (a data block shorter than its header says is an error,
        not a short array).
    """
    return _open(path, error_cls, what)[0]


def open_fits_with_stored_headers(path, *, error_cls, what: str = "file"):
    """
    `open_fits`, and each HDU's header parsed from the file's own bytes.

    astropy's HDU headers are what astropy makes of a file (it reads a primary
    ``EXTEND = F`` as True, for one); a comparator of headers needs the cards
    as they are stored. Same errors as `open_fits`.

    Returns
    -------
    (astropy.io.fits.HDUList, list of astropy.io.fits.Header)
    """
    from astropy.io import fits

    hdul, data = _open(path, error_cls, what)
    headers = []
    try:
        for index in range(len(hdul)):
            info = hdul[index].fileinfo()  # HDUList.fileinfo re-serialises every header
            text = data[info["hdrLoc"] : info["datLoc"]].decode("latin-1")
            headers.append(fits.Header.fromstring(text))
    except _READ_ERRORS as err:
        hdul.close()
        raise error_cls(f"{path}: not a readable FITS {what} ({_reason(err)})") from err
    return hdul, headers


def _reason(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def read_file_bytes(path, *, error_cls, what: str = "file") -> bytes:
    """
    The bytes of a ``.fits`` or ``.fits.gz`` file, decompressed.

    Raises
    ------
    error_cls
        One line naming the file: missing, a directory, empty, or unreadable
        (including a damaged gzip stream).
    """
    path = Path(path)
    check_readable_path(path, error_cls=error_cls, what=what)
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data
    except (OSError, EOFError, zlib.error) as err:
        raise error_cls(f"{path}: not a readable FITS {what} ({_reason(err)})") from err


_GZIP_MAGIC = b"\x1f\x8b"


def is_gzipped(path, *, error_cls, what: str = "file") -> bool:
    """
    True when the file starts with the gzip magic bytes (whatever its name says).

    Raises
    ------
    error_cls
        One line naming the file: missing, a directory, empty, or unreadable.
    """
    path = Path(path)
    check_readable_path(path, error_cls=error_cls, what=what)
    try:
        with path.open("rb") as handle:
            return handle.read(2) == _GZIP_MAGIC
    except OSError as err:
        raise error_cls(f"{path}: not a readable FITS {what} ({_reason(err)})") from err


def read_leading_blocks(path, is_last, *, error_cls, what: str = "file") -> bytes:
    """
    The first 2880-byte blocks of a ``.fits`` or ``.fits.gz`` file, to one ``is_last`` accepts.

    Reads (and decompresses) no further: the primary header of an 18 MB raw
    file without its data. A file that ends first gives what it has.

    Raises
    ------
    error_cls
        As `read_file_bytes`, for what is read.
    """
    path = Path(path)
    compressed = is_gzipped(path, error_cls=error_cls, what=what)
    blocks = []
    try:
        with path.open("rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if compressed else raw
            while True:
                block = stream.read(BLOCK)
                blocks.append(block)
                if len(block) < BLOCK or is_last(block):
                    return b"".join(blocks)
    except (OSError, EOFError, zlib.error) as err:
        raise error_cls(f"{path}: not a readable FITS {what} ({_reason(err)})") from err


def check_readable_path(path: Path, *, error_cls, what: str) -> None:
    """Raise ``error_cls`` (one line naming the file) when it is missing, a folder or empty."""
    if not path.exists():
        raise error_cls(f"{path}: {what} not found")
    if path.is_dir():
        raise error_cls(f"{path}: is a directory, not a FITS {what}")
    if path.stat().st_size == 0:
        raise error_cls(f"{path}: empty file, not a FITS {what}")


def _open(path, error_cls, what: str):
    """The HDUList read from memory, and the file's (decompressed) bytes."""
    from astropy.io import fits

    data = read_file_bytes(path, error_cls=error_cls, what=what)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*truncated.*")
            hdul = fits.open(io.BytesIO(data), memmap=False, lazy_load_hdus=False)
            for hdu in hdul:
                _ = hdu.data  # truncation is reported here, not later
    except _READ_ERRORS as err:
        raise error_cls(f"{path}: not a readable FITS {what} ({_reason(err)})") from err
    return hdul, data
