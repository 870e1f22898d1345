"""Small FITS helpers shared by the readers: opening with clear errors, null extensions."""

import gzip
import io
import warnings
import zlib
from pathlib import Path

import numpy as np

from reference_impl.errors import InputFileError

__all__ = ["open_fits", "extension_data", "find_hdu"]


def open_fits(path: Path, *, error_cls=InputFileError, what: str = "file"):
    """
    Open a FITS file (``.fits`` or ``.fits.gz``) read-only, loading data into memory.

    Raises ``error_cls`` with a one-line message naming the file for a missing
    path, a directory, an empty, truncated or non-FITS file.
    """
    from astropy.io import fits

    path = Path(path)
    if not path.exists():
        raise error_cls(f"{path}: {what} not found")
    if path.is_dir():
        raise error_cls(f"{path}: is a directory, not a FITS {what}")
    if path.stat().st_size == 0:
        raise error_cls(f"{path}: empty file, not a FITS {what}")
    try:
        with warnings.catch_warnings():
            # A truncated file is an error here, not a warning and a short array.
            warnings.filterwarnings("error", message=".*truncated.*")
            raw_bytes = path.read_bytes()
            if raw_bytes[:2] == b"\x1f\x8b":
                raw_bytes = gzip.decompress(raw_bytes)
            # Reading from memory leaves no file handle open if astropy gives up halfway.
            hdul = fits.open(io.BytesIO(raw_bytes), memmap=False, lazy_load_hdus=False)
            for hdu in hdul:
                # Touch the data now so truncation is reported here, not later.
                _ = hdu.data
    except (OSError, ValueError, TypeError, IndexError, EOFError, Warning, zlib.error) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise error_cls(f"{path}: not a readable FITS {what} ({reason})") from err
    return hdul


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
