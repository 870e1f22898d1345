"""A product's imsets for display: SCI, ERR, DQ arrays and headers, in EXTVER order.

Products in the folder are plain ``.fits`` (memory-mapped), stored truth is
``.fits.gz``. HST null extensions (``NAXIS = 0`` with ``PIXVALUE``, ``NPIX1``,
``NPIX2``) are expanded to their constant arrays.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stischeck.errors import InputFileError
from stischeck.fits.hdus import null_data
from stischeck.vocabulary import DEFAULT_SDQFLAGS

__all__ = ["ImsetData", "ProductData", "read_imsets"]


@dataclass(frozen=True)
class ImsetData:
    """One imset: SCI and ERR float32 in DN, DQ int16, the SCI header; shape (ny, nx)."""

    sci: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    header: object


@dataclass(frozen=True)
class ProductData:
    """A product (or raw file): its primary header and its imsets, in EXTVER order."""

    path: Path
    primary: object
    imsets: tuple

    @property
    def shape(self) -> tuple:
        """(ny, nx) of imset 1."""
        return self.imsets[0].sci.shape if self.imsets else (0, 0)

    @property
    def ltv(self) -> tuple:
        """(LTV1, LTV2) of imset 1's SCI header: image = physical * LTM + LTV."""
        h = self.imsets[0].header if self.imsets else {}
        return float(h.get("LTV1", 0.0)), float(h.get("LTV2", 0.0))

    @property
    def sdqflags(self) -> int:
        """SDQFLAGS of imset 1 (calstis's default 32767 when absent)."""
        h = self.imsets[0].header if self.imsets else {}
        return int(h.get("SDQFLAGS", DEFAULT_SDQFLAGS))

    @property
    def ncombine(self) -> int:
        """NCOMBINE of imset 1 (1 when absent): imsets summed into a ``_crj``."""
        h = self.imsets[0].header if self.imsets else {}
        return max(1, int(h.get("NCOMBINE", 1) or 1))

    @property
    def noise_dn(self) -> tuple:
        """(ATODGAIN e-/DN, READNSE e-) from the primary header, None where absent."""
        gain = self.primary.get("ATODGAIN")
        rn = self.primary.get("READNSE")
        return (float(gain) if gain else None, float(rn) if rn is not None else None)


def _array(hdu, dtype) -> np.ndarray:
    header = hdu.header
    if int(header.get("NAXIS", 0)) == 0:
        null = null_data(header, dtype)
        if null is not None:
            return null
        return np.zeros((int(header.get("NPIX2", 0)), int(header.get("NPIX1", 0))), dtype)
    return np.asarray(hdu.data).astype(dtype)


def _read(path: Path, memmap: bool) -> tuple:
    import warnings

    from astropy.io import fits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # null extensions and the HST conventions
        with fits.open(path, memmap=memmap) as hdul:
            primary = hdul[0].header.copy()
            found = {}
            for hdu in hdul[1:]:
                name = str(hdu.header.get("EXTNAME", "")).strip().upper()
                if name in ("SCI", "ERR", "DQ"):
                    found.setdefault((name, int(hdu.header.get("EXTVER", 1))), hdu)
            imsets = []
            for extver in sorted(v for n, v in found if n == "SCI"):
                sci_hdu = found["SCI", extver]
                sci = _array(sci_hdu, np.float32)
                err = _array(found["ERR", extver], np.float32) if ("ERR", extver) in found else None
                dq = _array(found["DQ", extver], np.int16) if ("DQ", extver) in found else None
                if err is None or err.shape != sci.shape:
                    err = np.zeros_like(sci)
                if dq is None or dq.shape != sci.shape:
                    dq = np.zeros(sci.shape, np.int16)
                imsets.append(ImsetData(sci, err, dq, sci_hdu.header.copy()))
    return primary, imsets


def read_imsets(path) -> ProductData:
    """
    Read every imset of a ``_raw``, ``_flt`` or ``_crj`` file.

    Parameters
    ----------
    path : str or Path
        ``.fits`` or ``.fits.gz``.

    Returns
    -------
    ProductData
        SCI and ERR as float32 (raw uint16 SCI converted exactly), DQ as int16.

    Raises
    ------
    InputFileError
        Missing or unreadable file, or no SCI extension (one line naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: product not found")
    # Memory-map plain products; scaled data (raw SCI: BZERO = 32768) cannot be mapped.
    memmap = not path.name.endswith(".gz")
    try:
        try:
            primary, imsets = _read(path, memmap)
        except ValueError:
            if not memmap:
                raise
            primary, imsets = _read(path, False)
    except (OSError, ValueError, TypeError, IndexError, KeyError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise InputFileError(f"{path}: not a readable FITS product ({reason})") from err
    if not imsets:
        raise InputFileError(f"{path}: no SCI extension")
    return ProductData(path, primary, tuple(imsets))
