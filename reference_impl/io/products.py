"""Write calstis-shaped products (``_flt``/``_crj``) from a reference run.

Layout as hstio writes it: a primary header, then SCI, ERR, DQ for each imset;
ERR or DQ arrays that are constant become null extensions (``NAXIS = 0`` with
``NPIX1``, ``NPIX2``, ``PIXVALUE``; spec §14). SCI is never written null.
"""

import os
import warnings
from pathlib import Path

import numpy as np

from reference_impl.numerics import is_constant, row_blocks
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


_BLOCK = 2880
_END = b"END" + b" " * 77


def _card(keyword: str, value, comment: str = ""):
    from astropy.io import fits

    return fits.Card(keyword, value, comment)


def _structural(data: np.ndarray | None, bitpix: int) -> list:
    """The cards astropy puts first in an IMAGE extension (same values and comments)."""
    cards = [
        _card("XTENSION", "IMAGE", "Image extension"),
        _card("BITPIX", bitpix, "array data type"),
        _card("NAXIS", 0 if data is None else data.ndim, "number of array dimensions"),
    ]
    if data is not None:
        cards += [_card(f"NAXIS{k}", n) for k, n in enumerate(reversed(data.shape), start=1)]
    return cards + [
        _card("PCOUNT", 0, "number of parameters"),
        _card("GCOUNT", 1, "number of groups"),
    ]


def _image_hdu(data: np.ndarray, header, extname: str, extver: int, *, allow_null: bool):
    """The header cards and the data (None for a null extension) of one extension."""
    header = _clean(header)
    header["EXTNAME"] = extname
    header["EXTVER"] = extver
    bitpix = -32 if data.dtype.kind == "f" else 16
    if allow_null and data.size and np.isfinite(data.flat[0]) and is_constant(data):
        # A null extension keeps the BITPIX of the array it stands for (-32 ERR,
        # 16 DQ), as calstis writes it (pinned by a test).
        value = data.flat[0]
        header["NPIX1"] = (int(data.shape[1]), "length of constant array axis 1")
        header["NPIX2"] = (int(data.shape[0]), "length of constant array axis 2")
        header["PIXVALUE"] = (
            float(value) if data.dtype.kind == "f" else int(value),
            "values of pixels in constant array",
        )
        return [*_structural(None, bitpix), *header.cards], None
    return [*_structural(data, bitpix), *header.cards], data


def _card_image(card) -> str:
    """The 80 characters of a card: as read from its file if unchanged, else formatted.

    ``Card.image`` would first run astropy's verify-and-fix on every card read
    from a file (a third of the cost of writing a full-frame product); hstio
    copies such cards as they are, and so does this. ``_image`` and
    ``_modified`` are astropy's own cache of that text; without them (another
    astropy), the public property is used.
    """
    image = getattr(card, "_image", None)
    if image and not getattr(card, "_modified", True):
        return image
    return card.image


def _write_hdu(stream, cards, data: np.ndarray | None) -> None:
    """One HDU: the card images, END, blank padding; the data big-endian, zero padding."""
    text = b"".join(_card_image(card).encode("ascii") for card in cards) + _END
    stream.write(text + b" " * (-len(text) % _BLOCK))
    if data is None:
        return
    big_endian = data.dtype.newbyteorder(">")
    size = 0
    for rows in row_blocks(data.shape[0]):  # swapped a block at a time: no full copy
        block = np.ascontiguousarray(data[rows], dtype=big_endian)
        stream.write(block.data)
        size += block.nbytes
    stream.write(b"\0" * (-size % _BLOCK))


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

    Notes
    -----
    The headers are built with astropy as before, but written directly: the
    cards astropy's ``ImageHDU``/``PrimaryHDU`` put first (same values and
    comments), then the header's own cards as astropy formats them, END and
    padding; the data go out big-endian a block of rows at a time. For every
    corpus product the file is byte for byte what ``HDUList.writeto`` writes
    (tests/regression/test_product_writer.py), at a fraction of the cost: its
    header rebuilding and verification took most of the time of writing a
    full-frame product. What the writer no longer does is astropy's
    ``silentfix`` of invalid raw-header cards, which are copied as they are.
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
    _clean(primary)
    hdus = [
        (
            [
                _card("SIMPLE", True, "conforms to FITS standard"),
                _card("BITPIX", 8, "array data type"),
                _card("NAXIS", 0, "number of array dimensions"),
                _card("EXTEND", True),
                *primary.cards,
            ],
            None,
        )
    ]
    for k, out in enumerate(product.imsets, start=1):
        headers = out.headers
        for extname, data, extra, allow_null in (
            ("SCI", np.asarray(out.imset.sci, np.float32), out.sci_keywords, False),
            ("ERR", np.asarray(out.imset.err, np.float32), out.err_keywords, True),
            ("DQ", np.asarray(out.imset.dq, np.int16), out.dq_keywords, True),
        ):
            header = headers[extname].copy()
            for key, value in {**out.all_keywords, **extra}.items():
                header[key] = value
            hdus.append(_image_hdu(data, header, extname, k, allow_null=allow_null))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed when complete: a full disk or a
    # kill never leaves a truncated product under the final name.
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with warnings.catch_warnings():
            # Long raw-header comments are truncated on write, as hstio does.
            warnings.simplefilter("ignore", fits.verify.VerifyWarning)
            with partial.open("xb") as stream:
                for cards, data in hdus:
                    _write_hdu(stream, cards, data)
        if path.exists():
            raise FileExistsError(f"{path}: output file already exists")
        partial.rename(path)
    except BaseException as err:
        partial.unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, FileExistsError):
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    return path
