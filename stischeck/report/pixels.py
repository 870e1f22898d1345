"""Builders of the waterfall: which pixels to follow, and their values after each step.

Coordinates in and out are FITS ``[x, y]``, 1-based; numpy ``(y, x)`` zero-based inside.
"""

from dataclasses import dataclass

import numpy as np

from stischeck.errors import UsageError
from stischeck.fits.imsets import ProductData
from stischeck.report.constants import N_NEGATIVE_PIXELS
from stischeck.report.folder import CompareFolder, ProductReader
from stischeck.report.views import Waterfall, WaterfallRow

__all__ = ["TrackedPixel", "Tracking", "track_pixels", "sample_pixels", "waterfalls"]


# --------------------------------------------------------------------------- waterfall


def _final_product(folder: CompareFolder, products: ProductReader, sides: tuple):
    """(config, suffix, side, ProductData) of the last configuration with a product."""
    for config in reversed(folder.config_names):
        for side in sides:
            found = folder.products(config, side)
            for suffix in ("crj", "flt"):
                if suffix in found:
                    data = products.get(found[suffix])
                    if data is not None:
                        return config, suffix, side, data
    return None


#: Number of most negative flagged pixels the waterfall follows besides the good ones.
N_FLAGGED_PIXELS = 2


def _lowest(sci: np.ndarray, pool: np.ndarray, n: int) -> list:
    """Flat indices of the (at most) ``n`` most negative pixels of ``pool``, lowest first."""
    values = np.where(pool & (sci < 0), sci, np.inf).ravel()
    k = min(n, int(np.count_nonzero(np.isfinite(values))))
    if k == 0:
        return []
    idx = np.argpartition(values, k - 1)[:k] if values.size > k else np.arange(values.size)
    return [int(i) for i in idx[np.argsort(values[idx], kind="stable")] if values[i] < 0]


def _most_negative(data: ProductData, n: int) -> list:
    """
    The pixels the waterfall follows, most negative first.

    The ``n`` most negative good pixels of imset 1, then the most negative flagged ones
    (``N_FLAGGED_PIXELS``) when they go lower than every good pixel: those are the image's
    lowest values, and the narrative says why.

    Returns
    -------
    list of (x, y, good)
        FITS [x, y], 1-based; ``good``: no SDQFLAGS bit.
    """
    imset = data.imsets[0]
    sci = imset.sci
    finite = np.isfinite(sci)
    good = finite & ((imset.dq.astype(np.int32) & data.sdqflags) == 0)
    picks = [(i, True) for i in _lowest(sci, good, n)]
    lowest_good = float(sci.ravel()[picks[0][0]]) if picks else 0.0
    flagged = [
        i for i in _lowest(sci, finite & ~good, N_FLAGGED_PIXELS) if sci.ravel()[i] < lowest_good
    ]
    picks += [(i, False) for i in flagged]
    out = []
    for i, is_good in picks:
        y, x = divmod(i, sci.shape[1])
        out.append((x + 1, y + 1, is_good))
    return out


def _imset_pixel(imset, x: int, y: int, final_ltv: tuple):
    """FITS [x, y] in ``imset`` of final-product pixel [x, y], through its own LTV; or None."""
    h = imset.header
    px = x + int(round(float(h.get("LTV1", 0.0)) - final_ltv[0]))
    py = y + int(round(float(h.get("LTV2", 0.0)) - final_ltv[1]))
    ny, nx = imset.sci.shape
    return (px, py) if 1 <= px <= nx and 1 <= py <= ny else None


def _sample(data: ProductData, x: int, y: int, final_ltv: tuple):
    """
    Values of final-product pixel [x, y] in ``data``, or None when no imset holds it.

    Each imset is mapped through its own LTV1/LTV2 and shape: real files carry
    imsets of different sizes and places (target acquisitions: 100x100,
    100x100, 30x30). Only the imsets that hold the pixel are sampled; which
    ones is `_covering_note`'s business. Returns ``(px, py, sci, err, dq)``
    with [px, py] in the first such imset.
    """
    where = [(s, _imset_pixel(s, x, y, final_ltv)) for s in data.imsets]
    where = [(s, xy) for s, xy in where if xy is not None]
    if not where:
        return None
    sci = tuple(float(s.sci[py - 1, px - 1]) for s, (px, py) in where)
    err = tuple(float(s.err[py - 1, px - 1]) for s, (px, py) in where)
    dq = tuple(int(s.dq[py - 1, px - 1]) for s, (px, py) in where)
    px, py = where[0][1]
    return px, py, sci, err, dq


def _covering_note(data: ProductData, x: int, y: int, final_ltv: tuple) -> str:
    """Which imsets hold the pixel, when not all of them do (imsets of different sizes)."""
    held = [k for k, s in enumerate(data.imsets, start=1) if _imset_pixel(s, x, y, final_ltv)]
    if len(held) == len(data.imsets):
        return ""
    return f"imset{'s' if len(held) > 1 else ''} {', '.join(map(str, held))} of {len(data.imsets)}"


def _floor(data: ProductData, fallback: tuple) -> float | None:
    gain, rn = data.noise_dn
    if not gain or rn is None:
        gain, rn = fallback
    if not gain or rn is None:
        return None
    return float(np.sqrt(data.ncombine) * rn / gain)


def _header_note(data: ProductData, suffix: str) -> str:
    h = data.imsets[0].header
    parts = []
    if suffix == "raw":
        return ""
    for key in ("MEANBLEV", "MEANDARK"):
        value = h.get(key)
        if value:
            parts.append(f"{key} {float(value):.6g}")
    if suffix == "crj":
        parts.append(f"NCOMBINE {data.ncombine}")
    exptime = h.get("EXPTIME")
    if exptime is not None:
        parts.append(f"EXPTIME {float(exptime):g} s")
    return ", ".join(parts)


@dataclass(frozen=True)
class TrackedPixel:
    """A pixel of the final product to follow through the steps (FITS [x, y], 1-based)."""

    x: int
    y: int
    why: str


@dataclass(frozen=True)
class Tracking:
    """The pixels the waterfall follows, and the final product that fixes their coordinates."""

    pixels: tuple = ()  # TrackedPixel
    final_ltv: tuple = (0.0, 0.0)
    final_label: str = ""
    n_good_final: int = 0
    note: str = ""
    keep: tuple = ()  # the final product's path: kept read while building


def track_pixels(folder: CompareFolder, products: ProductReader, pixels) -> Tracking:
    """
    The requested pixels and the most negative ones of the final product.

    Raises
    ------
    UsageError
        A requested pixel lies outside the final product.
    """
    final = _final_product(folder, products, folder.sides)
    if final is None:
        note = (
            "--pixel: no configuration wrote a readable product, so there is nothing to follow "
            "the requested pixels through."
            if pixels
            else ""
        )
        return Tracking(note=note)
    f_config, f_suffix, f_side, f_data = final
    ltv = f_data.ltv
    label = f"{f_config} {f_side} _{f_suffix} ({f_data.path.name})"
    first = f_data.imsets[0]
    good = np.isfinite(first.sci) & ((first.dq.astype(np.int32) & f_data.sdqflags) == 0)
    return Tracking(
        pixels=tuple(_requested(f_data, pixels) + _negative_pixels(f_data, pixels)),
        final_ltv=ltv,
        final_label=label,
        n_good_final=int(np.count_nonzero(good)),
        note=(
            f"Coordinates are FITS [x, y], 1-based, in the final product {label}"
            f" (trimmed: LTV1 = {ltv[0]:g}, LTV2 = {ltv[1]:g}); for each earlier "
            "product (the raw frame and DQICORR's untrimmed _flt) the same detector pixel is "
            "found through that product's LTV1/LTV2."
        ),
        keep=(f_data.path,),
    )


def _requested(final: ProductData, pixels) -> list:
    ny, nx = final.shape
    out = []
    for x, y in pixels or ():
        if not (1 <= x <= nx and 1 <= y <= ny):
            raise UsageError(
                f"--pixel {x},{y}: outside the final product {final.path.name} "
                f"({nx} x {ny}; FITS x 1..{nx}, y 1..{ny})"
            )
        out.append(TrackedPixel(x, y, "requested with --pixel"))
    return out


def _negative_pixels(final: ProductData, pixels) -> list:
    from stischeck.report import narrative

    taken = {tuple(p) for p in pixels or ()}
    out = []
    for k, (x, y, good) in enumerate(_most_negative(final, N_NEGATIVE_PIXELS), start=1):
        if (x, y) in taken:
            continue
        if good:
            why = f"most negative good pixel #{k} of the final product"
        else:
            dq = int(final.imsets[0].dq[y - 1, x - 1]) & 0xFFFF
            why = (
                f"most negative flagged pixel of the final product, below every good one "
                f"(DQ {dq}: {narrative.dq_names(dq)})"
            )
        out.append(TrackedPixel(x, y, why))
    return out


def sample_pixels(tracking: Tracking, config: str, suffix: str, left, right) -> dict:
    """(k, config, suffix) -> (baseline sample, reference sample or None, data sampled)."""
    base = left if left is not None else right
    if base is None:
        return {}
    out = {}
    for k, p in enumerate(tracking.pixels):
        ls = _sample(base, p.x, p.y, tracking.final_ltv)
        both = right is not None and left is not None
        rs = _sample(right, p.x, p.y, tracking.final_ltv) if both else None
        out[k, config, suffix] = (ls, rs, base)
    return out


def waterfalls(folder: CompareFolder, tracking: Tracking, samples: dict, noise: tuple) -> list:
    """One `Waterfall` per tracked pixel: its rows in ladder order and what they say."""
    from stischeck.report import narrative

    added = {c: folder.added(c) for c in folder.config_names}
    out = []
    for k, p in enumerate(tracking.pixels):
        rows = narrative.describe_changes(
            _waterfall_rows(folder, tracking, samples, k, noise), added
        )
        explanation = narrative.explain_pixel(
            p.x, p.y, rows, added, n_good=tracking.n_good_final, is_extreme=p.why.startswith("most")
        )
        out.append(
            Waterfall(
                x=p.x,
                y=p.y,
                why=p.why,
                final_product=tracking.final_label,
                rows=rows,
                explanation=explanation,
            )
        )
    return out


def _waterfall_rows(folder, tracking: Tracking, samples: dict, k: int, noise: tuple) -> list:
    p, ltv = tracking.pixels[k], tracking.final_ltv
    rows = []
    for config in folder.config_names:
        for suffix in ("raw", "flt", "crj"):
            got = samples.get((k, config, suffix))
            if got is None or got[0] is None:
                continue
            (px, py, sci, err, dq), rs, data = got
            held = _covering_note(data, p.x, p.y, ltv)
            per = float(np.mean(sci)) if suffix != "crj" else sci[0] / data.ncombine
            delta = None
            if rs is not None:
                r_per = float(np.mean(rs[2])) if suffix != "crj" else rs[2][0] / data.ncombine
                delta = r_per - per
            rows.append(
                WaterfallRow(
                    config=config,
                    product=suffix,
                    x=px,
                    y=py,
                    sci=sci,
                    err=err,
                    dq=dq,
                    ncombine=data.ncombine if suffix == "crj" else 1,
                    per_imset=per,
                    floor=_floor(data, noise),
                    delta_ref=delta,
                    note=", ".join(n for n in (held, _header_note(data, suffix)) if n),
                )
            )
    return rows
