"""The view models of one product's block of a configuration section, and their builders.

A product block shows both sides' images, the histogram, the difference maps, the
per-imset statistics tables, the DQ mask maps and the cosmic-ray block. The builders
here turn the model (`views`) into small frozen dataclasses holding only what the
``product.html.j2`` template prints: text, numbers and PNG data URIs. No HTML is
built here; the template escapes everything.
"""

import base64
import math
from dataclasses import dataclass
from functools import lru_cache

from stischeck.report import display, figures

# --------------------------------------------------------------------------- view types


@dataclass(frozen=True)
class ImageView:
    """A PNG shown as an ``<img>``: its data URI, the displayed size in px (0 = natural)."""

    uri: str
    alt: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class ColorbarView:
    """A colour bar: the value at each end (text), the bar image and what it measures."""

    lo: str
    hi: str
    cmap: str
    uri: str
    text: str


@dataclass(frozen=True)
class PanelView:
    """One side's image of a product, or (``image`` None) why there is none."""

    label: str
    image: ImageView | None = None
    width: int = 0  # the product's pixels, x
    height: int = 0  # the product's pixels, y
    block: int = 1
    error: str = ""


@dataclass(frozen=True)
class HistView:
    """The SCI histogram of a product: the plot and what its caption says."""

    image: ImageView
    several_imsets: bool
    several_sides: bool
    zero_line: bool


@dataclass(frozen=True)
class SigmaView:
    """|ΔSCI|/ERR of a difference: the map, its caption figures, histogram and colour bar."""

    image: ImageView
    limit: str
    top: str  # the largest value where colours saturate, else ""
    hist: ImageView | None
    colorbar: ColorbarView


@dataclass(frozen=True)
class DiffView:
    """One difference map with its histogram, colour bar and |ΔSCI|/ERR map."""

    title: str
    image: ImageView
    n_nonzero: int
    n_pixels: int
    block: int
    clipped: tuple | None  # (colour limit, largest |Δ|) as text when colours saturate
    hist: ImageView | None
    colorbar: ColorbarView
    sigma: SigmaView | None


@dataclass(frozen=True)
class LadderTableView:
    """One differing extension's statistics.csv ladders: one row of cells per imset."""

    extname: str
    rel: tuple  # thresholds of relative difference, as text
    sig: tuple  # thresholds of |ΔSCI|/ERR, as text
    rows: tuple  # (imset, n_differ, max_ulp, max_abs_diff, max_sigma, shares)
    ulp: tuple  # ulp bin names
    ulp_rows: tuple  # (imset, counts)


@dataclass(frozen=True)
class MaskView:
    """A DQ mask map: both / only one side / neither, with the counts of each."""

    title: str
    image: ImageView
    colours: tuple  # neither, both, only left, only right (CSS colours)
    both: int
    only_left: int
    only_right: int
    block: int
    grown: bool
    caption: str = ""


@dataclass(frozen=True)
class ProductView:
    """Everything the ``product.html.j2`` template prints for one product of a section."""

    heading: str
    imsets: str
    extra: str  # "crj", "flt-cr" or "": which explanation follows the imset count
    notes: tuple
    wide: bool
    panels: tuple
    colorbar: ColorbarView | None
    hist: HistView | None
    diffs: tuple
    ladders: tuple
    masks: tuple
    cr_mask: MaskView | None
    cr_params: tuple


# --------------------------------------------------------------------------- builders


def uri(png: bytes) -> str:
    """A PNG's ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def g(value, digits: int = 6) -> str:
    """A number at ``digits`` significant digits ("" for None, "nan"/"inf" as such)."""
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _scale(shape: tuple) -> int:
    """Integer upscaling so small images are not thumbnails (a 4x4-binned frame is 256 px)."""
    h, w = shape
    target = 1024 if display.is_wide(shape) else 512
    return max(1, int(target / max(h, w, 1) + 0.5))


def pixel_image(png: bytes, shape: tuple, alt: str) -> ImageView:
    """A pixel map upscaled by a whole factor, ``shape`` the displayed array's (ny, nx)."""
    h, w = shape
    s = _scale(shape)
    return ImageView(uri(png), alt, w * s, h * s)


def _colorbar(cmap: str, lo: str, hi: str, text: str) -> ColorbarView:
    return ColorbarView(lo, hi, cmap, _colorbar_uri(cmap), text)


@lru_cache(maxsize=8)
def _colorbar_uri(cmap: str) -> str:
    """The colour bar of ``cmap`` as a data URI (the same few bars recur on every page)."""
    return uri(figures.colorbar_png(cmap))


def product_view(s, p, sides: tuple) -> ProductView:
    """The view of product ``p`` of configuration section ``s``; ``sides`` (left, right)."""
    title = ": raw input" if p.suffix == "raw" else f" _{p.suffix}"
    extra = ""
    if p.suffix == "crj":
        extra = "crj"
    elif p.suffix == "flt" and "CRCORR" in s.performed:
        extra = "flt-cr"
    lo, hi = p.stretch
    shown = [q for q in p.panels if q.image is not None]
    shape = shown[0].shape if shown else (0, 0)
    colorbar = None
    if shown:
        same = " — the same stretch on both sides" if len(p.panels) > 1 else ""
        colorbar = _colorbar(
            "viridis",
            g(lo, 5),
            g(hi, 5),
            f"DN, ZScale of the {shown[0].side} image{same}; magenta = NaN",
        )
    return ProductView(
        heading=f"{s.name}{title}",
        imsets=f"{p.n_imsets} imset{'s' if p.n_imsets != 1 else ''}",
        extra=extra,
        notes=tuple(p.notes),
        wide=display.is_wide(shape),
        panels=tuple(_panel_view(q, lo, hi) for q in p.panels),
        colorbar=colorbar,
        hist=_hist_view(s, p, title),
        diffs=tuple(_diff_view(d, sides) for d in p.diffs),
        ladders=ladder_table_views(p.ladders) if p.ladders else (),
        masks=tuple(mask_view(mm) for mm in p.dq_maps),
        cr_mask=mask_view(p.cr_mask, _CR_CAPTION) if p.cr_mask is not None else None,
        cr_params=tuple(p.cr_params or ()),
    )


_CR_CAPTION = "DQ 8192 in a _crj marks pixels rejected in every imset; counts from statistics.csv."


def _panel_view(q, lo: float, hi: float) -> PanelView:
    if q.image is None:
        return PanelView(label=q.label, error=q.error)
    png = figures.image_png(q.image, lo, hi, "viridis")
    return PanelView(
        label=q.label,
        image=pixel_image(png, q.image.shape, f"{q.label} SCI"),
        width=q.shape[1],
        height=q.shape[0],
        block=q.block,
    )


def _hist_view(s, p, title: str) -> HistView | None:
    if p.hist is None:
        return None
    titles = {
        side: f"{side} _{p.suffix}" if p.suffix != "raw" else "raw input" for side in p.hist.series
    }
    png = figures.histogram_png(p.hist, titles)
    return HistView(
        image=ImageView(uri(png), f"histograms of {s.name} {title}"),
        several_imsets=p.n_imsets > 1,
        several_sides=len(p.hist.series) > 1,
        zero_line=figures.zero_line_shown(p.hist),
    )


def _diff_view(d, sides: tuple) -> DiffView:
    left, right = sides
    png = figures.image_png(d.image, -d.limit, d.limit, "RdBu_r")
    hist = None
    if d.hist is not None:
        hist_png = figures.histogram_png(d.hist, {"difference": f"Δ{d.extname} ≠ 0"}, 500)
        hist = ImageView(uri(hist_png), f"histogram of Δ{d.extname}")
    clipped = None
    if d.max_abs > 1.001 * d.limit:
        clipped = (g(d.limit, 3), g(d.max_abs, 4))
    text = f"DN, Δ = {right} − {left}; the pale grey centre of the bar = equal (Δ = 0)"
    return DiffView(
        title=d.title,
        image=pixel_image(png, d.image.shape, d.title),
        n_nonzero=d.n_nonzero,
        n_pixels=d.n_pixels,
        block=d.block,
        clipped=clipped,
        hist=hist,
        colorbar=_colorbar("RdBu_r", g(-d.limit, 4), g(d.limit, 4), text),
        sigma=_sigma_view(d) if d.sigma_image is not None else None,
    )


def _sigma_view(d) -> SigmaView:
    png = figures.image_png(d.sigma_image, 0.0, d.sigma_limit, "magma")
    hist = None
    if d.sigma_hist is not None:
        hist_png = figures.histogram_png(d.sigma_hist, {"sigma": "|ΔSCI| / ERR"}, 500)
        hist = ImageView(uri(hist_png), "histogram of |ΔSCI|/ERR")
    top = ""
    if d.sigma_max > 1.001 * d.sigma_limit:
        top = f" (99.5% of the pixels; the largest is {g(d.sigma_max, 3)})"
    return SigmaView(
        image=pixel_image(png, d.sigma_image.shape, "|ΔSCI|/ERR"),
        limit=g(d.sigma_limit, 3),
        top=top,
        hist=hist,
        colorbar=_colorbar("magma", "0", g(d.sigma_limit, 3), "|ΔSCI| / ERR"),
    )


def ladder_table_views(ladders) -> tuple:
    """Per differing extension, the statistics.csv ladders of each imset as table cells."""
    by_ext: dict = {}
    for ladder in ladders:
        by_ext.setdefault(ladder["extname"], []).append(ladder)
    tables = []
    for extname, items in by_ext.items():
        keys = list(items[0]["values"])
        rel = _thresholds(keys, "share_rel_diff>")
        sig = _thresholds(keys, "share_sigma>")
        ulp = [k for k in keys if k.startswith("ulp_hist:")]
        rows, ulp_rows = [], []
        for item in items:
            v = item["values"]
            rows.append(
                (
                    item["imset"],
                    int(v.get("n_differ") or 0),
                    int(v.get("max_ulp") or 0),
                    g(v.get("max_abs_diff"), 4),
                    g(v["max_sigma"], 3) if v.get("max_sigma") else "",
                    tuple(v.get(k) for k in rel + sig),
                )
            )
            ulp_rows.append((item["imset"], tuple(int(v.get(k) or 0) for k in ulp)))
        tables.append(
            LadderTableView(
                extname=extname,
                rel=tuple(k.split(">", 1)[1] for k in rel),
                sig=tuple(k.split(">", 1)[1] for k in sig),
                rows=tuple(rows),
                ulp=tuple(k.split(":", 1)[1][3:] for k in ulp),
                ulp_rows=tuple(ulp_rows),
            )
        )
    return tuple(tables)


def _thresholds(keys: list, prefix: str) -> list:
    """The ``prefix<threshold>`` keys, by threshold."""
    return sorted((k for k in keys if k.startswith(prefix)), key=lambda k: float(k.split(">")[1]))


def mask_view(mm, caption: str = "") -> MaskView:
    """The view of a `MaskMap`; ``caption`` follows the legend."""
    return MaskView(
        title=mm.title,
        image=pixel_image(figures.codes_png(mm.image), mm.image.shape, mm.title),
        colours=tuple(figures.MASK_COLOURS[k] for k in range(4)),
        both=mm.both,
        only_left=mm.only_left,
        only_right=mm.only_right,
        block=mm.block,
        grown=bool(mm.grown),
        caption=caption,
    )
