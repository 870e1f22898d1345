"""Product writing through astropy's HDUList.writeto, as before the direct writer (commit 1cada65).

Kept as the oracle of the direct writer: both must write the same bytes.
"""
# ruff: noqa

import warnings
from pathlib import Path

import numpy as np

from reference_impl.pipeline import Product

__all__ = ["product_path", "write_product"]

_STRUCTURAL = (
    "SIMPLE",
    "XTENSION",
    "BITPIX",
    "NAXIS",
    "NAXIS1",
    "NAXIS2",
    "PCOUNT",
    "GCOUNT",
    "EXTEND",
    "BSCALE",
    "BZERO",
    "NPIX1",
    "NPIX2",
    "PIXVALUE",
)


def product_path(raw_path: Path, outroot: Path | str | None, suffix: str) -> Path:
    """
    Name a product as cs0 does (mkname.c, AppendRawfile).

    A trailing ``_raw`` before the extension is replaced by ``_<suffix>``; an
    ``outroot`` ending in ``/`` is a directory that receives the raw file's name.
    The extension is ``.fits`` (a ``.fits.gz`` input still gives ``.fits``).
    """
    name = Path(raw_path).name
    for ext in (".fits.gz", ".fits"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    stem = name[:-4] if name.endswith("_raw") else name
    filename = f"{stem}_{suffix}.fits"
    if outroot is None or str(outroot) == "":
        return Path(raw_path).with_name(filename)
    outroot = str(outroot)
    if outroot.endswith("/"):
        return Path(outroot) / filename
    base = outroot[:-5] if outroot.endswith(".fits") else outroot
    base = base[:-4] if base.endswith("_raw") else base
    return Path(f"{base}_{suffix}.fits")


def _clean(header):
    """Remove the structural cards from ``header`` (a copy the caller owns), in place."""
    for key in _STRUCTURAL:
        while key in header:
            del header[key]
    return header


def _image_hdu(data: np.ndarray, header, extname: str, extver: int, *, allow_null: bool):
    from astropy.io import fits

    header = _clean(header)
    header["EXTNAME"] = extname
    header["EXTVER"] = extver
    if allow_null and data.size and np.all(data == data.flat[0]) and np.isfinite(data.flat[0]):
        hdu = fits.ImageHDU(data=None, header=header)
        # A null extension keeps the BITPIX of the array it stands for (-32 ERR,
        # 16 DQ), as calstis writes it; astropy would write 8 for "no data", and
        # sets the card from this attribute (pinned by a test).
        hdu._bitpix = -32 if data.dtype.kind == "f" else 16
        value = data.flat[0]
        hdu.header["NPIX1"] = (int(data.shape[1]), "length of constant array axis 1")
        hdu.header["NPIX2"] = (int(data.shape[0]), "length of constant array axis 2")
        hdu.header["PIXVALUE"] = (
            float(value) if data.dtype.kind == "f" else int(value),
            "values of pixels in constant array",
        )
        return hdu
    return fits.ImageHDU(data=data, header=header)


def write_product(product: Product, primary_header, path: Path) -> Path:
    """
    Write one product file.

    Parameters
    ----------
    product : Product
        From `reference_impl.pipeline.calibrate`.
    primary_header : astropy.io.fits.Header
        The raw file's primary header; used when the product does not carry
        the header of the intermediate file it was made from. Product keywords
        are applied to a copy.
    path : Path
        Output file; an existing file is an error, as in calstis.

    Returns
    -------
    Path
        ``path``.
    """
    from astropy.io import fits

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: output file already exists")
    base = product.base_header if product.base_header is not None else primary_header
    primary = base.copy()
    for key, value in product.primary_keywords.items():
        primary[key] = value
    primary["FILENAME"] = path.name
    primary["NEXTEND"] = 3 * len(product.imsets)
    for line in product.history:
        primary.add_history(line)
    hdus = [fits.PrimaryHDU(header=_clean(primary))]
    hdus[0]._bitpix = 16  # hstio's dataless primary (BITPIX 16), not astropy's 8
    for k, out in enumerate(product.imsets, start=1):
        headers = out.headers
        for extname, data, extra, allow_null in (
            # No copies: the arrays already have these types (astropy swaps
            # writable ones in place for writing and back; read-only ones it copies).
            ("SCI", np.asarray(out.imset.sci, np.float32), out.sci_keywords, False),
            ("ERR", np.asarray(out.imset.err, np.float32), out.err_keywords, True),
            ("DQ", np.asarray(out.imset.dq, np.int16), out.dq_keywords, True),
        ):
            header = headers[extname].copy()
            for key, value in {**out.all_keywords, **extra}.items():
                header[key] = value
            hdus.append(_image_hdu(data, header, extname, k, allow_null=allow_null))
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # Long raw-header comments are truncated on write, as hstio does.
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)
        fits.HDUList(hdus).writeto(path, output_verify="silentfix")
    return path
