"""Small edits of a synthetic raw file that turn it into a known-issue reproducer.

Each function reads ``src`` and writes a new file ``dst`` (never ``src``) with
astropy, keeping the stored integers as they are (``do_not_scale_image_data``):
a raw SCI extension stores ``DN - 32768`` as int16 (``BZERO = 32768``), and an
all-zero DQ or ERR is an HST null extension (``NAXIS = 0`` + ``NPIX1``,
``NPIX2``, ``PIXVALUE``; spec §14).
"""

from pathlib import Path

import numpy as np
from astropy.io import fits

__all__ = ["set_imset_keyword", "edit_pixels", "crop_imset_rows"]

_NULL_KEYS = ("NPIX1", "NPIX2", "PIXVALUE")


def _ext(hdul: fits.HDUList, extname: str, extver: int) -> int:
    for index, hdu in enumerate(hdul):
        if hdu.header.get("EXTNAME") == extname and hdu.header.get("EXTVER", 1) == extver:
            return index
    raise KeyError(f"no {extname},{extver} extension")


def set_imset_keyword(src: Path, dst: Path, *, imset: int, key: str, value) -> Path:
    """
    Copy ``src`` to ``dst`` with ``key = value`` in the SCI header of ``imset`` (1-based).

    Returns
    -------
    Path
        ``dst``.
    """
    with fits.open(src, do_not_scale_image_data=True) as hdul:
        hdul[_ext(hdul, "SCI", imset)].header[key] = value
        hdul.writeto(dst, overwrite=True)
    return Path(dst)


def edit_pixels(src: Path, dst: Path, *, pixels: list, add_dn: dict, dq: dict) -> Path:
    """
    Copy ``src`` to ``dst`` raising the raw DN of ``pixels`` and OR-ing DQ bits into them.

    Parameters
    ----------
    pixels : list of (int, int)
        ``(y, x)``, numpy 0-based indices into the raw SCI array (overscan included).
    add_dn : dict
        1-based imset -> DN added to each pixel's raw value (the sum must stay below 65536).
    dq : dict
        1-based imset -> DQ bits OR-ed into each pixel; only these imsets' DQ
        extensions change (a null one becomes a real int16 array), the others
        stay as they are, null or not.

    Returns
    -------
    Path
        ``dst``.
    """
    ys = np.array([p[0] for p in pixels])
    xs = np.array([p[1] for p in pixels])
    with fits.open(src, do_not_scale_image_data=True) as hdul:
        for imset, dn in add_dn.items():
            sci = hdul[_ext(hdul, "SCI", imset)]
            data = sci.data.astype(np.int32) + 32768
            data[ys, xs] += dn
            if data.max() > 65535:
                raise ValueError(f"edit_pixels: raw DN above 65535 in imset {imset}")
            sci.data = (data - 32768).astype(np.int16)
        for imset, bits in dq.items():
            index = _ext(hdul, "DQ", imset)
            old = hdul[index]
            if old.header["NAXIS"] == 0:
                shape = (old.header["NPIX2"], old.header["NPIX1"])
                values = np.full(shape, old.header["PIXVALUE"], dtype=np.int16)
            else:
                values = old.data.astype(np.int16)
            values[ys, xs] |= np.int16(bits)
            header = old.header.copy()
            for key in _NULL_KEYS:
                header.remove(key, ignore_missing=True)
            hdul[index] = fits.ImageHDU(data=values, header=header)
        hdul.writeto(dst, overwrite=True)
    return Path(dst)


def crop_imset_rows(src: Path, dst: Path, *, imset: int, n_rows: int) -> Path:
    """
    Copy ``src`` to ``dst`` with the last ``n_rows`` rows of ``imset`` (SCI, ERR, DQ) removed.

    Returns
    -------
    Path
        ``dst``.
    """
    with fits.open(src, do_not_scale_image_data=True) as hdul:
        for extname in ("SCI", "ERR", "DQ"):
            hdu = hdul[_ext(hdul, extname, imset)]
            if hdu.header["NAXIS"] == 0:
                hdu.header["NPIX2"] = hdu.header["NPIX2"] - n_rows
            else:
                hdu.data = hdu.data[:-n_rows].copy()
        hdul.writeto(dst, overwrite=True)
    return Path(dst)
