"""Small line plots drawn with PIL: histograms on a log count axis, and a line chart.

matplotlib made each histogram figure cost 0.1-0.3 s (axis and tick-label
layout), which put a full-frame report over its 3 s budget; the few plot
types the report needs are simple enough to draw directly. Everything is
drawn at twice the size and averaged down 2 x 2, which smooths
lines and text. The font is matplotlib's DejaVu Sans when matplotlib is
installed, else PIL's bundled font.
"""

import io
import math
from functools import lru_cache

import numpy as np

__all__ = ["Panel", "Series", "draw_panels", "draw_chart", "nice_ticks"]

_SS = 2  # supersampling factor
_GRID = (229, 229, 229)
_FRAME = (60, 60, 60)
_TEXT = (30, 30, 30)
_BAND = (253, 243, 207)


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    try:
        from pathlib import Path

        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        return ImageFont.truetype(str(path), size * _SS)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size * _SS)


def _rgb(colour) -> tuple:
    if isinstance(colour, str):
        c = colour.lstrip("#")
        return tuple(int(c[i : i + 2], 16) for i in (0, 2, 4))
    return tuple(colour)


def nice_ticks(lo: float, hi: float, n: int = 6) -> list:
    """
    Round tick values covering [lo, hi], about ``n`` of them (steps of 1, 2, 2.5 or 5 x 10^k).

    Examples
    --------
    >>> nice_ticks(0, 10)
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks


def _tick_label(v: float, step: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.1e}".replace("e+0", "e").replace("e-0", "e-")
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step == 2.5 * 10 ** math.floor(math.log10(step)) and step < 10:
        decimals += 1
    return f"{v:,.{decimals}f}"


def _count_label(v: float) -> str:
    return f"{v:,.0f}" if v < 1e5 else f"1e{round(math.log10(v))}"


class Series:
    """One line: x edges and counts (a step histogram) or x and y points (a chart)."""

    def __init__(self, label, x, y, colour, *, steps=True, marker=None, line=True, width=1.3):
        self.label, self.x, self.y = label, np.asarray(x, float), np.asarray(y, float)
        self.colour, self.steps, self.marker, self.line, self.width = (
            _rgb(colour),
            steps,
            marker,
            line,
            width,
        )


class Panel:
    """One plot panel: series, axis ranges, labels, a shaded band, a vertical zero line."""

    def __init__(
        self,
        series,
        *,
        xlim,
        title="",
        xlabel="",
        ylabel="",
        log_y=True,
        ylim=None,
        band=None,
        zero_line=False,
        xticks=None,
        xtick_labels=None,
        hline=None,
    ):
        self.series, self.xlim, self.title, self.xlabel, self.ylabel = (
            series,
            xlim,
            title,
            xlabel,
            ylabel,
        )
        self.log_y, self.ylim, self.band, self.zero_line = log_y, ylim, band, zero_line
        self.xticks, self.hline = xticks, hline
        self.xtick_labels = xtick_labels or {}


def _png(img) -> bytes:
    small = img.reduce(_SS)  # box filter: the supersampling average
    buf = io.BytesIO()
    small.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _dashed(draw, p0, p1, colour, width, dash=6 * _SS, gap=4 * _SS) -> None:
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    t = 0.0
    while t < length:
        e = min(t + dash, length)
        draw.line(
            [(x0 + ux * t, y0 + uy * t), (x0 + ux * e, y0 + uy * e)], fill=colour, width=width
        )
        t = e + gap


def _draw_panel(draw, panel: Panel, box: tuple, show_ylabels: bool) -> None:
    left, top, right, bottom = box
    axes = _axes(panel, box)
    x0, x1, px = axes[0], axes[1], axes[4]
    if panel.band is not None:
        b0, b1 = max(panel.band[0], x0), min(panel.band[1], x1)
        if b1 > b0:
            draw.rectangle([px(b0), top, px(b1), bottom], fill=_BAND)
    _draw_grid(draw, panel, box, axes, show_ylabels)
    _draw_series(draw, panel, axes)
    draw.rectangle([left, top, right, bottom], outline=_FRAME, width=_SS)
    _draw_labels(draw, panel, box)


def _axes(panel: Panel, box: tuple) -> tuple:
    """(x0, x1, ly0, ly1, px, py): the axis limits and the data -> pixel maps of a panel."""
    left, top, right, bottom = box
    x0, x1 = panel.xlim
    if not x1 > x0:
        x0, x1 = x0 - 1.0, x1 + 1.0
    if panel.ylim is not None:
        y0, y1 = panel.ylim
    else:
        peak = max([float(np.nanmax(s.y)) for s in panel.series if s.y.size] + [1.0])
        y0, y1 = (0.7, peak * 2.0) if panel.log_y else (0.0, peak * 1.08)
    if panel.log_y:
        ly0, ly1 = math.log10(max(y0, 1e-12)), math.log10(max(y1, y0 * 10))
    else:
        ly0, ly1 = y0, y1 if y1 > y0 else y0 + 1.0

    def px(x):
        return left + (x - x0) / (x1 - x0) * (right - left)

    def py(y):
        if panel.log_y:
            v = math.log10(y) if y > 0 else ly0
        else:
            v = y
        v = min(max(v, ly0), ly1)
        return bottom - (v - ly0) / (ly1 - ly0) * (bottom - top)

    return x0, x1, ly0, ly1, px, py


def _draw_grid(draw, panel: Panel, box: tuple, axes: tuple, show_ylabels: bool) -> None:
    """Grid lines, ticks and tick labels, the reference line and the zero line."""
    left, top, right, bottom = box
    x0, x1, ly0, ly1, px, py = axes
    small = _font(10)
    # grid and ticks
    xticks = panel.xticks if panel.xticks is not None else nice_ticks(x0, x1, 7)
    step = (xticks[1] - xticks[0]) if len(xticks) > 1 else 1.0
    for t in xticks:
        if not (x0 - 1e-12 <= t <= x1 + 1e-12):
            continue
        x = px(t)
        draw.line([(x, top), (x, bottom)], fill=_GRID, width=_SS)
        draw.line([(x, bottom), (x, bottom + 4 * _SS)], fill=_FRAME, width=_SS)
        label = panel.xtick_labels.get(t) or _tick_label(t, step)
        draw.text((x, bottom + 6 * _SS), label, fill=_TEXT, font=small, anchor="ma")
    if panel.log_y:
        yt = [10.0**k for k in range(math.ceil(ly0), math.floor(ly1) + 1)]
        if len(yt) > 7:
            yt = yt[:: math.ceil(len(yt) / 7)]
    else:
        yt = nice_ticks(ly0, ly1, 6)
    ystep = (yt[1] - yt[0]) if len(yt) > 1 else 1.0
    for t in yt:
        y = py(t)
        draw.line([(left, y), (right, y)], fill=_GRID, width=_SS)
        draw.line([(left - 4 * _SS, y), (left, y)], fill=_FRAME, width=_SS)
        if show_ylabels:
            text = _count_label(t) if panel.log_y else _tick_label(t, ystep)
            draw.text((left - 6 * _SS, y), text, fill=_TEXT, font=small, anchor="rm")
    if panel.hline is not None:
        y = py(panel.hline)
        _dashed(draw, (left, y), (right, y), (150, 150, 150), _SS, dash=2 * _SS, gap=3 * _SS)
    if panel.zero_line and x0 < 0 < x1:
        _dashed(draw, (px(0.0), top), (px(0.0), bottom), (70, 70, 70), _SS)


def _draw_series(draw, panel: Panel, axes: tuple) -> None:
    """The data: step histograms, lines and markers."""
    px, py = axes[4], axes[5]
    for s in panel.series:
        w = max(1, round(s.width * _SS))
        if s.steps:
            edges, counts = s.x, s.y
            pts = [(px(edges[0]), py(0))]
            for k, c in enumerate(counts):
                yy = py(c)
                pts.append((px(edges[k]), yy))
                pts.append((px(edges[k + 1]), yy))
            pts.append((px(edges[-1]), py(0)))
            draw.line(pts, fill=s.colour, width=w, joint="curve")
            continue
        pts = [(px(a), py(b)) for a, b in zip(s.x, s.y, strict=True) if math.isfinite(b)]
        if s.line and len(pts) > 1:
            draw.line(pts, fill=s.colour, width=w, joint="curve")
        r = 4 * _SS
        for x, y in pts:
            if s.marker == "o":
                draw.ellipse([x - r, y - r, x + r, y + r], fill=s.colour)
            elif s.marker == "x":
                draw.line([(x - r, y - r), (x + r, y + r)], fill=s.colour, width=w)
                draw.line([(x - r, y + r), (x + r, y - r)], fill=s.colour, width=w)


def _draw_labels(draw, panel: Panel, box: tuple) -> None:
    """The title, the x label and the legend."""
    left, top, right, bottom = box
    font = _font(11)
    small = _font(10)
    if panel.title:
        draw.text((left, top - 4 * _SS), panel.title, fill=_TEXT, font=font, anchor="ld")
    if panel.xlabel:
        draw.text(
            ((left + right) / 2, bottom + 21 * _SS),
            panel.xlabel,
            fill=_TEXT,
            font=font,
            anchor="ma",
        )
    labelled = [s for s in panel.series if s.label]
    if len(labelled) > 1 or (labelled and not labelled[0].steps):
        ly = top + 6 * _SS
        for s in labelled:
            tw = draw.textlength(s.label, font=small)
            xr = right - 8 * _SS
            draw.text((xr, ly), s.label, fill=_TEXT, font=small, anchor="ra")
            sx = xr - tw - 6 * _SS
            mid = ly + 5 * _SS
            if s.line or s.steps:
                draw.line([(sx - 18 * _SS, mid), (sx, mid)], fill=s.colour, width=2 * _SS)
            if s.marker:
                draw.ellipse(
                    [sx - 12 * _SS, mid - 3 * _SS, sx - 6 * _SS, mid + 3 * _SS], fill=s.colour
                )
            ly += 15 * _SS


def draw_panels(panels: list, *, width: int, height: int, ylabel: str = "") -> bytes:
    """
    Panels side by side sharing the y axis (labels on the first), as PNG bytes.

    Parameters
    ----------
    panels : list of Panel
    width, height : int
        Output size in pixels.
    ylabel : str
        The y-axis title, written vertically on the left.
    """
    from PIL import Image, ImageDraw

    W, H = width * _SS, height * _SS
    img = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(img)
    margin_l, margin_r, margin_t, margin_b = 66 * _SS, 12 * _SS, 22 * _SS, 42 * _SS
    gap = 14 * _SS
    n = len(panels)
    pw = (W - margin_l - margin_r - gap * (n - 1)) / n
    # one y range for all panels, so they compare
    if all(p.ylim is None for p in panels) and all(p.log_y for p in panels):
        peak = max([float(np.nanmax(s.y)) for p in panels for s in p.series if s.y.size] + [1.0])
        for p in panels:
            p.ylim = (0.7, peak * 2.0)
    for k, p in enumerate(panels):
        left = margin_l + k * (pw + gap)
        _draw_panel(draw, p, (left, margin_t, left + pw, H - margin_b), show_ylabels=(k == 0))
    if ylabel:
        font = _font(11)
        tw = int(draw.textlength(ylabel, font=font)) + 4
        label = Image.new("RGB", (tw, 16 * _SS), "white")
        ImageDraw.Draw(label).text((0, 0), ylabel, fill=_TEXT, font=font)
        label = label.rotate(90, expand=True)
        img.paste(label, (4 * _SS, int((margin_t + H - margin_b) / 2 - label.height / 2)))
    return _png(img)


def draw_chart(panel: Panel, *, width: int, height: int, ylabel: str = "") -> bytes:
    """A single linear-axis panel (line chart), as PNG bytes."""
    return draw_panels([panel], width=width, height=height, ylabel=ylabel)
