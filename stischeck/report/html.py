"""Render a `ReportModel` as one self-contained HTML page.

Images are PNG data URIs, the style sheet is inline, there is no script and
no external resource: the file reads the same offline and in ten years. The
page is a view of the compare tables: failures first, then one section per
configuration, negative counts, trailers and provenance (collapsed).
"""

import json
import math
from functools import lru_cache

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from stischeck.compare.tables import ERR_INITIALISATION, STATISTICS_ONLY
from stischeck.report import figures
from stischeck.report.model import VERDICT_RANK
from stischeck.report.product_views import ImageView, g, product_view, uri

__all__ = ["render_html", "template"]

_CSS = """
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9dce1; --bg:#ffffff; --soft:#f5f6f8;
  --identical:#1e7d32; --agree:#5a8f29; --empty:#7a7f87; --differ:#c62828; --error:#8e0000; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg);
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 18px 24px 60px; }
h1 { font-size: 22px; margin: 4px 0 6px; }
h2 { font-size: 18px; margin: 34px 0 8px; padding-top: 10px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 22px 0 6px; }
h4 { font-size: 13.5px; margin: 16px 0 6px; color: #333; }
p { margin: 6px 0; }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
a { color: #1a5fb4; text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.small { font-size: 12.5px; }
.prov { color: var(--muted); font-size: 13px; margin-bottom: 10px; }
.prov b { color: var(--fg); font-weight: 600; }
.badge { display:inline-block; padding: 1px 8px; border-radius: 10px; color:#fff;
  font-size: 12px; font-weight: 600; letter-spacing: .02em; vertical-align: 1px; }
.badge.big { font-size: 15px; padding: 3px 12px; border-radius: 13px; }
.v-identical { background: var(--identical); } .v-agree { background: var(--agree); }
.v-empty { background: var(--empty); } .v-differ { background: var(--differ); }
.v-error { background: var(--error); } .v-unknown { background: #999; }
.ladder { display:flex; flex-wrap: wrap; gap: 5px; margin: 10px 0 6px; align-items: stretch; }
.rung { border:1px solid var(--line); border-radius: 6px; padding: 3px 6px;
  background: var(--soft); }
.rung.first { border: 2px solid var(--differ); background: #fdecea; }
.rung .name { font-weight: 600; font-size: 13px; display:block; color: var(--fg); }
.rung .cmp { font-size: 10.5px; color: var(--muted); display:block; white-space: nowrap; }
.rung .badge { font-size: 10.5px; padding: 0 6px; }
.arrow { align-self: center; color: #999; margin: 0 -2px; }
.callout { border-left: 4px solid var(--differ); background:#fdecea; padding: 8px 12px;
  margin: 10px 0; }
.callout.ok { border-color: var(--identical); background: #e9f5ec; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left;
  vertical-align: top; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.fail td { background: #fff5f5; }
td.detail { min-width: 200px; overflow-wrap: anywhere; color: #444; font-size: 12px; }
table.wide { width: 100%; }
td.nowrap, th.nowrap { white-space: nowrap; }
td.anywhere { overflow-wrap: anywhere; }
table.compact th, table.compact td { padding: 2px 6px; font-size: 11.5px; }
table.waterfall td.what { min-width: 300px; }
table.waterfall .hdr { display: block; color: var(--muted); font-size: 11px; }
table.kv td:first-child { color: var(--muted); white-space: nowrap; }
.pair { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.stack { display: flex; flex-direction: column; gap: 8px; }
figure { margin: 4px 0; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 3px; max-width: 560px; }
.stack figcaption { max-width: none; }
img.px { image-rendering: pixelated; image-rendering: crisp-edges; border: 1px solid #bbb;
  display: block; background: #eee; }
img.plot { display: block; max-width: 100%; height: auto; }
.cbar { display:flex; align-items:center; gap: 6px; font-size: 12px; color: var(--muted);
  margin: 6px 0; }
.cbar img { width: 240px; height: 12px; border: 1px solid #bbb; }
.missing { border: 1px dashed #c9c9c9; background: var(--soft); color: var(--muted); padding: 18px;
  min-width: 300px; font-size: 13px; }
.legend span { display:inline-block; width: 11px; height: 11px; border: 1px solid #777;
  vertical-align: -1px; margin: 0 4px 0 10px; }
.note { color: #7a4d00; background: #fff8e1; border-left: 3px solid #f0b400; padding: 4px 10px;
  margin: 6px 0; }
details { margin: 6px 0; }
details > summary { cursor: pointer; color: #1a5fb4; }
details pre { background: var(--soft); border: 1px solid var(--line); padding: 8px;
  max-height: 420px; overflow: auto; white-space: pre-wrap; }
nav.toc { font-size: 13px; margin: 8px 0; color: var(--muted); }
nav.toc a { margin-right: 10px; }
.explain li { margin: 2px 0; }
"""


def _badge(verdict: str, big: bool = False) -> Markup:
    """A verdict's coloured badge (unknown verdicts grey)."""
    known = verdict if verdict in VERDICT_RANK else "unknown"
    return Markup(template("badge.html.j2").render(verdict=verdict, known=known, big=big))


def _num(value, fmt: str = "{:,}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return fmt.format(value)


def _section_html(s, sides: tuple) -> Markup:
    """One configuration's section: its products, then its verdicts.csv rows."""
    left, right = sides
    product = template("product.html.j2")
    products = [
        Markup(
            product.render(v=product_view(s, p, sides), s=s, p=p, left=left, right=right)
        ).rstrip("\n")
        for p in s.products
    ]
    rows = [_config_row_view(r) for r in s.rows]
    return Markup(template("section.html.j2").render(s=s, products=products, rows=rows))


def _render_page(m) -> str:
    """The page: the sections, laid out by the ``page.html.j2`` template."""
    rows = [_verdict_row_view(r) for r in m.verdict_table]
    return template("page.html.j2").render(
        m=m,
        css=Markup(_CSS),
        fd=_first_divergent_view(m),
        rows=rows,
        failing=[r for r in rows if r["failing"]],
        matrix=_matrix_view(m.verdict_matrix),
        sections=[_section_html(s, m.folder.sides) for s in m.sections],
        chart=_negatives_chart(m),
        waterfalls=[_waterfall_view(wf) for wf in m.waterfalls],
        left=m.folder.sides[0],
        right=m.folder.sides[1],
        prov=_provenance_view(m.folder),
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The report's jinja2 templates: autoescaped, None rendered as an empty string."""
    env = Environment(
        loader=PackageLoader("stischeck.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=lambda value: "" if value is None else value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        badge=_badge,
        short=_short,
        num=_num,
        rel=_rel,
        all_empty=_all_empty,
        kw=_kw,
        pct=_pct,
        g=g,
    )
    return env


def template(name: str):
    """A template of the report's jinja2 environment (autoescaping on); batch's index uses it."""
    return _environment().get_template(name)


def _config_row_view(r: dict) -> dict:
    """One verdicts.csv row of a configuration as the text of its cells."""
    wx, wy = r.get("worst_x"), r.get("worst_y")
    worst = (
        f"[{int(wx)}, {int(wy)}]"
        if wx is not None and wy is not None and wx == wx and wy == wy
        else ""
    )
    imset = r.get("imset")
    return dict(
        comparison=r["comparison"],
        product=r["product"],
        extname=r["extname"],
        imset="" if imset is None or imset != imset else int(imset),
        verdict=str(r["verdict"]),
        n_differ=_cell(r.get("n_differ")),
        max_ulp=_cell(r.get("max_ulp")),
        max_abs_diff=_cell(r.get("max_abs_diff"), float_fmt=True),
        worst=worst,
        dq_bits=r.get("dq_bits"),
        detail=_detail(str(r.get("detail") or "")),
    )


def _negatives_chart(m) -> dict | None:
    """The share-of-negative-good-pixels chart (PNG img markup), or None with nothing to plot."""
    sides = m.folder.sides
    labels, series = _negative_series(m.negatives, [s.name for s in m.sections], sides)
    if not labels:
        return None
    return dict(
        image=ImageView(
            uri(figures.negatives_png(labels, series)), "share of negative good pixels"
        ),
        half="; the dotted line is one half" if figures.half_line_shown(series) else "",
    )


def _waterfall_view(wf):
    """A waterfall with each row's cells as text."""
    from stischeck.report.narrative import dq_names

    rows = []
    for r in wf.rows:
        dq = 0
        for v in r.dq:
            dq |= v
        per = _fixed(r.per_imset) + (" (_crj/N)" if r.product == "crj" and r.ncombine > 1 else "")
        rows.append(
            dict(
                config=r.config,
                label={"raw": "raw", "flt": "_flt", "crj": "_crj (sum)"}[r.product],
                x=r.x,
                y=r.y,
                sci=" / ".join(_fixed(v) for v in r.sci),
                per=per,
                change=r.change,
                note=r.note,
                err="—" if r.product == "raw" else " / ".join(_fixed(v) for v in r.err),
                floor=_fixed(r.floor) if r.floor and r.product != "raw" else "",
                dq=f"{dq}{(' ' + dq_names(dq)) if dq else ''}",
                delta="" if r.delta_ref is None else g(r.delta_ref, 4),
            )
        )
    return dict(x=wf.x, y=wf.y, why=wf.why, explanation=wf.explanation, rows=rows)


def _first_divergent_view(m) -> dict:
    """The first divergent step's attribution, which side moved, and why, in words."""
    rung = next((r for r in m.ladder if r.name == m.first_divergent), None)
    att = rung.attribution if rung else None
    entry = rung.verdicts if rung else {}
    starting = "both sides starting from calstis's previous product"
    if m.two_builds:
        starting = "builds A and B each running the step on build B's previous product"
    if any(k.startswith("steplocal-") for k in entry):
        why = {
            "this step": f"the step-local run ({starting}) differs too: the step itself "
            "is the cause",
            "inherited": "the step-local run agrees: the difference is inherited",
        }.get(att or "", _WHY.get(att or "", "see the step-local verdicts"))
    else:
        why = _WHY.get(
            att or "",
            "the first rung that diverges; no step-local run (it needs live calstis) "
            "to tell the step itself from what it inherits",
        )
    return dict(attribution=att, moved=rung.moved if rung else None, why=why)


def _verdict_row_view(r: dict) -> dict:
    """One verdict-table row as the text of its cells (header rows carry no pixel figures)."""
    if r["extname"] == "PRIMARY":  # a header row: no pixel figures
        r = dict(r, n_differ=None, max_ulp=None, max_abs_diff=None)
    elif r["extname"] == "DQ":  # bits, not values: no ulp or |Δ|
        r = dict(r, max_ulp=None, max_abs_diff=None)
    worst = ""
    if r["worst_x"] is not None and r["worst_y"] is not None:
        worst = f"[{int(r['worst_x'])}, {int(r['worst_y'])}]"
        if r["worst_imset"] is not None:
            worst += f" ({int(r['worst_imset'])})"
    return dict(
        failing=r["failing"],
        anchor=r["anchor"],
        configuration=r["configuration"],
        comparison=_pretty(r["comparison"]),
        product="_" + r["product"] if r["product"] else "",
        extname=r["extname"],
        verdict=r["verdict"],
        imsets=f"{r['n_imsets_failing']} / {r['n_imsets']}" if r["n_imsets"] else "",
        n_differ=_num(r["n_differ"]),
        max_ulp=_num(r["max_ulp"]),
        max_abs_diff=g(r["max_abs_diff"], 4),
        worst=worst,
        dq_bits=r["dq_bits"],
        keywords_differ=_num(r["keywords_differ"]) if r["keywords_differ"] else "",
        detail=_detail(r["detail"]),
    )


def _matrix_view(mx: dict) -> dict:
    """The at-a-glance matrix: per configuration x comparison, one cell per product x ext."""
    cols = mx["columns"]
    rows = []
    for row in mx["rows"]:
        whole = None
        if row["whole"] and not row["cells"]:
            w = row["whole"][0]
            whole = dict(colspan=max(1, len(cols)), verdict=w["verdict"], detail=w["detail"])
        cells = [_matrix_cell(row["cells"].get(key)) for key in cols]
        fail = any(r["failing"] for r in row["cells"].values()) or any(
            w["failing"] for w in row["whole"]
        )
        rows.append(
            dict(
                fail=fail,
                anchor=row["anchor"],
                configuration=row["configuration"],
                comparison=_pretty(row["comparison"]),
                whole=whole,
                cells=cells,
            )
        )
    return dict(columns=cols, rows=rows)


def _matrix_cell(r: dict | None) -> dict | None:
    if r is None:
        return None
    bits = []
    if r["failing"]:
        if r["n_differ"]:
            bits.append(f"{r['n_differ']:,} px")
        if r["max_abs_diff"]:
            bits.append(f"|Δ| {g(r['max_abs_diff'], 3)}")
        if r["dq_bits"]:
            bits.append("bits " + " ".join(b.split(":")[0] for b in r["dq_bits"].split()))
        if r["keywords_differ"]:
            bits.append(f"{r['keywords_differ']} keywords")
    return dict(verdict=r["verdict"], failing=r["failing"], bits=" · ".join(bits))


def _provenance_view(folder) -> dict:
    """The provenance section's rows: provenance.json flattened, configurations, runs."""
    p = folder.provenance
    rows = []

    def flat(prefix, value):
        if isinstance(value, dict) and prefix != "reference_files":
            for k, v in value.items():
                flat(f"{prefix}.{k}" if prefix else k, v)
        elif prefix != "reference_files":
            rows.append((prefix, value))

    flat("", p)
    cfg = folder.configurations
    columns, config_rows = [], []
    if not cfg.empty:
        columns = [c for c in cfg.columns if c != "configuration" and (cfg[c] != "OMIT").any()]
        config_rows = cfg.to_dict("records")
    order = {n: k for k, n in enumerate(folder.config_names)}
    runs = [
        r
        for _, r in sorted(folder.runs.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))
    ]
    return dict(
        rows=rows,
        refs=p.get("reference_files") or {},
        config_columns=columns,
        config_rows=config_rows,
        runs=runs,
        products=[" ".join(_rel(q, folder.path) for q in r.products.values()) for r in runs],
        summary=json.dumps(folder.summary, indent=2),
    )


def _fixed(value) -> str:
    """A DN value with two decimals (whole numbers, like raw DN, without)."""
    if value is None or not math.isfinite(value):
        return "" if value is None else str(value)
    return f"{value:.0f}" if float(value).is_integer() and abs(value) < 1e7 else f"{value:.2f}"


def _pretty(comparison: str) -> str:
    """A comparison's name for tables: "reference vs calstis", "step-local: reference vs ..."."""
    if comparison.startswith("steplocal-"):
        return "step-local: " + comparison.replace("steplocal-", "").replace("-vs-", " vs ")
    return comparison.replace("-vs-", " vs ")


#: Why an attribution names work calstis does inside a run rather than the rung's switch.
_WHY = {
    STATISTICS_ONLY: (
        "the pixels agree; only the STATFLAG statistics keywords (NGOODPIX, GOOD*, SNR*) "
        "differ, and STATFLAG runs at the end of every calstis1 run, so every rung shows it"
    ),
    ERR_INITIALISATION: (
        "only ERR differs (and the statistics computed from it): the noise model fills ERR "
        "inside the first calstis1 run on the raw file, whichever switch that run is for; "
        "a step-local run starts from an ERR already filled"
    ),
}


def _all_empty(verdicts: dict) -> bool:
    """Several comparisons, every one "empty" (RAW: no side writes a product)."""
    return len(verdicts) > 1 and set(verdicts.values()) == {"empty"}


#: Two-build comparisons in tight places: A is the baseline, B is calstis.
_SHORT_TWO_BUILDS = {
    "baseline-vs-calstis": "A vs B",
    "reference-vs-baseline": "ref vs A",
    "baseline-reference-vs-baseline": "ref vs A",
    "steplocal-baseline-vs-steplocal-calstis": "step-local A vs B",
}


def _short(comparison: str) -> str:
    """A comparison's name for tight places: "vs calstis", "step-local", "A vs B"."""
    if comparison in _SHORT_TWO_BUILDS:
        return _SHORT_TWO_BUILDS[comparison]
    if comparison.startswith("steplocal-"):
        return "step-local"
    return comparison.replace("reference-vs-", "vs ").replace("-vs-", " vs ")


def _detail(text: str, limit: int = 110) -> Markup:
    """A long detail cell folded after ``limit`` characters (keyword lists can run long)."""
    cut = len(text)
    if len(text) > limit + 20:
        cut = text.rfind(";", 0, limit)
        cut = cut + 1 if cut > 40 else limit
    return Markup(template("detail.html.j2").render(head=text[:cut], tail=text[cut:]))


def _rel(path, base) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return str(path)


def _kw(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        return _float_text(value)
    return str(value)


def _float_text(value: float) -> str:
    """
    A header float at its own precision.

    calstis writes float32 keywords (``%.8g`` of a float32: ``0.80000001``); they are
    shown as the float32's shortest repr (``0.8``), other values at 8 significant digits.
    """
    text = f"{value:.8g}"
    if math.isfinite(value) and abs(value) < 3.4e38:
        single = np.float32(value)
        if f"{float(single):.8g}" == text:
            short = str(single)
            return short[:-2] if short.endswith(".0") else short
    return text


def _pct(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{100 * x:.3g}%"


def _cell(value, float_fmt: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if float_fmt:
        return g(float(value), 6)
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def _negative_series(negatives, config_names, sides) -> tuple:
    labels, series = [], {}
    by_key = {}
    for n in negatives:
        by_key.setdefault((n.config, n.side), n)  # first row = the main product
    shown = [s for s in sides if any(n.side == s for n in negatives)]
    if any(n.side == "input" for n in negatives):
        shown = shown or [sides[0]]
    for name in config_names:
        labels.append(name)
        for side in shown:
            row = by_key.get((name, side)) or by_key.get((name, "input"))
            series.setdefault(side, []).append(row.good_fraction if row is not None else None)
    return (labels, series) if series else ([], {})


def render_html(model) -> str:
    """
    The report page for a `ReportModel`.

    Returns
    -------
    str
        A complete HTML5 document, self-contained (PNG data URIs, inline CSS, no script).
    """
    return _render_page(model)
