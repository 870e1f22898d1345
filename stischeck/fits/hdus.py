"""Every HDU of a FITS file as the comparator sees it.

HDUs are keyed by (EXTNAME, EXTVER), null extensions expanded, headers as the
file stores them.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stischeck.errors import InputFileError

__all__ = ["HduView", "read_hdus", "null_data"]

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
    header : astropy.io.fits.Header
    data : ndarray or None
        Native byte order; a null extension (NAXIS = 0 with PIXVALUE and
        NPIX1/NPIX2) is expanded to its constant array.
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

    Image data without scaling (every calstis product) are read straight into
    numpy; a file with scaled data (BSCALE/BZERO: raw files) or tables is read
    through astropy, whose unsigned-integer convention the comparison then sees.

    Raises
    ------
    InputFileError
        Missing, unreadable, truncated or non-FITS file; duplicated (EXTNAME, EXTVER).
    """
    path = Path(path)
    views = _read_with_astropy(path)
    seen = set()
    for view in views:
        if view.key in seen:
            raise InputFileError(f"{path}: extension ({view.extname}, {view.extver}) appears twice")
        seen.add(view.key)
    return views


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
                data = np.asarray(data)
                if data.dtype.byteorder == ">":
                    data = data.astype(data.dtype.newbyteorder("="))
            views.append(HduView(extname, extver, header, data, bitpix, null, is_table=is_table))
    return views
