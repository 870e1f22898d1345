"""Compare two calstis-style products: pair HDUs, compare pixels and headers under a policy."""

import math
from pathlib import Path

import numpy as np

from stischeck.diff.arrays import compare_dq, compare_float, same_bytes
from stischeck.diff.headers import compare_headers
from stischeck.diff.policy import default_policy
from stischeck.diff.result import DiffResult, ExtensionDiff, StructureDifference
from stischeck.diff.tables import compare_tables
from stischeck.fits.hdus import read_hdus
from stischeck.vocabulary import DEFAULT_SDQFLAGS

__all__ = ["diff_products", "diff_hdus", "DEFAULT_SDQFLAGS"]


def diff_products(path_a, path_b, *, policy=None, step: str = "*", n_worst: int = 10) -> DiffResult:
    """
    Compare two FITS products (``.fits`` or ``.fits.gz``).

    Parameters
    ----------
    path_a, path_b : path-like
        The two files. Neither is modified.
    policy : Policy, optional
        Tolerances; the shipped exact policy by default.
    step : str
        Configuration name the policy's step patterns are matched against.
    n_worst : int
        How many of the largest pixel differences to keep per extension.

    Returns
    -------
    DiffResult

    Raises
    ------
    InputFileError
        A file is missing or is not a readable FITS file (exit code 2).
    """
    hdus_a = read_hdus(Path(path_a))
    hdus_b = read_hdus(Path(path_b))
    return diff_hdus(
        hdus_a,
        hdus_b,
        path_a=str(path_a),
        path_b=str(path_b),
        policy=policy or default_policy(),
        step=step,
        n_worst=n_worst,
    )


def diff_hdus(hdus_a, hdus_b, *, path_a, path_b, policy, step, n_worst=10) -> DiffResult:
    """Compare two lists of `HduView` (as `stischeck.fits.read_hdus` returns them)."""
    by_key_a = {h.key: h for h in hdus_a}
    by_key_b = {h.key: h for h in hdus_b}
    keys = list(by_key_a) + [k for k in by_key_b if k not in by_key_a]
    structure, extensions, keywords, ignored = [], [], [], []
    for key in keys:
        a, b = by_key_a.get(key), by_key_b.get(key)
        if a is None or b is None:
            present = a or b
            structure.append(
                StructureDifference(
                    *key,
                    "only_a" if b is None else "only_b",
                    _describe(present) if a else "",
                    _describe(present) if b else "",
                )
            )
            continue
        for k in compare_headers(
            a.header, b.header, extname=key[0], extver=key[1], policy=policy, step=step
        ):
            (ignored if k.status == "ignored" else keywords).append(k)
        if a.data is None and b.data is None:
            continue
        if a.null != b.null:
            # The same pixels (perhaps) but not the same file: a null extension's
            # cards (NAXIS = 0, NPIXn, PIXVALUE) are not a stored array's.
            structure.append(StructureDifference(*key, "null", _describe(a), _describe(b)))
        if a.is_table or b.is_table:
            if not (a.is_table and b.is_table):
                structure.append(StructureDifference(*key, "kind", _describe(a), _describe(b)))
                continue
            table, problems = compare_tables(a.data, b.data, n_worst=n_worst)
            structure.extend(StructureDifference(*key, *p) for p in problems)
            verdict = "identical" if table.identical else "differ"
            extensions.append(ExtensionDiff(*key, "table", table, verdict))
            continue
        if a.data is None or b.data is None or a.data.shape != b.data.shape:
            structure.append(StructureDifference(*key, "shape", _shape(a.data), _shape(b.data)))
            continue
        if a.bitpix != b.bitpix:
            structure.append(StructureDifference(*key, "dtype", _dtype(a), _dtype(b)))
        extensions.append(_compare_data(a, b, by_key_a, by_key_b, policy, step, n_worst))
    return DiffResult(
        path_a=path_a,
        path_b=path_b,
        step=step,
        policy=policy,
        extensions=tuple(extensions),
        keywords=tuple(keywords),
        structure=tuple(structure),
        ignored=tuple(ignored),
    )


def _compare_data(a, b, by_key_a, by_key_b, policy, step, n_worst) -> ExtensionDiff:
    extname, extver = a.key
    is_int = np.issubdtype(a.data.dtype, np.integer) and np.issubdtype(b.data.dtype, np.integer)
    # The arrays may come as stored (big-endian): the comparisons decide a
    # byte-identical pair on its bytes and convert the others themselves.
    data_a, data_b = a.data, b.data
    if extname == "DQ" or (is_int and a.data.dtype.itemsize == 2 and extname != "SCI"):
        comparison = compare_dq(data_a, data_b)
        verdict = "identical" if comparison.identical else "differ"
        return ExtensionDiff(extname, extver, "dq", comparison, verdict, (), a.null, b.null)

    if is_int:
        # Integers (raw SCI): exact differences in int64, not float ulps.
        data_a, data_b = data_a.astype(np.int64), data_b.astype(np.int64)
    elif data_a.dtype.newbyteorder("=") != data_b.dtype.newbyteorder("="):  # not byte order only
        data_a, data_b = data_a.astype(np.float64), data_b.astype(np.float64)
    rules = policy.rules_for(step, extname)
    err = _err_for(extname, extver, by_key_a, by_key_b, data_a.shape)
    comparison = compare_float(
        data_a,
        data_b,
        err=err,
        flagged=_flagged(a, extver, by_key_a, by_key_b, data_a.shape),
        atol=rules["pixel"].atol if "pixel" in rules else 0.0,
        rtol=rules["pixel"].rtol if "pixel" in rules else 0.0,
        max_ulp=rules["ulp"].max_ulp if "ulp" in rules else 0,
        max_sigma=rules["sigma"].max_sigma if "sigma" in rules else None,
        n_worst=n_worst,
        integer=is_int,
    )
    if comparison.identical:
        return ExtensionDiff(extname, extver, "float", comparison, "identical", (), a.null, b.null)
    allowed_outside = 0
    if "fraction_outside" in rules:
        allowed_outside = math.floor(rules["fraction_outside"].max_fraction * comparison.n_pixels)
    ok = comparison.nonfinite_mismatch == 0 and comparison.n_outside <= allowed_outside
    used = ()
    if ok:
        used = tuple(
            rule.describe()
            for stat, rule in rules.items()
            if stat != "fraction_outside" or comparison.n_outside
        )
    return ExtensionDiff(
        extname, extver, "float", comparison, "agree" if ok else "differ", used, a.null, b.null
    )


def _err_for(extname, extver, by_key_a, by_key_b, shape):
    """ERR to normalise SCI differences: the larger of the two sides' ERR, per pixel."""
    if extname != "SCI":
        return None
    errs = [
        h.data
        for h in (by_key_a.get(("ERR", extver)), by_key_b.get(("ERR", extver)))
        if h is not None
        and h.data is not None
        and h.data.shape == shape
        # A null ERR of zeros (a raw file's) normalises nothing: no |Δ|/ERR at all.
        and not (h.null and not h.data.flat[0] > 0)
    ]
    if not errs:
        return None
    if len(errs) == 1 or same_bytes(*errs):
        return errs[0]  # fmax(e, e) is e, bit for bit
    return np.fmax(errs[0], errs[1])


def _flagged(a, extver, by_key_a, by_key_b, shape):
    """Pixels with an SDQFLAGS bit set in either side's DQ of the same imset."""
    sdq = a.header.get("SDQFLAGS")
    if sdq is None:
        sci = by_key_a.get(("SCI", extver))
        sdq = sci.header.get("SDQFLAGS", DEFAULT_SDQFLAGS) if sci else DEFAULT_SDQFLAGS
    mask = None
    for source in (by_key_a, by_key_b):
        dq = source.get(("DQ", extver))
        if dq is not None and dq.data is not None and dq.data.shape == shape:
            hit = (dq.data.astype(np.uint16) & np.uint16(int(sdq) & 0xFFFF)) != 0
            mask = hit if mask is None else mask | hit
    return mask


def _shape(data) -> str:
    return "no data" if data is None else "x".join(str(n) for n in data.shape[::-1])


def _dtype(h) -> str:
    return f"BITPIX {h.bitpix}"


def _describe(h) -> str:
    if h.is_table:
        return f"table of {len(h.data)} rows"
    if h.null:
        return f"null extension, PIXVALUE = {h.header['PIXVALUE']!r} for {_shape(h.data)}"
    return f"{_shape(h.data)} BITPIX {h.bitpix}"
