"""Builders of one product section: the images, histograms, difference and mask maps.

Pure: arrays of products already read (`folder.ProductReader`) in, view models out.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from stischeck.fits.imsets import ProductData
from stischeck.report import display
from stischeck.report.constants import (
    _DATAREJECT,
    _MEDIAN_SAMPLE,
    CR_KEYWORDS,
    PHOT_KEYWORDS,
    STEP_WHAT,
)
from stischeck.report.folder import CompareFolder, ProductReader
from stischeck.report.pixels import _floor, sample_pixels
from stischeck.report.verdicts import (
    _anchor,
    _config_rows,
    _dq_rows,
    _int,
    _ladders,
    _stats,
)
from stischeck.report.views import (
    ConfigSection,
    DiffMap,
    HistogramSet,
    MaskMap,
    NegativeRow,
    Panel,
    ProductSection,
)

__all__ = ["BuiltConfig", "config_section"]


# --------------------------------------------------------------------------- per product


def _panel(
    products: ProductReader, side: str, path: Path | None, status: tuple, label: str
) -> Panel:
    if path is None:
        state, message = status
        why = message or ("no product" if state in ("ok", "empty") else state)
        return Panel(side=side, label=label, error=f"{side}: {why}")
    data = products.get(path)
    if data is None:
        return Panel(side=side, label=label, path=path, error=products.error(path))
    sci = data.imsets[0].sci
    b = display.block_factor(sci.shape)
    return Panel(
        side=side,
        label=label,
        shape=sci.shape,
        image=display.block_mean(sci, b),
        block=b,
        path=path,
    )


def _histograms(datas: dict, stretch: tuple) -> HistogramSet:
    lo, hi = stretch
    width = hi - lo
    h_lo, h_hi = lo - 0.5 * width, hi + 0.5 * width
    arrays, index = [], []
    for side, data in datas.items():
        if data is None:
            continue
        for k, imset in enumerate(data.imsets, start=1):
            arrays.append(imset.sci)
            index.append((side, f"imset {k}" if len(data.imsets) > 1 else "SCI"))
    integral = display.is_integral(arrays)
    edges, counts, outside = display.histogram(arrays, h_lo, h_hi, bins=120, integral=integral)
    series, out = {}, {}
    for (side, label), c, o in zip(index, counts, outside, strict=True):
        series.setdefault(side, []).append((label, c))
        out.setdefault(side, []).append(o)
    return HistogramSet(edges, series, out, stretch, "SCI (DN)")


def _codes(left_mask: np.ndarray, right_mask: np.ndarray) -> np.ndarray:
    codes = np.zeros(left_mask.shape, np.uint8)
    codes[left_mask & right_mask] = 1
    codes[left_mask & ~right_mask] = 2
    codes[right_mask & ~left_mask] = 3
    return codes


def _mask_map(title, bit, imset, left, right, counts=None) -> MaskMap | None:
    if left is None or right is None or imset > min(len(left.imsets), len(right.imsets)):
        return None
    a, b = left.imsets[imset - 1].dq, right.imsets[imset - 1].dq
    if a.shape != b.shape:
        return None
    lm = (a.astype(np.uint16) & bit) != 0
    rm = (b.astype(np.uint16) & bit) != 0
    codes = _codes(lm, rm)
    blk = display.block_factor(codes.shape)
    shown = display.block_max(codes, blk)
    # Sparse codes are drawn 3 x 3 so they can be seen: the differing ones whenever they
    # are sparse (one pixel only in one side must show on a fully flagged frame), all
    # codes when the whole mask is sparse.
    grown = False
    if np.count_nonzero(shown) and np.count_nonzero(shown) < 0.01 * shown.size:
        shown, grown = display.grow(shown), True
    elif 0 < np.count_nonzero(shown >= 2) < 0.01 * shown.size:
        shown, grown = np.maximum(shown, display.grow(np.where(shown >= 2, shown, 0))), True
    if counts is None:
        counts = (
            int(np.count_nonzero(codes == 1)),
            int(np.count_nonzero(codes == 2)),
            int(np.count_nonzero(codes == 3)),
        )
    return MaskMap(
        title=title,
        bit=bit,
        imset=imset,
        image=shown,
        block=blk,
        shape=codes.shape,
        grown=grown,
        both=counts[0],
        only_left=counts[1],
        only_right=counts[2],
    )


def _diff_map(extname, imset, left, right, names) -> DiffMap | None:
    """Reference minus baseline of one extension of one imset, with |ΔSCI|/ERR for SCI."""
    if left is None or right is None or imset > min(len(left.imsets), len(right.imsets)):
        return None
    lset, rset = left.imsets[imset - 1], right.imsets[imset - 1]
    a = getattr(rset, extname.lower()).astype(np.float64)
    b = getattr(lset, extname.lower()).astype(np.float64)
    if a.shape != b.shape:
        return None
    with np.errstate(invalid="ignore"):
        delta = a - b
    same_nan = np.isnan(a) & np.isnan(b)
    delta[same_nan] = 0.0
    nonzero = delta != 0
    finite = np.isfinite(delta)
    n_nonzero = int(np.count_nonzero(nonzero))
    mags = np.abs(delta[nonzero & finite])
    max_abs = float(mags.max()) if mags.size else 0.0
    limit = _colour_limit(mags)
    blk = display.block_factor(delta.shape)
    left_name, right_name = names
    hist = None
    if mags.size:
        # Spare room on each side: the largest difference (a single bar when
        # every pixel differs by the same amount) stands clear of the axis edge.
        span = 1.3 * max_abs
        edges, counts, outside = display.histogram([delta[nonzero & finite]], -span, span, 101)
        hist = HistogramSet(
            edges,
            {"difference": [(f"Δ{extname} ≠ 0", counts[0])]},
            {"difference": outside},
            (-limit, limit),
            f"Δ{extname} = {right_name} − {left_name} (DN)",
            shade=False,
        )
    out = DiffMap(
        extname=extname,
        imset=imset,
        title=f"Δ{extname} = {right_name} − {left_name}, imset {imset}",
        image=display.block_extreme(delta.astype(np.float32), blk),
        block=blk,
        limit=limit,
        max_abs=max_abs,
        n_pixels=int(delta.size),
        n_nonzero=n_nonzero,
        hist=hist,
    )
    if extname == "SCI":
        out = replace(out, **_sigma_fields(delta, lset.err, finite, nonzero, blk, left_name))
    return out


def _sigma_fields(delta, err, finite, nonzero, blk: int, left_name: str) -> dict:
    """The |ΔSCI|/ERR map, its colour limit, largest value and histogram, as DiffMap fields."""
    err = err.astype(np.float64)
    usable = np.isfinite(err) & (err > 0) & finite
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(usable, np.abs(delta) / np.where(usable, err, 1.0), 0.0)
    values = sigma[usable & nonzero]
    out = dict(
        sigma_image=display.block_max(sigma.astype(np.float32), blk),
        sigma_max=float(values.max()) if values.size else 0.0,
        sigma_limit=_colour_limit(values),
    )
    if values.size:
        logs = np.log10(values)
        lo, hi = float(np.floor(logs.min())), float(np.ceil(logs.max()))
        if hi <= lo:
            hi = lo + 1.0
        edges, counts, outside = display.histogram([logs], lo, hi, 60)
        out["sigma_hist"] = HistogramSet(
            edges,
            {"sigma": [("|ΔSCI|/ERR", counts[0])]},
            {"sigma": outside},
            (lo, hi),
            f"log10 |ΔSCI| / ERR ({left_name} ERR)",
            log_x=True,
            shade=False,
        )
    return out


def _colour_limit(magnitudes: np.ndarray) -> float:
    """The 99.5th percentile of positive magnitudes: a few outliers must not wash out the map."""
    if magnitudes.size == 0:
        return 1.0
    limit = float(np.percentile(magnitudes, 99.5)) if magnitudes.size > 200 else 0.0
    if not limit > 0:
        limit = float(magnitudes.max())
    return limit if limit > 0 else 1.0


def _primary_keyword_rows(datas: dict, stats, keywords) -> list:
    """``(keyword, {side: value}, differs)`` for each of ``keywords`` either side's primary has."""
    differs = set()
    if not stats.empty:
        kw = stats[(stats["extname"] == "PRIMARY") & stats["statistic"].str.startswith("keyword:")]
        for r in kw.to_dict("records"):
            if str(r.get("within")).lower() in ("false", "0"):
                differs.add(str(r["statistic"]).split(":", 1)[1])
    rows = []
    for key in keywords:
        values = {
            side: (d.primary.get(key) if d is not None else None) for side, d in datas.items()
        }
        if all(v is None for v in values.values()):
            continue
        rows.append((key, values, key in differs))
    return rows


def _cr_params(datas: dict, stats) -> list:
    rows = _primary_keyword_rows(datas, stats, CR_KEYWORDS)
    nc = {side: (d.ncombine if d is not None else None) for side, d in datas.items()}  # SCI header
    rows.append(("NCOMBINE", nc, False))
    return rows


def _phot_params(datas: dict, stats) -> list:
    """The photometry keywords of both sides, when either side's product has PHOTFLAM."""
    if not any(d is not None and "PHOTFLAM" in d.primary for d in datas.values()):
        return []
    return _primary_keyword_rows(datas, stats, PHOT_KEYWORDS)


def _product_section(folder, products, config, suffix, sides, is_first_crj) -> ProductSection:
    left_side, right_side = sides
    paths = {s: folder.products(config, s).get(suffix) for s in sides}
    datas = {s: products.get(paths[s]) for s in sides}
    n_imsets = max((len(d.imsets) for d in datas.values() if d is not None), default=0)
    panels = [
        _panel(
            products,
            s,
            paths[s],
            folder.run_status(config, s),
            f"{s} _{suffix}" + (" imset 1" if n_imsets > 1 else ""),
        )
        for s in sides
    ]
    base = datas[left_side] or datas[right_side]
    stretch = display.stretch_limits(base.imsets[0].sci) if base is not None else (0.0, 1.0)
    stats = _stats(folder, config, suffix, folder.primary)
    diffs, differing = _diff_maps(folder, config, suffix, datas, sides)
    dq_rows, per_imset = _dq_rows(stats)
    with_cr = suffix == "crj" and is_first_crj
    return ProductSection(
        suffix=suffix,
        n_imsets=n_imsets,
        panels=panels,
        stretch=stretch,
        hist=_histograms(datas, stretch) if base is not None else None,
        diffs=diffs,
        ladders=_ladders(stats, differing) if differing is not None else [],
        dq_rows=dq_rows,
        dq_maps=_dq_maps(dq_rows, per_imset, datas, sides, with_cr),
        cr_mask=_cr_mask(dq_rows, stats, datas, sides) if with_cr else None,
        cr_params=_cr_params(datas, stats) if with_cr else [],
        phot_params=_phot_params(datas, stats),
        notes=[
            products.error(paths[s]) for s in sides if paths[s] is not None and datas[s] is None
        ],
    )


def _diff_maps(folder, config, suffix, datas, sides) -> tuple:
    """Difference maps of the extensions verdicts.csv says differ (the worst imset of each).

    Returns the maps and the differing extension names (None when verdicts.csv is empty).
    """
    left_side, right_side = sides
    v = folder.verdicts
    if v.empty:
        return [], None
    mine = v[
        (v["configuration"] == config)
        & (v["comparison"] == folder.primary)
        & (v["product"] == suffix)
        & (v["verdict"] == "differ")
    ]
    diffs, differing = [], []
    for extname in ("SCI", "ERR"):
        rows = mine[mine["extname"] == extname]
        rows = rows[rows["n_differ"].fillna(0).astype(float) > 0]
        if rows.empty:
            continue
        differing.append(extname)
        worst = rows.sort_values(["n_differ", "imset"], ascending=[False, True]).iloc[0]
        d = _diff_map(extname, _int(worst["imset"], 1), datas[left_side], datas[right_side], sides)
        if d is not None:
            diffs.append(d)
    return diffs, differing


def _dq_maps(dq_rows, per_imset, datas, sides, with_cr) -> list:
    """A mask map per DQ bit set on one side only, at the imset where it differs most."""
    left_side, right_side = sides
    maps = []
    for row in dq_rows:
        if not (row.only_left or row.only_right):
            continue
        if row.bit == _DATAREJECT and with_cr:
            continue  # the cosmic-ray mask comparison shows this bit
        candidates = {k[1]: n for k, n in per_imset.items() if k[0] == row.bit and n}
        imset = max(candidates, key=lambda k: (candidates[k], -k)) if candidates else 1
        m = _mask_map(
            f"DQ bit {row.bit} {row.name}, imset {imset}",
            row.bit,
            imset,
            datas[left_side],
            datas[right_side],
        )
        if m is not None:
            maps.append(m)
    return maps


def _cr_mask(dq_rows, stats, datas, sides) -> MaskMap | None:
    """The cosmic-ray mask comparison of the first _crj."""
    left_side, right_side = sides
    cr = next((r for r in dq_rows if r.bit == _DATAREJECT), None)
    counts = (cr.both, cr.only_left, cr.only_right) if cr else None
    return _mask_map(
        f"cosmic-ray mask (DQ {_DATAREJECT} DATAREJECT) of the _crj",
        _DATAREJECT,
        1,
        datas[left_side],
        datas[right_side],
        counts if cr or not stats.empty else None,
    )


@dataclass(frozen=True)
class BuiltConfig:
    """One configuration's section and what the page gathers across sections from it."""

    section: ConfigSection
    negatives: list  # NegativeRow
    samples: dict  # (pixel k, config, suffix) -> samples, see `pixels.sample_pixels`
    has_crj: bool
    noise: tuple | None  # (gain, read noise) of the first product that has them


def config_section(folder, products, config: str, tracking, seen_crj: bool) -> BuiltConfig:
    """The section of one configuration: its verdicts (read) and its products (shown)."""
    sides = folder.sides
    found = {s: folder.products(config, s) for s in sides}
    suffixes = [s for s in ("crj", "flt") if any(s in f for f in found.values())]
    parts, negatives, samples, noise = [], [], {}, None
    if not suffixes:
        # No product (all OMIT, or both sides failed): show the raw input instead.
        raw = folder.raw_input(config, sides[0])
        data = products.get(raw)
        if data is not None:
            parts.append(_raw_section(products, raw, data))
            negatives.append(_negative_row(config, "raw", "input", data))
            samples.update(sample_pixels(tracking, config, "raw", data, None))
    for suffix in suffixes:
        parts.append(
            _product_section(
                folder, products, config, suffix, sides, suffix == "crj" and not seen_crj
            )
        )
        datas = {s: products.get(found[s].get(suffix)) for s in sides}
        for s in sides:
            if datas[s] is not None:
                negatives.append(_negative_row(config, suffix, s, datas[s]))
                if datas[s].noise_dn[0] and noise is None:
                    noise = datas[s].noise_dn
        samples.update(sample_pixels(tracking, config, suffix, datas[sides[0]], datas[sides[1]]))
    entry = folder.summary.get("configurations", {}).get(config, {})
    section = ConfigSection(
        name=config,
        anchor=_anchor(config),
        added=folder.added(config),
        performed=folder.performed(config),
        what=_what(folder, config),
        verdicts=dict(entry),
        attribution=folder.summary.get("attribution", {}).get(config),
        rows=_config_rows(folder, config),
        products=parts,
        notes=[
            _side_message(s, message)
            for s in sides
            for status, message in [folder.run_status(config, s)]
            if status == "error"
        ],
    )
    return BuiltConfig(section, negatives, samples, "crj" in suffixes, noise)


def _raw_section(products, raw, data) -> ProductSection:
    label = "raw input" + (" imset 1" if len(data.imsets) > 1 else "")
    stretch = display.stretch_limits(data.imsets[0].sci)
    return ProductSection(
        suffix="raw",
        n_imsets=len(data.imsets),
        panels=[_panel(products, "input", raw, ("ok", ""), label)],
        stretch=stretch,
        hist=_histograms({"input": data}, stretch),
    )


# --------------------------------------------------------------------------- negatives


def _negative_row(config, product, side, data: ProductData) -> NegativeRow:
    n_pix = n_neg = n_good = n_good_neg = 0
    mins, samples = [], []
    sdq = np.int16(data.sdqflags & 0x7FFF)  # DQ is int16; SDQFLAGS never uses the sign bit
    total = sum(imset.sci.size for imset in data.imsets)
    step = max(1, -(-total // _MEDIAN_SAMPLE))
    flagged_dq: dict = {}
    flagged_mins = []
    for imset in data.imsets:
        sci = imset.sci
        good = (imset.dq & sdq) == 0
        neg = sci < 0  # NaN is not negative
        if not np.isfinite(sci).all():
            finite = np.isfinite(sci)
            good &= finite
            mins.append(float(sci[finite].min()) if finite.any() else float("nan"))
        else:
            mins.append(float(sci.min()) if sci.size else float("nan"))
        n_pix += sci.size
        n_neg += int(np.count_nonzero(neg))
        n_good += int(np.count_nonzero(good))
        n_good_neg += int(np.count_nonzero(neg & good))
        bad_neg = neg & ~good
        if bad_neg.any():
            values, counts = np.unique(
                imset.dq[bad_neg].astype(np.int32) & 0xFFFF, return_counts=True
            )
            for v, c in zip(values.tolist(), counts.tolist(), strict=True):
                flagged_dq[v] = flagged_dq.get(v, 0) + c
            flagged_mins.append(float(sci[bad_neg].min()))
        # an evenly spaced sample for the median: exact enough for a display statistic
        flat_sci, flat_good = sci.ravel()[::step], good.ravel()[::step]
        samples.append(flat_sci[flat_good])
    allgood = np.concatenate(samples) if samples else np.empty(0, np.float32)
    finite_mins = [m for m in mins if m == m]
    return NegativeRow(
        config=config,
        product=product,
        side=side,
        n_imsets=len(data.imsets),
        n_pixels=n_pix,
        n_negative=n_neg,
        n_good=n_good,
        n_good_negative=n_good_neg,
        min_value=min(finite_mins) if finite_mins else float("nan"),
        median_good=float(np.median(allgood)) if allgood.size else float("nan"),
        info=_info(data, product),
        flagged_dq=dict(sorted(flagged_dq.items(), key=lambda kv: (-kv[1], kv[0]))),
        flagged_min=min(flagged_mins) if flagged_mins else float("nan"),
    )


def _info(data: ProductData, product: str) -> dict:
    h = data.imsets[0].header
    out = {"ncombine": data.ncombine if product == "crj" else 1}
    for key in ("MEANBLEV", "MEANDARK", "EXPTIME"):
        value = h.get(key)
        if value is not None:
            out[key] = float(value)
    out["floor"] = _floor(data, (None, None))
    return out


def _what(folder: CompareFolder, config: str) -> str:
    """What a configuration does: its ladder step, or each switch it performs."""
    performed = [s for s in folder.performed(config) if s != "EXPSCORR"]
    if not performed:
        return STEP_WHAT["RAW"]
    added = folder.added(config)
    if added is not None:
        return STEP_WHAT.get(added, "")
    return "; ".join(f"{s} {STEP_WHAT[s]}" for s in performed if s in STEP_WHAT)


def _side_message(side: str, message: str) -> str:
    """``"calstis: cs0.e failed ..."``, without doubling a side name the message starts with."""
    return message if message.startswith(f"{side}:") else f"{side}: {message}"
