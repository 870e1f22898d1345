"""Write calstis-shaped products (``_flt``/``_crj``) from a reference run.

Layout as hstio writes it: a primary header, then SCI, ERR, DQ for each imset;
ERR or DQ arrays that are constant become null extensions (``NAXIS = 0`` with
``NPIX1``, ``NPIX2``, ``PIXVALUE``; spec §14). SCI is never written null.

Header cards as hstio writes them (`reference_impl.io.hstio_header`): cfitsio's
structural cards (a dataless primary has ``BITPIX = 16``), ORIGIN and DATE, then
the source header's cards as read bar hstio's reserved keywords (GROUPS,
DATAMIN/DATAMAX, BSCALE/BZERO, ...), the keywords calstis sets rewritten in place
in hstio's format or appended, and HISTORY at the very end.
"""

import os
from pathlib import Path

import numpy as np

from reference_impl.io.fitsheader import Card
from reference_impl.io.hstio_header import (
    RESERVED_CARDS,
    apply_history,
    card_image,
    clean,
    date_card,
    delete,
    hstio_value,
    origin_card,
    put,
    strip_leading_blanks,
)
from reference_impl.numerics import is_constant, row_blocks
from reference_impl.types import Product

__all__ = ["product_path", "write_product"]


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


_BLOCK = 2880
_END = b"END" + b" " * 77


def _fixed(keyword: str, value, comment: str) -> Card:
    return Card.fromstring(f"{keyword:8}= {hstio_value(value)} / {comment}")


def _structural(data: np.ndarray | None, bitpix: int) -> list:
    """The cards cfitsio puts first in an IMAGE extension (its comments), ORIGIN and DATE."""
    cards = [
        _fixed("XTENSION", "IMAGE", "IMAGE extension"),
        _fixed("BITPIX", bitpix, "number of bits per data pixel"),
        _fixed("NAXIS", 0 if data is None else len(_axes(data)), "number of data axes"),
    ]
    if data is not None:
        cards += [
            _fixed(f"NAXIS{k}", n, f"length of data axis {k}")
            for k, n in enumerate(_axes(data), start=1)
        ]
    return [
        *cards,
        _fixed("PCOUNT", 0, "required keyword; must = 0"),
        _fixed("GCOUNT", 1, "required keyword; must = 1"),
        origin_card(),
        date_card(),
    ]


def _axes(data: np.ndarray) -> list[int]:
    """NAXISn of an image: hstio writes a one-row image as 1-D (hstio.c, putHeader)."""
    ny, nx = data.shape
    return [nx] if ny == 1 else [nx, ny]


def _primary_structural() -> list:
    """The dataless primary as cfitsio and hstio write it: BITPIX 16, COMMENT, ORIGIN, DATE."""
    return [
        _fixed("SIMPLE", True, "file does conform to FITS standard"),
        _fixed("BITPIX", 16, "number of bits per data pixel"),
        _fixed("NAXIS", 0, "number of data axes"),
        _fixed("EXTEND", True, "FITS dataset may contain extensions"),
        *(Card.fromstring(c) for c in RESERVED_CARDS),
        origin_card(),
        date_card(),
    ]


def _image_hdu(data: np.ndarray, header, extname: str, extver: int, *, allow_null: bool):
    """The header cards and the data (None for a null extension) of one extension.

    ``header`` already carries the product keywords. EXTNAME is rewritten, EXTVER
    set if it differs (hstio.c, openOutputImage); a constant ERR or DQ array gets
    PIXVALUE, NPIX1 and NPIX2 (in that order when added; NPIX2 only for more than
    one row), a non-constant one loses them (hstio.c, putFloatData/putShortData).
    """
    header = clean(header)
    put(header, "EXTNAME", extname)
    if header.get("EXTVER") != extver:
        put(header, "EXTVER", extver)
    bitpix = -32 if data.dtype.kind == "f" else 16
    if allow_null and data.size and np.isfinite(data.flat[0]) and is_constant(data):
        # A null extension keeps the BITPIX of the array it stands for (-32 ERR,
        # 16 DQ), as calstis writes it (pinned by a test).
        value = data.flat[0]
        pixvalue = np.float32(value) if data.dtype.kind == "f" else int(value)
        _put_or_add(header, "PIXVALUE", pixvalue, "values of pixels in constant array")
        _put_or_add(header, "NPIX1", int(data.shape[1]), "length of constant array axis 1")
        if data.shape[0] > 1:
            _put_or_add(header, "NPIX2", int(data.shape[0]), "length of constant array axis 2")
        cards = strip_leading_blanks(list(header.cards))
        return [*_structural(None, bitpix), *cards], None
    delete(header, "NPIX1")
    if data.shape[0] > 1:
        delete(header, "NPIX2")
    delete(header, "PIXVALUE")
    return [*_structural(data, bitpix), *strip_leading_blanks(list(header.cards))], data


def _put_or_add(header, key: str, value, comment: str) -> None:
    """Hstio's findKw then putXxxKw (comment kept) or addXxxKw (with ``comment``)."""
    put(header, key, value if key in header else (value, comment))


def _write_hdu(stream, cards, data: np.ndarray | None) -> None:
    """One HDU: the card images, END, blank padding; the data big-endian, zero padding."""
    text = b"".join(card_image(card).encode("ascii") for card in cards) + _END
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
    primary_header : reference_impl.io.fitsheader.Header
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
    The headers are those hstio writes (`reference_impl.io.hstio_header`):
    cfitsio's structural cards, ORIGIN and DATE, then the source header's own
    cards as read, bar hstio's reserved keywords, with the product keywords
    rewritten in place in hstio's format; END and padding. The data go out
    big-endian a block of rows at a time. Invalid raw-header cards are copied
    as they are, as hstio does.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: output file already exists")
    base = product.base_header if product.base_header is not None else primary_header
    primary = clean(base.copy())
    for key, value in product.primary_keywords.items():
        put(primary, key, value)
    put(primary, "FILENAME", path.name)
    if product.suffix == "crj" or "NEXTEND" not in primary:
        # calstis1 never updates NEXTEND: an _flt keeps the raw file's count, extra
        # extensions (a PEAKUP table) included; calstis2 writes 3 (cr_history.c).
        put(primary, "NEXTEND", 3 * len(product.imsets))
    apply_history(primary, product.history)
    hdus = [([*_primary_structural(), *strip_leading_blanks(list(primary.cards))], None)]
    for k, out in enumerate(product.imsets, start=1):
        headers = out.headers
        for extname, data, extra, allow_null in (
            ("SCI", np.asarray(out.imset.sci, np.float32), out.sci_keywords, False),
            ("ERR", np.asarray(out.imset.err, np.float32), out.err_keywords, True),
            ("DQ", np.asarray(out.imset.dq, np.int16), out.dq_keywords, True),
        ):
            header = clean(headers[extname].copy())
            for key, value in {**out.all_keywords, **extra}.items():
                put(header, key, value)
            hdus.append(_image_hdu(data, header, extname, k, allow_null=allow_null))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed when complete: a full disk or a
    # kill never leaves a truncated product under the final name.
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
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
