"""Binary and ASCII tables (reference tables: CCDTAB, BPIXTAB, CRREJTAB ...), column by column.

Tables are compared exactly: the same column names, the same number of rows,
and in every column the same value in every row. Strings compare up to trailing
blanks and NULs (FITS pads them with either); numbers by value (an int16 and an
int32 column holding the same numbers agree), NaN equal to NaN in the same row;
vector columns cell by cell. No tolerance applies. Header cards (TTYPEn,
TFORMn, TNULLn ...) are compared with the other header keywords.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ColumnDiff", "TableComparison", "compare_tables", "TABLE_RULE"]

#: One line saying how tables are compared, printed wherever one is.
TABLE_RULE = (
    "tables: column by column, row by row, exact (strings up to trailing blanks, NaN = NaN)"
)


@dataclass(frozen=True)
class ColumnDiff:
    """One column that differs.

    Attributes
    ----------
    name : str
    n_differ : int
        Rows (among those both tables have) whose cells differ.
    first_row : int
        1-based row number of the first differing row.
    a, b : object
        The two cells of that row.
    max_abs_diff : float
        Largest |a - b| over finite numeric cells; NaN for string columns.
    """

    name: str
    n_differ: int
    first_row: int
    a: object
    b: object
    max_abs_diff: float = float("nan")


@dataclass(frozen=True)
class TableComparison:
    """The comparison of two tables' common columns over their common rows."""

    n_rows: int  # rows compared (the smaller of the two tables)
    n_columns: int  # columns compared (present in both)
    n_rows_differ: int  # rows in which any compared column differs
    columns: tuple  # ColumnDiff of every differing column, in table order
    structure_differs: bool = False  # row counts or column sets differ

    @property
    def identical(self) -> bool:
        """True when every compared cell agrees and the tables have the same rows and columns."""
        return not self.columns and not self.structure_differs

    # The attribute names other consumers of an ExtensionDiff read.
    @property
    def n_differ(self) -> int:
        """Rows that differ."""
        return self.n_rows_differ

    @property
    def n_pixels(self) -> int:
        """Rows compared."""
        return self.n_rows

    max_ulp = 0
    worst = ()

    @property
    def max_abs_diff(self) -> float:
        """Largest |Δ| over the numeric columns (0 when none differs)."""
        values = [c.max_abs_diff for c in self.columns if np.isfinite(c.max_abs_diff)]
        return max(values, default=0.0)


def _names(table) -> list:
    return [str(n) for n in table.columns.names] if table.columns is not None else []


def _is_text(values: np.ndarray) -> bool:
    return values.dtype.kind in "SUO"


def _text(values: np.ndarray) -> np.ndarray:
    """Cells as Python strings without trailing blanks or NULs (object array, same shape)."""
    flat = [
        (v.decode("ascii", "replace") if isinstance(v, bytes) else str(v)).rstrip(" \x00")
        for v in values.ravel()
    ]
    return np.array(flat, dtype=object).reshape(values.shape)


def _cell(values: np.ndarray, row: int):
    value = values[row]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode("ascii", "replace").rstrip(" \x00")
    if isinstance(value, str):
        return value.rstrip(" \x00")
    return value.item() if isinstance(value, np.generic) else value


def _compare_column(name: str, va: np.ndarray, vb: np.ndarray):
    """A `ColumnDiff`, or None when the column agrees in every row."""
    differ = _rows_differ(va, vb, len(va))
    if not differ.any():
        return None
    max_abs = float("nan")
    numeric = va.dtype.kind in "iuf" and vb.dtype.kind in "iuf"
    if numeric and va.shape[1:] == vb.shape[1:]:
        with np.errstate(invalid="ignore", over="ignore"):
            delta = np.abs(va.astype(np.float64) - vb.astype(np.float64))
        finite = np.isfinite(delta)
        max_abs = float(delta[finite].max()) if finite.any() else float("nan")
    row = int(np.flatnonzero(differ)[0])
    return ColumnDiff(name, int(differ.sum()), row + 1, _cell(va, row), _cell(vb, row), max_abs)


def _wide(values: np.ndarray) -> np.ndarray:
    """Numbers in a type both sides compare in: int64 for integers, float64 for floats."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "b":
        return values.astype(bool)
    return values.astype(np.float64)


def compare_tables(a, b, *, n_worst: int = 10):
    """
    Compare two tables column by column.

    Parameters
    ----------
    a, b : astropy.io.fits.FITS_rec
        The tables (scaled columns as astropy presents them).
    n_worst : int
        Unused; kept so tables and images share a call signature.

    Returns
    -------
    comparison : TableComparison
    problems : list of tuple
        ``(what, in_a, in_b)`` structure differences: ``"rows"`` (row counts
        differ) and ``"columns"`` (columns on one side only).
    """
    del n_worst
    names_a, names_b = _names(a), _names(b)
    upper_b = {n.upper(): n for n in names_b}
    common = [n for n in names_a if n.upper() in upper_b]
    only_a = [n for n in names_a if n.upper() not in upper_b]
    upper_a = {n.upper() for n in names_a}
    only_b = [n for n in names_b if n.upper() not in upper_a]
    problems = []
    if len(a) != len(b):
        problems.append(("rows", f"{len(a)} rows", f"{len(b)} rows"))
    if only_a or only_b:
        problems.append(
            (
                "columns",
                "only in A: " + (", ".join(only_a) or "-"),
                "only in B: " + (", ".join(only_b) or "-"),
            )
        )
    n = min(len(a), len(b))
    columns, any_row = [], np.zeros(n, bool)
    for name in common:
        va = np.asarray(a[name])[:n]
        vb = np.asarray(b[upper_b[name.upper()]])[:n]
        diff = _compare_column(name, va, vb)
        if diff is not None:
            columns.append(diff)
            any_row |= _rows_differ(va, vb, n)
    comparison = TableComparison(
        n_rows=n,
        n_columns=len(common),
        n_rows_differ=int(any_row.sum()),
        columns=tuple(columns),
        structure_differs=bool(problems),
    )
    return comparison, problems


def _rows_differ(va: np.ndarray, vb: np.ndarray, n: int) -> np.ndarray:
    """Which rows of one column differ (bool, length ``n``)."""
    if n == 0:
        return np.zeros(0, bool)
    if va.shape[1:] != vb.shape[1:]:
        return np.ones(n, bool)
    if _is_text(va) or _is_text(vb):
        if not (_is_text(va) and _is_text(vb)):
            return np.ones(n, bool)
        return (_text(va) != _text(vb)).reshape(n, -1).any(axis=1)
    wide_a, wide_b = _wide(va), _wide(vb)
    with np.errstate(invalid="ignore"):
        same = wide_a == wide_b
        if wide_a.dtype.kind == "f" or wide_b.dtype.kind == "f":
            same |= np.isnan(wide_a) & np.isnan(wide_b)
    return ~same.reshape(n, -1).all(axis=1)
