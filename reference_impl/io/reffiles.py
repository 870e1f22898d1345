"""Find, read and select rows of the reference files, and cut images to the science pixels.

Resolution of ``oref$name`` (spec §1.4): the ``--oref`` directory if given, else
the ``oref`` environment variable, else a CRDS cache (``$CRDS_PATH/references/hst/``
and its ``stis/`` folder). A name may be stored as ``name`` or ``name.gz``.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference_impl.binning import match_reference
from reference_impl.errors import ReferenceFileError, ShapeMismatchError
from reference_impl.geometry import Placement, placement_from_lt
from reference_impl.imset import Imset
from reference_impl.io.fitsutil import (
    FitsReader,
    StoredImage,
    extension_data,
    find_hdu,
    open_fits,
    read_primary_header,
    read_table,
)
from reference_impl.numerics import BLOCK_ROWS
from reference_impl.types import BadPixelRun, CRRejectParameters, parse_sigmas

__all__ = [
    "CCDParameters",
    "ReferenceImage",
    "BadPixelTable",
    "is_blank_name",
    "resolve_reference",
    "read_pedigree",
    "read_ccdtab",
    "read_bpixtab",
    "read_reference_image",
    "ReferenceStream",
    "cut_to_science",
]


def is_blank_name(name: str | None) -> bool:
    """True for an absent, blank or ``N/A`` reference name (gotfilename.c)."""
    return name is None or name.strip() == "" or name.strip().upper() == "N/A"


def resolve_reference(
    name: str, *, keyword: str, raw_name: str, oref_dir: Path | None = None
) -> Path:
    """
    Turn a header reference name into an existing file path.

    Parameters
    ----------
    name : str
        Header value, e.g. ``oref$x_bia.fits`` or a plain path.
    keyword : str
        The header keyword (``BIASFILE``), for messages.
    raw_name : str
        The raw file's name, for messages.
    oref_dir : Path, optional
        Overrides the ``oref`` environment variable.

    Returns
    -------
    Path
        The file, ``.fits`` or ``.fits.gz``.

    Raises
    ------
    ReferenceFileError
        When no candidate exists; the message lists where it looked.
    """
    if "$" in name:
        prefix, base = name.split("$", 1)
        dirs: list[Path] = []
        if prefix == "oref":
            if oref_dir is not None:
                dirs.append(Path(oref_dir))
            elif os.environ.get("oref"):
                dirs.append(Path(os.environ["oref"]))
        elif os.environ.get(prefix):
            dirs.append(Path(os.environ[prefix]))
        if os.environ.get("CRDS_PATH") and not dirs:
            root = Path(os.environ["CRDS_PATH"]) / "references" / "hst"
            dirs += [root, root / "stis"]
        if not dirs:
            raise ReferenceFileError(
                f"{base}: reference file not found ({keyword} in {raw_name}; "
                f"give --oref DIR or set the '{prefix}' environment variable)"
            )
        candidates = [d / base for d in dirs]
    else:
        candidates = [Path(name)]
        base = name
    for c in candidates:
        for path in (c, c.with_name(c.name + ".gz")):
            if path.is_file():
                return path
    where = ", ".join(str(d.parent) + "/" for d in candidates)
    raise ReferenceFileError(
        f"{base}: reference file not found ({keyword} in {raw_name}, looked in {where})"
    )


def read_pedigree(path: Path) -> tuple[str, str]:
    """Return ``(PEDIGREE, DESCRIP)`` from the primary header (imgpedigree.c, tabpedigree.c)."""
    # Only the primary header: the data of a reference image are not needed here.
    header = read_primary_header(path, error_cls=ReferenceFileError, what="reference file")
    return str(header.get("PEDIGREE", "")).strip(), str(header.get("DESCRIP", "")).strip()


def is_dummy(pedigree: str) -> bool:
    """True when a pedigree starts with the five letters DUMMY (case-sensitive)."""
    return pedigree.startswith("DUMMY")


@dataclass(frozen=True)
class CCDParameters:
    """The selected CCDTAB row (getccdtab.c); values are float32 as calstis reads them.

    Attributes
    ----------
    atodgain : numpy.float32
        Gain, electrons per DN.
    ccdbias : numpy.float32
        Default bias level, DN.
    readnse : numpy.float32
        Read noise, electrons.
    saturate : numpy.float32
        Saturation threshold, raw DN.
    blev_clip : numpy.float32
        Virtual-overscan outlier clip (default 50.0 when the column is absent).
    row : int
        1-based row number of the match, for messages.
    pedigree, descrip : str
        The table's PEDIGREE and DESCRIP (primary header), for HISTORY.
    row_pedigree, row_descrip : str or None
        The row's PEDIGREE and DESCRIP columns, None when the table has none
        (rowpedigree.c; the row's PEDIGREE replaces the table's in HISTORY).
    """

    atodgain: np.float32
    ccdbias: np.float32
    readnse: np.float32
    saturate: np.float32
    blev_clip: np.float32
    row: int
    pedigree: str = ""
    descrip: str = ""
    row_pedigree: str | None = None
    row_descrip: str | None = None


def _same_int(table_value, wanted: int) -> bool:
    return int(table_value) == -1 or int(table_value) == wanted


def _same_string(table_value, wanted: str) -> bool:
    value = str(table_value).strip()
    return value.upper() == "ANY" or value == wanted


def read_ccdtab(
    path: Path, *, ccdamp: str, ccdgain: int, ccdoffst: int, binaxis1: int, binaxis2: int
) -> CCDParameters:
    """
    Select the first CCDTAB row matching amp, gain, offset and binning.

    ``-1`` and ``ANY`` are wildcards; string comparison is case-sensitive.

    Raises
    ------
    ReferenceFileError
        For a DUMMY table, a missing column or no matching row.
    """
    primary, _, data = read_table(path, error_cls=ReferenceFileError, what="CCDTAB")
    if is_dummy(str(primary.get("PEDIGREE", "")).strip()):
        raise ReferenceFileError(f"{path.name}: CCDTAB is a dummy table (PEDIGREE = DUMMY)")
    names = list(data)
    for col in (
        "CCDAMP",
        "CCDGAIN",
        "CCDOFFST",
        "BINAXIS1",
        "BINAXIS2",
        "ATODGAIN",
        "CCDBIAS",
        "READNSE",
        "SATURATE",
    ):
        if col not in names:
            raise ReferenceFileError(f"{path.name}: CCDTAB has no {col} column")
    has_clip = "BLEV_CLIP" in names
    for k in range(len(data["CCDAMP"])):
        if (
            _same_string(data["CCDAMP"][k], ccdamp)
            and _same_int(data["CCDGAIN"][k], ccdgain)
            and _same_int(data["CCDOFFST"][k], ccdoffst)
            and _same_int(data["BINAXIS1"][k], binaxis1)
            and _same_int(data["BINAXIS2"][k], binaxis2)
        ):
            return CCDParameters(
                atodgain=np.float32(data["ATODGAIN"][k]),
                ccdbias=np.float32(data["CCDBIAS"][k]),
                readnse=np.float32(data["READNSE"][k]),
                saturate=np.float32(data["SATURATE"][k]),
                blev_clip=np.float32(data["BLEV_CLIP"][k] if has_clip else 50.0),
                row=k + 1,
                pedigree=str(primary.get("PEDIGREE", "")).strip(),
                descrip=str(primary.get("DESCRIP", "")).strip(),
                row_pedigree=_row_text(data, "PEDIGREE", k),
                row_descrip=_row_text(data, "DESCRIP", k),
            )
    raise ReferenceFileError(
        f"{path.name}: no CCDTAB row matches CCDAMP={ccdamp} CCDGAIN={ccdgain} "
        f"CCDOFFST={ccdoffst} BINAXIS1={binaxis1} BINAXIS2={binaxis2}"
    )


def _row_text(data: dict, column: str, k: int) -> str | None:
    """A string cell with trailing blanks and NULs removed; None without the column."""
    if column not in data:
        return None
    return str(data[column][k]).rstrip(" \0")


@dataclass(frozen=True)
class BadPixelTable:
    """Selected BPIXTAB rows and the reference-pixel frame they live in."""

    runs: list[BadPixelRun]
    shape: tuple[int, int]  # (SIZAXIS2, SIZAXIS1)
    n_out_of_range: int


def read_bpixtab(path: Path, *, opt_elem: str) -> BadPixelTable:
    """
    Read the bad-pixel table rows that apply to ``opt_elem`` (dodqi.c).

    Rows whose OPT_ELEM is the data's or ``ANY`` are kept (a table without
    OPT_ELEM applies every row); rows starting outside SIZAXIS are dropped,
    as calstis does with a warning.

    Raises
    ------
    ReferenceFileError
        For a missing column or SIZAXIS keyword, AXIS not 1 or 2, LENGTH <= 0.
    """
    _, header, data = read_table(path, error_cls=ReferenceFileError, what="BPIXTAB")
    names = list(data)
    for col in ("PIX1", "PIX2", "LENGTH", "AXIS", "VALUE"):
        if col not in names:
            raise ReferenceFileError(f"{path.name}: BPIXTAB has no {col} column")
    for key in ("SIZAXIS1", "SIZAXIS2"):
        if key not in header:
            raise ReferenceFileError(f"{path.name}: BPIXTAB header has no {key}")
    nx, ny = int(header["SIZAXIS1"]), int(header["SIZAXIS2"])
    has_opt = "OPT_ELEM" in names
    axis = np.asarray(data["AXIS"], dtype=np.int64)
    length = np.asarray(data["LENGTH"], dtype=np.int64)
    x0 = np.asarray(data["PIX1"], dtype=np.int64) - 1
    y0 = np.asarray(data["PIX2"], dtype=np.int64) - 1
    value = np.asarray(data["VALUE"], dtype=np.int64)
    if has_opt:
        opt = np.char.strip(np.asarray(data["OPT_ELEM"]).astype(str))
        selected = (np.char.upper(opt) == "ANY") | (opt == opt_elem)
    else:
        selected = np.ones(len(axis), dtype=bool)
    bad_axis = selected & (axis != 1) & (axis != 2)
    if bad_axis.any():
        raise ReferenceFileError(
            f"{path.name}: AXIS = {axis[bad_axis][0]} in BPIXTAB; must be 1 or 2"
        )
    bad_length = selected & (length <= 0)
    if bad_length.any():
        raise ReferenceFileError(
            f"{path.name}: LENGTH = {length[bad_length][0]} in BPIXTAB; must be > 0"
        )
    inside = (x0 >= 0) & (x0 < nx) & (y0 >= 0) & (y0 < ny)
    n_out = int(np.count_nonzero(selected & ~inside))
    keep = np.flatnonzero(selected & inside)
    runs = [
        BadPixelRun(
            x0=int(x0[k]),
            y0=int(y0[k]),
            length=int(length[k]),
            axis=int(axis[k]),
            value=int(value[k]),
        )
        for k in keep
    ]
    return BadPixelTable(runs=runs, shape=(ny, nx), n_out_of_range=n_out)


@dataclass(frozen=True)
class ReferenceImage:
    """Imset 1 of a reference image and where it lies on the detector."""

    path: Path
    imset: Imset
    placement: Placement
    primary_header: object


def read_reference_image(path: Path, *, what: str) -> ReferenceImage:
    """
    Read ``[SCI,1]``, ``[ERR,1]``, ``[DQ,1]`` of a reference image.

    Raises
    ------
    ReferenceFileError
        When the file is unreadable or lacks imset 1.
    """
    dtypes = {"SCI": np.float32, "ERR": np.float32, "DQ": np.int16}
    found: dict = {}
    compressed = False
    with FitsReader(path, error_cls=ReferenceFileError, what=what) as reader:
        primary = reader.primary_header
        for hdu in reader:
            name = hdu.key[0]
            if hdu.key[1] == 1 and name in dtypes and name not in found:
                if is_tile_compressed(hdu.header):
                    compressed = True
                    break
                found[name] = (hdu.image(dtypes[name]), hdu.header)
                if len(found) == 3:
                    break  # calstis reads imset 1 only; the rest of the file is not needed
    if compressed:
        primary, found = _read_with_astropy(path, what=what, dtypes=dtypes)
    if "SCI" not in found:
        raise ReferenceFileError(f"{path.name}: {what} has no [SCI,1] extension")
    sci, h = found["SCI"]
    err = found["ERR"][0] if "ERR" in found else np.zeros_like(sci)
    dq = found["DQ"][0] if "DQ" in found else np.zeros(sci.shape, np.int16)
    if err.shape != sci.shape or dq.shape != sci.shape:
        raise ReferenceFileError(f"{path.name}: {what} SCI, ERR and DQ differ in shape")
    placement = placement_from_lt(
        float(h.get("LTV1", 0.0)),
        float(h.get("LTV2", 0.0)),
        float(h.get("LTM1_1", 1.0)),
        float(h.get("LTM2_2", 1.0)),
    )
    return ReferenceImage(path, Imset(sci, err, dq), placement, primary)


def is_tile_compressed(header) -> bool:
    """True for a tile-compressed image (a ``COMPRESSED_IMAGE`` BINTABLE with ``ZIMAGE = T``)."""
    return header.get("ZIMAGE") is True


def _read_with_astropy(path: Path, *, what: str, dtypes: dict):
    """Imset 1 of a reference image with tile-compressed extensions, through astropy.

    cfitsio, and so cs0.e, reads a tile-compressed image (RICE_1, GZIP_1/2, ...)
    like a plain one; astropy's decompression (from cfitsio's code, dithered
    dequantisation included) gives the same values, bit for bit (checked with
    cs0.e 3.5.0 on a RICE_1 bias and a GZIP_2 dark, tests/differential/
    test_real_headers_live.py).
    """
    found: dict = {}
    with open_fits(path, error_cls=ReferenceFileError, what=what) as hdul:
        primary = hdul[0].header
        try:
            for name, dtype in dtypes.items():
                hdu = find_hdu(hdul, name, 1)
                if hdu is not None:
                    found[name] = (extension_data(hdu, dtype), hdu.header)
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise ReferenceFileError(
                f"{path.name}: {what} tile-compressed image could not be read ({err})"
            ) from None
    return primary, found


class ReferenceStream:
    """
    Imset 1 of a reference image in file order: SCI whole, ERR in blocks, DQ whole.

    For a reference used once, block by block (the flats, combined before
    they are matched to the science pixels): its ERR is never held whole. A
    file whose ``[SCI,1]`` is not followed by ``[ERR,1]`` and ``[DQ,1]`` is read
    whole instead (`read_reference_image`), with the same results. Use as a
    context manager; call `err_blocks` (to the end) before `dq`.

    Attributes
    ----------
    path : Path
    sci : ndarray of float32
        ``[SCI,1]`` (the caller may drop it once used).
    shape : tuple of int
        Its shape.
    placement : Placement
        From the SCI header's LTV/LTM.
    primary_header : reference_impl.io.fitsheader.Header
    """

    def __init__(self, path: Path, *, what: str):
        self.path = Path(path)
        self._what = what
        self._whole = None
        self._reader = FitsReader(path, error_cls=ReferenceFileError, what=what)
        self.primary_header = self._reader.primary_header
        self._hdus = iter(self._reader)
        sci_hdu = next((h for h in self._hdus if h.key == ("SCI", 1)), None)
        if sci_hdu is None:
            self.close()
            raise ReferenceFileError(f"{self.path.name}: {what} has no [SCI,1] extension")
        if is_tile_compressed(sci_hdu.header):
            self.placement = _placement(sci_hdu.header)
            self._read_whole()
            self.shape = self.sci.shape
            return
        self.sci = sci_hdu.image(np.float32)
        self.shape = self.sci.shape
        self.placement = _placement(sci_hdu.header)
        self._err_hdu = next(self._hdus, None)
        if (
            self._err_hdu is None
            or self._err_hdu.key != ("ERR", 1)
            or is_tile_compressed(self._err_hdu.header)
        ):
            self._read_whole()

    def _read_whole(self) -> None:
        self.close()
        ref = read_reference_image(self.path, what=self._what)
        self._whole, self.sci = ref.imset, ref.imset.sci

    def __enter__(self) -> "ReferenceStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._reader.close()

    def err_blocks(self, rows: int = BLOCK_ROWS):
        """Yield ``(row slice, ERR rows)`` in order (float32)."""
        if self._whole is not None:
            for r0 in range(0, self.shape[0], rows):
                block = slice(r0, min(r0 + rows, self.shape[0]))
                yield block, self._whole.err[block]
            return
        if StoredImage.header_shape(self._err_hdu.header) != self.shape:
            raise ReferenceFileError(
                f"{self.path.name}: {self._what} SCI, ERR and DQ differ in shape"
            )
        yield from self._err_hdu.image_blocks(np.float32, rows)

    def dq(self) -> np.ndarray:
        """``[DQ,1]`` (int16), or zeros if the file has none right after ERR."""
        if self._whole is not None:
            return self._whole.dq
        hdu = next(self._hdus, None)
        if hdu is None or hdu.key != ("DQ", 1) or is_tile_compressed(hdu.header):
            self._read_whole()
            return self._whole.dq
        dq = hdu.image(np.int16)
        if dq.shape != self.shape:
            raise ReferenceFileError(
                f"{self.path.name}: {self._what} SCI, ERR and DQ differ in shape"
            )
        return dq


def _placement(header) -> Placement:
    return placement_from_lt(
        float(header.get("LTV1", 0.0)),
        float(header.get("LTV2", 0.0)),
        float(header.get("LTM1_1", 1.0)),
        float(header.get("LTM2_2", 1.0)),
    )


def cut_to_science(
    ref: ReferenceImage,
    sci_placement: Placement,
    sci_shape: tuple[int, int],
    *,
    average: bool,
    what: str,
) -> Imset:
    """Match a reference image to the science pixels (spec §7); errors name the file."""
    try:
        return match_reference(
            ref.imset,
            ref.placement,
            sci_placement,
            sci_shape,
            average=average,
            what=f"{what} {ref.path.name}",
        )
    except ShapeMismatchError as err:
        raise ShapeMismatchError(
            f"{ref.path.name}: {err}".replace(f"{what} {ref.path.name}: ", "")
        ) from None


def read_crrejtab(path: Path, *, n_imsets: int, exptot_s: float, obstype: str):
    """
    Select the CRREJTAB row for a CR-SPLIT stack (o_cal2_in.c).

    ``c = min(n_imsets, max(CRSPLIT))``; among rows with ``CRSPLIT == c`` and
    ``MEANEXP >= exptot/n``, the smallest ``MEANEXP - exptot/n`` wins, the last
    such row on a tie. SKYSUB is forced to ``none`` for spectroscopy.

    Returns
    -------
    tuple
        ``(CRRejectParameters, meanexp_s)`` with ``meanexp_s = exptot / n`` (double).

    Raises
    ------
    ReferenceFileError
        For a missing column, no matching row, or an illegal SKYSUB.
    """
    _, _, data = read_table(path, error_cls=ReferenceFileError, what="CRREJTAB")
    names = list(data)
    for col in (
        "CRSPLIT",
        "MEANEXP",
        "CRSIGMAS",
        "SKYSUB",
        "CRRADIUS",
        "CRTHRESH",
        "INITGUES",
        "SCALENSE",
        "BADINPDQ",
        "CRMASK",
    ):
        if col not in names:
            raise ReferenceFileError(f"{path.name}: column {col} does not exist in CRREJTAB")
    crsplit = np.asarray(data["CRSPLIT"], dtype=np.int64)
    meanexp = np.asarray(data["MEANEXP"], dtype=np.float64)
    wanted = min(n_imsets, int(crsplit.max()))
    exp_in = float(np.float32(exptot_s)) / float(n_imsets)
    row = None
    mindiff = None
    for k in range(len(crsplit)):
        diff = meanexp[k] - exp_in
        if crsplit[k] == wanted and diff >= 0.0 and (row is None or diff <= mindiff):
            row, mindiff = k, diff
    if row is None:
        raise ReferenceFileError(
            f"{path.name}: no CRREJTAB row for CRSPLIT = {wanted} and MEANEXP >= {exp_in:g}"
        )
    r = {name: column[row] for name, column in data.items()}
    sky = str(r["SKYSUB"]).strip()
    if obstype == "SPECTROSCOPIC":
        sky = "none"
    if sky not in ("mode", "none"):
        raise ReferenceFileError(f"{path.name}: illegal sky value '{sky}' in CRREJTAB")
    sigmas_text = str(r["CRSIGMAS"]).strip()
    params = CRRejectParameters(
        sigmas=parse_sigmas(sigmas_text),
        sigmas_text=sigmas_text,
        radius_pix=np.float32(r["CRRADIUS"]),
        thresh=np.float32(r["CRTHRESH"]),
        initial=str(r["INITGUES"]).strip(),
        skysub=sky,
        scalense_percent=np.float32(r["SCALENSE"]),
        badinpdq=int(r["BADINPDQ"]),
        crmask=bool(int(r["CRMASK"])),
    )
    if not params.sigmas:
        raise ReferenceFileError(f"{path.name}: CRSIGMAS '{sigmas_text}' has no value")
    return params, exp_in
