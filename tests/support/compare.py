"""Pixel and keyword comparison of two products, for tests (bit-exact criteria)."""

from pathlib import Path

import numpy as np

from tests.support.corpus import read_imsets, ulp_distance

SCI_KEYWORDS = (
    "MEANBLEV",
    "MEANDARK",
    "NGOODPIX",
    "GOODMIN",
    "GOODMAX",
    "GOODMEAN",
    "SNRMIN",
    "SNRMAX",
    "SNRMEAN",
    "LTV1",
    "LTV2",
    "CRPIX1",
    "CRPIX2",
    "IMSET_OK",
)
ERR_KEYWORDS = ("NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "LTV1", "LTV2")
PRIMARY_KEYWORDS = (
    "DQICORR",
    "BLEVCORR",
    "BIASCORR",
    "CRCORR",
    "DARKCORR",
    "FLATCORR",
    "ATODGAIN",
    "READNSE",
    "PHOTMODE",
    "NEXTEND",
)


def same_value(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        # calstis writes float keywords with 8 significant digits and doubles with 13.
        return np.float32(a) == np.float32(b) and abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip() == str(b).strip()
    return a == b


def compare_products(ours: Path, truth: Path) -> dict:
    """Return per-extension (n_differ, max_ulp) and keyword mismatches; empty lists = identical."""
    a_imsets, a = read_imsets(ours)
    b_imsets, b = read_imsets(truth)
    pixel_rows, keyword_mismatches = [], []
    with a, b:
        if len(a_imsets) != len(b_imsets):
            keyword_mismatches.append(f"imsets {len(a_imsets)} != {len(b_imsets)}")
        for k, (x, y) in enumerate(zip(a_imsets, b_imsets, strict=False), start=1):
            for name, p, q in zip(("SCI", "ERR", "DQ"), x, y, strict=True):
                if p.shape != q.shape:
                    pixel_rows.append((name, k, f"shape {p.shape} != {q.shape}", None))
                    continue
                if name == "DQ":
                    n = int(np.count_nonzero(p != q))
                    ulp = 0
                else:
                    n = int(np.count_nonzero(~((p == q) | (np.isnan(p) & np.isnan(q)))))
                    ulp = ulp_distance(p, q)
                pixel_rows.append((name, k, n, ulp))
            for ext, keys in (("SCI", SCI_KEYWORDS), ("ERR", ERR_KEYWORDS)):
                for key in keys:
                    want = b[ext, k].header.get(key)
                    got = a[ext, k].header.get(key)
                    if want is None and got is None:
                        continue
                    if not same_value(got, want):
                        keyword_mismatches.append(f"[{ext},{k}] {key}: {got!r} != {want!r}")
        for key in PRIMARY_KEYWORDS:
            want, got = b[0].header.get(key), a[0].header.get(key)
            if not same_value(got, want):
                keyword_mismatches.append(f"primary {key}: {got!r} != {want!r}")
    differing = [r for r in pixel_rows if r[2] != 0 or r[3]]
    return {"pixels": pixel_rows, "differing": differing, "keywords": keyword_mismatches}
