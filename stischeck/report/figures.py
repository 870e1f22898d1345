"""Render the model's arrays as PNG bytes: images, mask maps, colour bars, histograms, a chart.

Images are 8-bit palette PNGs (a colour map of 255 entries and one for NaN),
drawn with the origin at the lower left as FITS viewers show them; the
colour maps are matplotlib's. Histograms and the chart are drawn by `plot`.
Nothing here computes a statistic; it draws what the model holds.
"""

import io

import numpy as np

__all__ = [
    "image_png",
    "codes_png",
    "colorbar_png",
    "histogram_png",
    "negatives_png",
    "zero_line_shown",
    "half_line_shown",
    "MASK_COLOURS",
    "SIDE_COLOURS",
]

#: Mask-map colours: neither, both sides, baseline only, reference only (colour-blind safe).
MASK_COLOURS = ("#1b1b1b", "#f2f2f2", "#ff8c1a", "#39a0ff")
#: Line colours of the sides in histograms and charts.
SIDE_COLOURS = {
    "calstis": "#1f4e9c",
    "truth": "#1f4e9c",
    "reference": "#c0392b",
    "input": "#333333",
    "difference": "#5b2a86",
    "sigma": "#5b2a86",
}
_NAN_RGB = (255, 0, 255)


def _lut(cmap: str) -> np.ndarray:
    from matplotlib import colormaps

    rgb = colormaps[cmap](np.linspace(0.0, 1.0, 255))[:, :3]
    lut = np.vstack([np.round(rgb * 255), _NAN_RGB]).astype(np.uint8)  # index 255: NaN
    return lut


def _png(index: np.ndarray, lut: np.ndarray) -> bytes:
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(index, dtype=np.uint8), mode="P")
    img.putpalette(lut.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=4)
    return buf.getvalue()


def image_png(image: np.ndarray, lo: float, hi: float, cmap: str = "viridis") -> bytes:
    """
    A palette PNG of ``image`` with linear stretch [lo, hi]; NaN drawn magenta.

    Parameters
    ----------
    image : ndarray
        (ny, nx) float, already downsampled; row 0 is the bottom (FITS y = 1).
    lo, hi : float
        Values mapped to the first and last colour; outside values are clipped.
    cmap : str
        A matplotlib colour-map name.
    """
    a = np.asarray(image, dtype=np.float64)
    span = hi - lo if hi > lo else 1.0
    with np.errstate(invalid="ignore"):
        scaled = np.clip((a - lo) / span, 0.0, 1.0) * 254.0
    index = np.where(np.isfinite(a), np.round(np.nan_to_num(scaled)), 255).astype(np.uint8)
    return _png(np.flipud(index), _lut(cmap))


def codes_png(codes: np.ndarray) -> bytes:
    """A palette PNG of mask codes 0-3 in `MASK_COLOURS`, origin lower left."""
    lut = np.array(
        [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in MASK_COLOURS], dtype=np.uint8
    )
    return _png(np.flipud(np.asarray(codes, dtype=np.uint8)), lut)


def colorbar_png(cmap: str = "viridis") -> bytes:
    """A 255 x 1 strip of the colour map, stretched by the page into a colour bar."""
    index = np.arange(255, dtype=np.uint8)[None, :]
    return _png(index, _lut(cmap))


#: Line colours of the imsets of each side: distinct hues near the side's colour (blues and
#: greens for calstis, reds and oranges for the reference), each pair far apart in lightness
#: and hue so that imset 1 and imset 2 are told apart at a glance (and in grey print).
_SHADES = {
    "calstis": ("#1f4e9c", "#17becf", "#2ca02c", "#7f7f7f"),
    "truth": ("#1f4e9c", "#17becf", "#2ca02c", "#7f7f7f"),
    "reference": ("#c0392b", "#ff9f1c", "#8c564b", "#e377c2"),
    "input": ("#222222", "#9467bd", "#8c8c00", "#17becf"),
}


def zero_line_shown(hist) -> bool:
    """Whether `histogram_png` draws the dashed zero line: a linear x axis that holds zero."""
    return not hist.log_x and float(hist.edges[0]) < 0.0 < float(hist.edges[-1])


def _negatives_ymax(series: dict) -> float:
    top = 0.0
    for values in series.values():
        y = [100.0 * v for v in values if v is not None and v == v]
        if y:
            top = max(top, max(y))
    # Scale to the data (a few per cent is common); one half only when it is in range.
    return max(1.0, top * 1.15) if top < 45.0 else max(55.0, top + 8.0)


def half_line_shown(series: dict) -> bool:
    """Whether `negatives_png` draws the dotted line at one half (50% is on the axis)."""
    return _negatives_ymax(series) > 50.0


def histogram_png(hist, titles: dict, width: int | None = None) -> bytes:
    """
    Histograms of one `HistogramSet`, one panel per side, shared log count axis.

    The image stretch is shaded and zero marked by a dashed line (the notebook's
    point: after BLEVCORR the distribution straddles zero); imsets are shades
    of the side's colour.

    Parameters
    ----------
    hist : HistogramSet
    titles : dict
        side -> panel title.
    width : int, optional
        Width in pixels (default 530 per panel, the width of an image beside it).
    """
    from stischeck.report.plot import Panel, Series, draw_panels

    panels = []
    for side, series in hist.series.items():
        shades = _SHADES.get(side, (SIDE_COLOURS.get(side, "#333333"),))
        lines = [
            Series(label, hist.edges, counts, shades[k % len(shades)])
            for k, (label, counts) in enumerate(series)
        ]
        below = sum(o[0] for o in hist.outside.get(side, []))
        above = sum(o[1] for o in hist.outside.get(side, []))
        title = titles.get(side, side)
        if below or above:
            title += f"   (outside the range: {below:,} below, {above:,} above)"
        panels.append(
            Panel(
                lines,
                xlim=(float(hist.edges[0]), float(hist.edges[-1])),
                title=title,
                xlabel=hist.xlabel,
                band=hist.stretch if hist.shade else None,
                zero_line=zero_line_shown(hist),
            )
        )
    n = len(panels)
    return draw_panels(panels, width=width or 530 * n, height=240, ylabel="pixels")


def negatives_png(labels: list, series: dict) -> bytes:
    """
    Share of negative good pixels after each step, one line per side.

    Parameters
    ----------
    labels : list of str
        Step names, in ladder order.
    series : dict
        side -> list of fractions (0..1) or None, aligned with ``labels``.
    """
    from stischeck.report.plot import Panel, Series, draw_chart

    x = np.arange(len(labels), dtype=float)
    lines = []
    for k, (side, values) in enumerate(series.items()):
        y = np.array([np.nan if v is None else 100.0 * v for v in values], dtype=float)
        lines.append(
            Series(
                side,
                x,
                y,
                SIDE_COLOURS.get(side, "#333333"),
                steps=False,
                marker="o" if k == 0 else "x",
                line=k == 0,
                width=1.6,
            )
        )
    ymax = _negatives_ymax(series)
    panel = Panel(
        lines,
        xlim=(-0.4, len(labels) - 0.6),
        log_y=False,
        ylim=(0.0, ymax),
        xticks=[float(v) for v in x],
        xtick_labels={float(v): name for v, name in zip(x, labels, strict=True)},
        hline=50.0 if half_line_shown(series) else None,
    )
    return draw_chart(panel, width=640, height=240, ylabel="negative good pixels (%)")
