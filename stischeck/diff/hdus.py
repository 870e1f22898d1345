"""Read a FITS product into HDUs keyed by (EXTNAME, EXTVER), null extensions expanded."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stischeck.errors import InputFileError

__all__ = ["HduView", "read_product"]

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
    """

    extname: str
    extver: int
    header: object
    data: np.ndarray | None
    bitpix: int
    null: bool

    @property
    def key(self) -> tuple:
        """``(EXTNAME, EXTVER)``, the pairing key."""
        return (self.extname, self.extver)


def read_product(path) -> list:
    """
    Read every HDU of a ``.fits`` or ``.fits.gz`` file.

    Raises
    ------
    InputFileError
        Missing, unreadable, truncated or non-FITS file; duplicated (EXTNAME, EXTVER).
    """
    from reference_impl.io.fitsutil import open_fits

    path = Path(path)
    hdul = open_fits(path, error_cls=InputFileError, what="file")
    views, seen = [], set()
    with hdul:
        for index, hdu in enumerate(hdul):
            header = hdu.header
            if index == 0:
                extname, extver = "PRIMARY", 0
            else:
                extname = str(header.get("EXTNAME", f"HDU{index}")).strip().upper()
                extver = int(header.get("EXTVER", 1))
            if (extname, extver) in seen:
                raise InputFileError(f"{path}: extension ({extname}, {extver}) appears twice")
            seen.add((extname, extver))
            bitpix = int(header.get("BITPIX", 8))
            data, null = hdu.data, False
            if data is None and "PIXVALUE" in header and header.get("NAXIS", 0) == 0:
                shape = tuple(
                    int(header[f"NPIX{k}"])
                    for k in range(int(header.get("NAXIS", 0)) or 2, 0, -1)
                    if f"NPIX{k}" in header
                )
                dtype = _BITPIX_DTYPES.get(bitpix, np.float32)
                data, null = np.full(shape, header["PIXVALUE"], dtype=dtype), True
            elif data is not None:
                data = np.asarray(data)
                if data.dtype.byteorder == ">":
                    data = data.astype(data.dtype.newbyteorder("="))
            views.append(HduView(extname, extver, header.copy(), data, bitpix, null))
    return views
