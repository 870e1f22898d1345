"""Read the ATODTAB as ``cs1/doatod.c`` reads it.

The first extension is a table with CCDAMP, CCDGAIN, REF_KEY, REF_KEY_VALUE,
NELEM and ATOD (all required; calstis stops without one) and the optional
PEDIGREE and DESCRIP.
"""

from pathlib import Path

import numpy as np

from reference_impl.errors import ReferenceFileError
from reference_impl.io.fitsutil import open_fits
from reference_impl.types import AtodRow

__all__ = ["read_atodtab"]

_COLUMNS = ("CCDAMP", "CCDGAIN", "REF_KEY", "REF_KEY_VALUE", "NELEM", "ATOD")


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).rstrip()


def read_atodtab(path: Path) -> list[AtodRow]:
    """
    Every row of an ATODTAB.

    Returns
    -------
    list of AtodRow
        ``atod`` holds the first NELEM values as float32 (None when the array is
        shorter than NELEM).

    Raises
    ------
    ReferenceFileError
        Unreadable file, no table, or a required column missing.
    """
    path = Path(path)
    with open_fits(path, error_cls=ReferenceFileError, what="ATODTAB") as hdul:
        hdu = hdul[1] if len(hdul) > 1 else None
        if hdu is None or not hasattr(hdu, "columns"):
            raise ReferenceFileError(f"{path.name}: ATODTAB has no table extension")
        names = {n.upper(): n for n in hdu.columns.names}
        missing = [c for c in _COLUMNS if c not in names]
        if missing:
            raise ReferenceFileError(
                f"{path.name}: column {', '.join(missing)} not found in ATODTAB"
            )
        rows = []
        for record in hdu.data:
            nelem = int(record[names["NELEM"]])
            values = np.atleast_1d(np.asarray(record[names["ATOD"]], dtype=np.float32)).ravel()
            rows.append(
                AtodRow(
                    ccdamp=_text(record[names["CCDAMP"]]),
                    ccdgain=int(record[names["CCDGAIN"]]),
                    ref_key=_text(record[names["REF_KEY"]]),
                    ref_key_value=float(record[names["REF_KEY_VALUE"]]),
                    pedigree=_text(record[names["PEDIGREE"]]) if "PEDIGREE" in names else "",
                    atod=values[:nelem].copy() if 0 < nelem <= values.size else None,
                    has_pedigree="PEDIGREE" in names,
                    descrip=_text(record[names["DESCRIP"]]) if "DESCRIP" in names else None,
                )
            )
        return rows
