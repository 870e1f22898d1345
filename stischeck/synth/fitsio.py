"""Write synthetic raw files and reference files in the layouts calstis reads.

Raw files: a primary header with the switches and reference names, then
SCI (uint16, ``BZERO = 32768``), ERR and DQ per imset; ERR, and DQ without
drop-outs, are HST null extensions (``NAXIS = 0``, ``NPIX1``, ``NPIX2``,
``PIXVALUE``; spec §14). Reference images: SCI/ERR/DQ with LTV/LTM; tables:
a FITS binary table in extension 1. PEDIGREE and DESCRIP sit in the primary
header, where calstis reads them (spec §1.7).
"""

import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits

__all__ = ["null_hdu", "write_reference_image", "write_table", "write_hdus"]

GENERATOR = "stischeck synth"


def null_hdu(shape: tuple[int, int], value, *, dtype: str, cards: list) -> fits.ImageHDU:
    """
    An HST null extension standing for a constant array.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the array it stands for.
    value : float or int
        ``PIXVALUE``.
    dtype : str
        ``"f4"`` (BITPIX -32) or ``"i2"`` (BITPIX 16).
    cards : list of (key, value, comment)
        Header cards after the structural ones.
    """
    hdu = fits.ImageHDU(data=None)
    # astropy writes BITPIX 8 for "no data"; hstio keeps the type of the array (-32/16).
    hdu._bitpix = -32 if dtype == "f4" else 16
    h = hdu.header
    h["BITPIX"] = hdu._bitpix
    for key, val, comment in cards[:2]:  # EXTNAME, EXTVER first, as hstio writes them
        h[key] = (val, comment)
    h["NPIX1"] = (int(shape[1]), "length of constant array axis 1")
    h["NPIX2"] = (int(shape[0]), "length of constant array axis 2")
    h["PIXVALUE"] = (
        float(value) if dtype == "f4" else int(value),
        "values of pixels in constant array",
    )
    for key, val, comment in cards[2:]:
        h[key] = (val, comment)
    return hdu


def image_hdu(data: np.ndarray, cards: list) -> fits.ImageHDU:
    """An image extension with ``cards`` (key, value, comment) after the structural ones."""
    hdu = fits.ImageHDU(data=data)
    for key, val, comment in cards:
        hdu.header[key] = (val, comment)
    return hdu


def primary_hdu(cards: list) -> fits.PrimaryHDU:
    """A data-less primary HDU; ``("", text, "")`` cards become blank-keyword section titles."""
    hdu = fits.PrimaryHDU()
    h = hdu.header
    h["EXTEND"] = True
    for key, val, comment in cards:
        if key == "":
            h.append(fits.Card("", val), end=True)
        elif key in ("COMMENT", "HISTORY"):
            h.append(fits.Card(key, val), end=True)
        else:
            h.append(fits.Card(key, val, comment), end=True)
    return hdu


def write_hdus(hdus: list, path: Path) -> Path:
    """Write an HDU list to ``path`` (replacing it), quietly fixing long comments."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        fits.HDUList(hdus).writeto(path, overwrite=True, output_verify="silentfix")
    return path


def reference_primary_cards(
    filename: str, filetype: str, descrip: str, extra: list, *, case: str, seed: int
) -> list:
    """Primary-header cards every synthetic reference file carries."""
    cards = [
        ("NEXTEND", 3, "number of extensions"),
        ("FILENAME", filename, "name of file"),
        ("FILETYPE", filetype, "type of data found in data file"),
        ("TELESCOP", "HST", "telescope used to acquire data"),
        ("INSTRUME", "STIS", "identifier for instrument used to acquire data"),
        ("DETECTOR", "CCD", "detector in use: CCD"),
        *extra,
        ("USEAFTER", "Jan 01 1997 00:00:00", "date after which this file should be used"),
        ("PEDIGREE", "MODEL", "synthetic reference file"),
        ("DESCRIP", descrip, "description"),
        ("COMMENT", f"Synthetic STIS reference file made by {GENERATOR} for", ""),
        ("COMMENT", f"data set '{case}', seed {seed}. Not for use with real data.", ""),
    ]
    return cards


def write_reference_image(
    path: Path,
    primary_cards: list,
    arrays: tuple,
    *,
    ltv: tuple[float, float],
    ltm: tuple[float, float],
    bunit: str,
) -> Path:
    """
    Write a reference image: primary header, then SCI, ERR, DQ (imset 1).

    Parameters
    ----------
    path : Path
    primary_cards : list of (key, value, comment)
    arrays : tuple of ndarray
        ``(sci float32, err float32, dq int16)``, same shape.
    ltv, ltm : tuple of float
        ``(LTV1, LTV2)``, ``(LTM1_1, LTM2_2)`` placing the image on the detector.
    bunit : str
        ``BUNIT`` of SCI and ERR.
    """
    sci, err, dq = arrays
    hdus = [primary_hdu(primary_cards)]
    for extname, data, unit in (("SCI", sci, bunit), ("ERR", err, bunit), ("DQ", dq, "UNITLESS")):
        hdus.append(
            image_hdu(
                data,
                [
                    ("EXTNAME", extname, "extension name"),
                    ("EXTVER", 1, "extension version number"),
                    ("BUNIT", unit, "brightness units"),
                    ("LTV1", float(ltv[0]), "offset in X to subsection start"),
                    ("LTV2", float(ltv[1]), "offset in Y to subsection start"),
                    ("LTM1_1", float(ltm[0]), "reciprocal of sampling rate in X"),
                    ("LTM2_2", float(ltm[1]), "reciprocal of sampling rate in Y"),
                ],
            )
        )
    return write_hdus(hdus, path)


def write_table(
    path: Path, primary_cards: list, rows: list[dict], formats: dict, *, extra_cards: list = ()
) -> Path:
    """
    Write a reference table: data-less primary header, binary table in extension 1.

    Parameters
    ----------
    path : Path
    primary_cards : list of (key, value, comment)
    rows : list of dict
        One dict per row, keys = column names.
    formats : dict
        Column name -> FITS TFORM (``"J"``, ``"E"``, ``"I"``, ``"8A"``), in column order.
    extra_cards : sequence of (key, value, comment)
        Cards for the table header (e.g. ``SIZAXIS1``).
    """
    columns = []
    for name, fmt in formats.items():
        values = [r[name] for r in rows]
        if fmt.endswith("A"):
            array = np.array(values, dtype=f"U{int(fmt[:-1])}")
        else:
            array = np.array(values, dtype={"J": ">i4", "I": ">i2", "E": ">f4", "D": ">f8"}[fmt])
        columns.append(fits.Column(name=name, format=fmt, array=array))
    table = fits.BinTableHDU.from_columns(columns)
    for key, val, comment in extra_cards:
        table.header[key] = (val, comment)
    primary_cards = [c for c in primary_cards if c[0] != "NEXTEND"]
    return write_hdus(
        [primary_hdu([("NEXTEND", 1, "number of extensions"), *primary_cards]), table], path
    )
