"""Every HDU of a FITS file as the comparator sees it.

HDUs are keyed by (EXTNAME, EXTVER), null extensions expanded, headers as the
file stores them.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stischeck.errors import InputFileError
from stischeck.fits.cards import ends_header
from stischeck.fits.open import BLOCK

__all__ = ["HduView", "read_hdus", "null_data", "native"]

_BITPIX_DTYPES = {
    8: np.uint8,
    16: np.int16,
    32: np.int32,
    64: np.int64,
    -32: np.float32,
    -64: np.float64,
}


@dataclass(frozen=True)
class HduView:
    """One HDU as the comparator sees it.

    Attributes
    ----------
    extname : str
        ``"PRIMARY"`` for HDU 0.
    extver : int
        The imset number for SCI/ERR/DQ (0 for the primary HDU).
    header : stischeck.fits.stored_header.StoredHeader or astropy.io.fits.Header
        The cards as stored; a `StoredHeader` (each value read when asked for)
        where `_read_plain_images` read the file and every card is plain.
    data : ndarray or None
        The values. From `_read_plain_images` a read-only view of the file's
        bytes, big-endian as stored; from astropy (and a null extension, NAXIS
        = 0 with PIXVALUE and NPIX1/NPIX2, expanded to its constant array)
        native. `native` gives native values either way.
    bitpix : int
    null : bool
        True when the data came from PIXVALUE rather than stored pixels.
    is_table : bool
        A binary or ASCII table; ``data`` is then astropy's ``FITS_rec``
        (columns by name, TSCAL/TZERO applied).
    """

    extname: str
    extver: int
    header: object
    data: np.ndarray | None
    bitpix: int
    null: bool
    is_table: bool = False

    @property
    def key(self) -> tuple:
        """``(EXTNAME, EXTVER)``, the pairing key."""
        return (self.extname, self.extver)


def read_hdus(path) -> list:
    """
    Read every HDU of a ``.fits`` or ``.fits.gz`` file.

    A file of unscaled images only (every calstis product) is read by
    `_read_plain_images`: each header kept as its stored cards
    (`stischeck.fits.stored_header`), each array a view of the file's bytes.
    Any other file (scaled data, BSCALE/BZERO: raw files; tables; anything
    unusual) is read through astropy, whose unsigned-integer convention the
    comparison then sees. Both give the same values (tested).

    Raises
    ------
    InputFileError
        Missing, unreadable, truncated or non-FITS file; duplicated (EXTNAME, EXTVER).
    """
    path = Path(path)
    views = _read_plain_images(path)
    if views is None:
        views = _read_with_astropy(path)
    seen = set()
    for view in views:
        if view.key in seen:
            raise InputFileError(f"{path}: extension ({view.extname}, {view.extver}) appears twice")
        seen.add(view.key)
    return views


def native(values: np.ndarray | None) -> np.ndarray | None:
    """``values`` in native byte order: itself if it is, else a converted copy."""
    return None if values is None else values.astype(values.dtype.newbyteorder("="), copy=False)


def _names(index: int, header) -> tuple[str, int]:
    if index == 0:
        return "PRIMARY", 0
    return str(header.get("EXTNAME", f"HDU{index}")).strip().upper(), int(header.get("EXTVER", 1))


def null_data(header, dtype) -> np.ndarray | None:
    """
    The constant array an HST null extension stands for, or None when it is not one.

    A null extension has ``NAXIS = 0`` with ``PIXVALUE`` and ``NPIX1``, ``NPIX2``
    (hstio ``getFloatData``/``getShortData``); the array is (NPIX2, NPIX1) of
    ``dtype`` filled with PIXVALUE.
    """
    if "PIXVALUE" not in header or header.get("NAXIS", 0) != 0:
        return None
    shape = tuple(
        int(header[f"NPIX{k}"])
        for k in range(int(header.get("NAXIS", 0)) or 2, 0, -1)
        if f"NPIX{k}" in header
    )
    return np.full(shape, header["PIXVALUE"], dtype=dtype)


def _read_with_astropy(path: Path) -> list:
    from astropy.io import fits

    from stischeck.fits.open import open_fits_with_stored_headers

    hdul, stored = open_fits_with_stored_headers(path, error_cls=InputFileError, what="file")
    views = []
    with hdul:
        for index, hdu in enumerate(hdul):
            header = hdu.header
            extname, extver = _names(index, header)
            bitpix = int(header.get("BITPIX", 8))
            is_table = isinstance(hdu, (fits.BinTableHDU, fits.TableHDU))
            header = stored[index]  # the cards as the file stores them, not astropy's view
            data, null = hdu.data, False
            if not is_table and data is not None and data.size == 0:
                data = None  # NAXISn = 0 declares no data, as a dataless HDU holds none
            if is_table:
                if data is None:  # no rows
                    data = fits.FITS_rec.from_columns(hdu.columns, nrows=0)
            elif data is None:
                data = null_data(header, _BITPIX_DTYPES.get(bitpix, np.float32))
                null = data is not None
            else:
                data = native(np.asarray(data))
            views.append(HduView(extname, extver, header, data, bitpix, null, is_table=is_table))
    return views


def _read_plain_images(path: Path) -> list | None:
    """
    Every HDU of a file made of unscaled images only, or None for any other file.

    Several times faster than astropy's HDUList on a full-frame product (no
    astropy, headers kept as their stored cards, no copy of the file or of
    an array: each is a read-only big-endian view of the file's bytes).
    None, and the caller reads the file with
    astropy, for a table, BSCALE/BZERO, PCOUNT/GCOUNT, random groups, bytes
    after the last HDU that are not a header, or a header without END.

    Raises
    ------
    InputFileError
        A file whose data end past its end (truncated), as the astropy path says it.
    """
    import mmap

    from stischeck.fits.open import is_gzipped, read_file_bytes

    gzipped = is_gzipped(path, error_cls=InputFileError, what="file")
    try:
        if gzipped:
            return _plain_images_in(path, read_file_bytes(path, error_cls=InputFileError))
        with path.open("rb") as handle:
            # The arrays are views of the map: it is unmapped when the last goes.
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return _plain_images_in(path, mapped)
    except (OSError, ValueError):
        return None  # the astropy path reads it, or says why it cannot


def _plain_images_in(path: Path, data) -> list | None:
    """`_read_plain_images` on the file's bytes (``bytes`` or an ``mmap``)."""
    from stischeck.fits.stored_header import stored_header

    views, offset, index = [], 0, 0
    while offset < len(data):
        start = offset
        end = _header_end(data, offset)
        if end is None or data[start : start + 8] != (b"SIMPLE  " if index == 0 else b"XTENSION"):
            return None
        header = stored_header(bytes(data[start:end]).decode("latin-1"))
        shape = _plain_image_shape(header, index)
        if shape is None:
            return None
        bitpix = int(header["BITPIX"])
        count = math.prod(shape) if shape else 0
        nbytes = count * abs(bitpix) // 8
        if end + nbytes > len(data):
            raise InputFileError(
                f"{path}: not a readable FITS file "
                f"(file truncated: HDU {index} data end past the end)"
            )
        array = None
        if count:
            stored = np.dtype(_BITPIX_DTYPES[bitpix]).newbyteorder(">")
            # As stored, in place: converted by whoever needs native values (not
            # a byte-identical pair, the common verdict, which is compared as bytes).
            array = np.frombuffer(data, dtype=stored, count=count, offset=end).reshape(shape)
        extname, extver = _names(index, header)
        null = False
        if array is None:
            array = null_data(header, _BITPIX_DTYPES[bitpix])
            null = array is not None
        views.append(HduView(extname, extver, header, array, bitpix, null))
        offset = end + -(-nbytes // BLOCK) * BLOCK
        index += 1
    return views


def _header_end(data, offset: int) -> int | None:
    """The offset after the header block holding END, or None when there is none."""
    for position in range(offset, len(data), BLOCK):
        block = bytes(data[position : position + BLOCK])
        if ends_header(block):
            return position + BLOCK
        if len(block) < BLOCK:
            return None
    return None


def _plain_image_shape(header, index: int) -> tuple | None:
    """NAXISn (slowest first) of an unscaled image HDU; None for anything else."""
    if index and str(header.get("XTENSION", "")).strip().upper() != "IMAGE":
        return None
    if any(k in header for k in ("BSCALE", "BZERO", "BLANK", "GROUPS", "ZIMAGE")):
        return None
    if int(header.get("PCOUNT", 0)) != 0 or int(header.get("GCOUNT", 1)) != 1:
        return None
    bitpix = header.get("BITPIX")
    naxis = header.get("NAXIS")
    if bitpix not in _BITPIX_DTYPES or not isinstance(naxis, int) or not 0 <= naxis <= 999:
        return None
    shape = tuple(header.get(f"NAXIS{k}") for k in range(naxis, 0, -1))
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        return None
    return shape
