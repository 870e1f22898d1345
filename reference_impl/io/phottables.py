"""Read the IMPHTTAB and TDSTAB as calstis reads them for PHOTCORR.

IMPHTTAB (hstcal ``lib/getphttab.c``): primary PARNUM, PHOTZPT, NEXTEND,
EXTRAP; extensions named PHOTFLAM, PHOTPLAM, PHOTBW (PHTFLAM1, PHTFLAM2),
each a table with OBSMODE, DATACOL, the scalar result column, and per
parameter k NELEMk, PARkNAMES, PARkVALUES and the result array ``<name>k``.
TDSTAB (``cs1/gettds1.c``): the first extension, columns OPT_ELEM,
WAVELENGTH, NWL (required), REFTEMP, TEMPSENS (optional), PEDIGREE, DESCRIP.
"""

import re
from pathlib import Path

import numpy as np

from reference_impl.errors import NotImplementedStepError, ReferenceFileError
from reference_impl.io.fitsutil import open_fits
from reference_impl.io.hstio_numbers import card_double
from reference_impl.types import EXTENSION_QUANTITIES, PhotRow, PhotTable, TdsRow

__all__ = ["ImphttabFailure", "read_imphttab", "read_tdstab_row"]


class ImphttabFailure(str):
    """Why calstis's IMPHTTAB look-up fails for this table (PHOTCORR is then SKIPPED)."""


_STRTOL = re.compile(r"\s*[+-]?\d+")


def _strtol(text: str) -> int:
    match = _STRTOL.match(text)
    return int(match.group(0)) if match else 0


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).rstrip()


class _Short(Exception):
    pass


def _array(value, n: int, what: str, path: Path) -> tuple:
    flat = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
    if flat.size < n:
        raise _Short(f"{path.name}: {what} holds {flat.size} values, fewer than the {n} read")
    return tuple(float(v) for v in flat[:n])


def _rows(hdu, quantity: str, parnum: int, path: Path):
    """The rows of one IMPHTTAB extension, or an ImphttabFailure."""
    data = hdu.data
    names = {n.upper(): n for n in (data.columns.names if data is not None else [])}
    need = ["OBSMODE", "DATACOL"] + [f"{quantity}{k}" for k in range(1, parnum + 1)]
    missing = [c for c in need if c not in names]
    if missing:
        return ImphttabFailure(f"{path.name}[{quantity}]: columns {', '.join(missing)} not found")
    rows = []
    for record in data:
        obsmode = _text(record[names["OBSMODE"]])
        try:
            rows.append(_row(record, obsmode, names, quantity, parnum, path))
        except _Short as err:
            rows.append(PhotRow(obsmode, unsupported=str(err)))
    return rows


def _row(record, obsmode: str, names: dict, quantity: str, parnum: int, path: Path) -> PhotRow:
    """One row as ReadPhotArray would read it if it matched (problems kept, not raised)."""
    datacol = _text(record[names["DATACOL"]])
    pedigree = _text(record[names["PEDIGREE"]]) if "PEDIGREE" in names else ""
    npar = _strtol(datacol[len(quantity) :]) if len(datacol) > len(quantity) else 0
    if npar == 0:
        if quantity not in names:
            return PhotRow(obsmode, failure=f"{path.name}[{quantity}]: column {quantity} not found")
        return PhotRow(obsmode, pedigree, results=(float(record[names[quantity]]),))
    if npar < 0 or npar > parnum:
        return PhotRow(
            obsmode,
            unsupported=f"{path.name}[{quantity}]: DATACOL {datacol} names {npar} parameters, "
            f"PARNUM is {parnum}",
        )
    nelem, parnames, parvals = [], [], []
    for k in range(1, npar + 1):
        for col in (f"NELEM{k}", f"PAR{k}NAMES", f"PAR{k}VALUES"):
            if col not in names:
                return PhotRow(obsmode, failure=f"{path.name}[{quantity}]: column {col} not found")
        n = int(record[names[f"NELEM{k}"]])
        nelem.append(n)
        parnames.append(_text(record[names[f"PAR{k}NAMES"]]))
        parvals.append(_array(record[names[f"PAR{k}VALUES"]], n, f"PAR{k}VALUES", path))
    total = int(np.prod(nelem))
    results = _array(record[names[f"{quantity}{npar}"]], total, f"{quantity}{npar}", path)
    return PhotRow(obsmode, pedigree, tuple(nelem), tuple(parnames), tuple(parvals), results)


def read_imphttab(path: Path) -> PhotTable | ImphttabFailure:
    """
    Read an IMPHTTAB the way ``GetPhotTab`` does.

    Parameters
    ----------
    path : Path

    Returns
    -------
    PhotTable or ImphttabFailure
        The table; or why calstis's look-up fails (PARNUM or PHOTZPT missing, an
        extension or a required column absent), in which case calstis sets
        PHOTCORR to SKIPPED and writes no photometry keyword.

    Raises
    ------
    ReferenceFileError
        An unreadable file.
    NotImplementedStepError
        Layouts where calstis reads outside its arrays (more extensions than
        five, a row with more parameters than PARNUM, arrays shorter than NELEM).
    """
    path = Path(path)
    with open_fits(path, error_cls=ReferenceFileError, what="IMPHTTAB") as hdul:
        primary = hdul[0].header
        if "PARNUM" not in primary:
            return ImphttabFailure(f"{path.name}: PARNUM not in the primary header")
        if "PHOTZPT" not in primary:
            return ImphttabFailure(f"{path.name}: PHOTZPT not in the primary header")
        parnum = int(primary["PARNUM"])
        photzpt = card_double(primary, "PHOTZPT", 0.0)
        nextend = int(primary.get("NEXTEND", 0))
        extrap = primary.get("EXTRAP", False)
        if not isinstance(extrap, bool):
            return ImphttabFailure(f"{path.name}: EXTRAP is not a logical")
        if nextend > len(EXTENSION_QUANTITIES):
            raise NotImplementedStepError(
                f"{path.name}: NEXTEND = {nextend}; calstis reads at most "
                f"{len(EXTENSION_QUANTITIES)} extensions"
            )
        if parnum > 2:
            raise NotImplementedStepError(
                f"{path.name}: PARNUM = {parnum}; calstis holds at most 2 parameters"
            )
        extensions = {}
        for quantity in EXTENSION_QUANTITIES[:nextend]:
            hdu = next(
                (h for h in hdul[1:] if str(h.header.get("EXTNAME", "")).upper() == quantity),
                None,
            )
            if hdu is None or not hasattr(hdu, "columns"):
                return ImphttabFailure(f"{path.name}: extension {quantity} not found")
            rows = _rows(hdu, quantity, parnum, path)
            if isinstance(rows, ImphttabFailure):
                return rows
            # calstis reads only the first matching row whole (ReadPhotArray):
            # a row's problem is kept in it and counts only if it matches.
            extensions[quantity] = rows
        return PhotTable(photzpt=photzpt, extrap=extrap, extensions=extensions)


def read_tdstab_row(path: Path, opt_elem: str) -> TdsRow:
    """
    The TDSTAB row for ``opt_elem`` (``GetTds1``).

    The last row whose OPT_ELEM is ``opt_elem`` or ``ANY`` is the one used.

    Raises
    ------
    ReferenceFileError
        The file cannot be read, OPT_ELEM, WAVELENGTH or NWL is missing, no row
        matches, a matching row's PEDIGREE starts with DUMMY (calstis stops with
        an error in each case), or an array holds fewer than NWL values.
    """
    path = Path(path)
    with open_fits(path, error_cls=ReferenceFileError, what="TDSTAB") as hdul:
        hdu = hdul[1] if len(hdul) > 1 else None
        if hdu is None or not hasattr(hdu, "columns"):
            raise ReferenceFileError(f"{path.name}: TDSTAB has no table extension")
        names = {n.upper(): n for n in hdu.columns.names}
        for col in ("OPT_ELEM", "WAVELENGTH", "NWL"):
            if col not in names:
                raise ReferenceFileError(f"{path.name}: column {col} not found in TDSTAB")
        with_temp = "REFTEMP" in names and "TEMPSENS" in names
        found = None
        for row, record in enumerate(hdu.data, start=1):
            value = _text(record[names["OPT_ELEM"]])
            if value not in ("ANY", opt_elem):
                continue
            if "PEDIGREE" in names and _text(record[names["PEDIGREE"]]).startswith("DUMMY"):
                raise ReferenceFileError(
                    f"{path.name}: TDSTAB row {row} for {opt_elem} has PEDIGREE DUMMY "
                    "(calstis stops)"
                )
            nwl = int(record[names["NWL"]])
            wavelength = _array(record[names["WAVELENGTH"]], nwl, "WAVELENGTH", path)
            if with_temp:
                ref_temp = float(record[names["REFTEMP"]])
                temp_sens = _array(record[names["TEMPSENS"]], nwl, "TEMPSENS", path)
            else:
                ref_temp, temp_sens = -1.0, (0.0,) * nwl
            found = TdsRow(wavelength, temp_sens, ref_temp)
        if found is None:
            raise ReferenceFileError(
                f"{path.name}: no TDSTAB row for OPT_ELEM {opt_elem} (calstis stops)"
            )
        return found
