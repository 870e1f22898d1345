"""Compute once: everything the report shows, as numbers and small arrays.

`build_model` reads a compare folder (`folder.load_folder`) and the products
in it and returns a `ReportModel`. Verdicts come from ``verdicts.csv`` and
``summary.json`` only; what is computed here from the products are image
statistics for display: downsampled images, histograms, negative-pixel
counts, DQ and cosmic-ray mask maps, and the values of chosen pixels after
each step (the waterfall). `figures` and `html` render the model and compute
nothing.

Coordinates: numpy ``(y, x)`` zero-based in code; every coordinate the model
hands out is FITS ``[x, y]``, 1-based.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stischeck.dqbits import DQ_BITS, DQ_MEANINGS
from stischeck.errors import InputFileError, UsageError
from stischeck.report import display
from stischeck.report.fitsio import ProductData, read_product
from stischeck.report.folder import CompareFolder, comparison_sides

__all__ = [
    "ReportModel",
    "ConfigSection",
    "ProductSection",
    "Panel",
    "HistogramSet",
    "DiffMap",
    "MaskMap",
    "NegativeRow",
    "Waterfall",
    "WaterfallRow",
    "build_model",
    "VERDICT_RANK",
    "CR_KEYWORDS",
]

#: Verdicts from best to worst, as compare ranks them; failures are ``differ`` and ``error``.
VERDICT_RANK = {"identical": 0, "agree": 1, "empty": 1, "differ": 2, "error": 3}
#: The CRREJTAB parameters calstis echoes in the _crj primary header (spec §12.6), and results.
CR_KEYWORDS = (
    "CRSIGMAS",
    "CRRADIUS",
    "CRTHRESH",
    "INITGUES",
    "SKYSUB",
    "SCALENSE",
    "BADINPDQ",
    "CRMASK",
    "MEANEXP",
    "REJ_RATE",
    "SKYSUM",
    "TEXPTIME",
    "CRREJTAB",
)
#: The photometry keywords calstis1 writes in the primary header (photmode.c, dophot.c).
PHOT_KEYWORDS = ("PHOTMODE", "PHOTCORR", "PHOTFLAM", "PHOTZPT", "PHOTPLAM", "PHOTBW", "IMPHTTAB")
#: What each ladder switch does (spec calstis-ccd-2d.md §4-§12), one line.
STEP_WHAT = {
    "RAW": "the raw exposure: every switch OMIT, calstis writes no product; shown is the input",
    "DQICORR": "flags saturated pixels, pixels beyond the aperture and BPIXTAB defects; SCI "
    "unchanged, ERR initialised with the CCDTAB bias",
    "BLEVCORR": "subtracts the overscan bias level (a median per row, fitted by a line "
    "across rows), trims the overscan; ERR initialised (read noise and Poisson)",
    "BIASCORR": "subtracts the bias reference image (the 2-D zero-level pattern)",
    "CRCORR": "rejects cosmic rays across the CR-SPLIT imsets and writes their sum (DN over "
    "the total exposure time) as the _crj",
    "DARKCORR": "subtracts the dark reference image scaled by EXPTIME / ATODGAIN",
    "FLATCORR": "divides by the flat field (PFLT x DFLT x expanded LFLT)",
    "ATODCORR": "replaces each raw DN by its ATODTAB correction (analog-to-digital)",
    "SHADCORR": "divides by 1 + SHADFILE / EXPTIME (shutter shading)",
    "PHOTCORR": "writes PHOTFLAM, PHOTZPT, PHOTPLAM, PHOTBW from the IMPHTTAB (imaging only; "
    "pixels unchanged)",
}
#: Good pixels the "median good SCI" is taken over at most (evenly spaced).
_MEDIAN_SAMPLE = 250_000
#: Number of most negative pixels the waterfall follows.
N_NEGATIVE_PIXELS = 3
_EXT_ORDER = {"SCI": 0, "ERR": 1, "DQ": 2, "PRIMARY": 3, "": 9}
_SUFFIX_ORDER = {"crj": 0, "flt": 1, "raw": 2, "": 3}
_BIT_NAMES = {v: k for k, v in DQ_BITS.items()}
_DATAREJECT = DQ_BITS["DATAREJECT"]


# --------------------------------------------------------------------------- model types


@dataclass
class Panel:
    """One side's image of one product: the downsampled imset-1 SCI, or why there is none."""

    side: str
    label: str
    shape: tuple = (0, 0)
    image: np.ndarray | None = None  # block-averaged SCI, float32, (ny/b, nx/b)
    block: int = 1
    path: Path | None = None
    error: str = ""


@dataclass
class HistogramSet:
    """Histograms on shared bins: per side, one count array per imset."""

    edges: np.ndarray
    series: dict  # side -> list of (label, counts)
    outside: dict  # side -> list of (n_below, n_above)
    stretch: tuple  # (lo, hi) of the image stretch, marked on the axis
    xlabel: str
    log_x: bool = False
    shade: bool = True  # shade the stretch (image histograms), not for differences


@dataclass
class DiffMap:
    """The difference of one extension of one imset: reference minus baseline."""

    extname: str
    imset: int
    title: str
    image: np.ndarray  # block extreme of the difference, float32
    block: int
    limit: float  # symmetric colour limit: the 99.5th percentile of |Δ| (larger saturate)
    max_abs: float  # the largest |Δ|
    n_pixels: int
    n_nonzero: int
    hist: HistogramSet | None
    sigma_image: np.ndarray | None = None  # |ΔSCI|/ERR, block max
    sigma_limit: float = 1.0  # colour limit of |ΔSCI|/ERR, the 99.5th percentile
    sigma_max: float = 0.0
    sigma_hist: HistogramSet | None = None


@dataclass
class MaskMap:
    """Where a DQ bit is set on both sides, only on the baseline, only on the reference.

    ``image`` holds codes 0 (neither), 1 (both), 2 (baseline only), 3 (reference only),
    block-maximum so a single differing pixel stays visible.
    """

    title: str
    bit: int
    imset: int
    image: np.ndarray
    block: int
    shape: tuple
    both: int
    only_left: int
    only_right: int
    grown: bool = False  # sparse mask: each set pixel drawn 3 x 3 so it can be seen


@dataclass
class DQBitRow:
    """One DQ bit of one product, summed over its imsets (from statistics.csv)."""

    bit: int
    name: str
    meaning: str
    left: int
    right: int
    only_left: int
    only_right: int
    both: int


@dataclass
class ProductSection:
    """One product (``_flt`` or ``_crj``) of one configuration, both sides."""

    suffix: str
    n_imsets: int
    panels: list  # [baseline Panel, reference Panel]
    stretch: tuple = (0.0, 1.0)
    hist: HistogramSet | None = None
    diffs: list = field(default_factory=list)  # DiffMap
    ladders: list = field(default_factory=list)  # dict rows from statistics.csv
    dq_rows: list = field(default_factory=list)  # DQBitRow
    dq_maps: list = field(default_factory=list)  # MaskMap
    cr_mask: MaskMap | None = None
    cr_params: list = field(default_factory=list)  # (keyword, {side: value}, differs)
    phot_params: list = field(default_factory=list)  # (keyword, {side: value}, differs)
    notes: list = field(default_factory=list)


@dataclass
class ConfigSection:
    """One configuration: its verdicts (read) and its products (shown)."""

    name: str
    anchor: str
    added: str | None
    performed: list
    what: str
    verdicts: dict  # comparison -> verdict (summary.json)
    attribution: str | None
    rows: list  # verdict rows of this configuration (verdicts.csv)
    products: list = field(default_factory=list)  # ProductSection
    notes: list = field(default_factory=list)


@dataclass
class NegativeRow:
    """Negative SCI pixels of one product of one side, over all its imsets."""

    config: str
    product: str
    side: str
    n_imsets: int
    n_pixels: int
    n_negative: int
    n_good: int
    n_good_negative: int
    min_value: float
    median_good: float
    info: dict = field(default_factory=dict)  # MEANBLEV, MEANDARK, floor (DN) from the headers
    #: Negative flagged (not good) pixels: DQ value -> count, most common first.
    flagged_dq: dict = field(default_factory=dict)
    #: The most negative flagged pixel's SCI (DN); NaN when none is negative.
    flagged_min: float = float("nan")

    @property
    def n_flagged_negative(self) -> int:
        """Negative pixels that carry an SDQFLAGS bit (left out of the good-pixel share)."""
        return self.n_negative - self.n_good_negative

    @property
    def fraction(self) -> float:
        """Share of all pixels below zero."""
        return self.n_negative / self.n_pixels if self.n_pixels else 0.0

    @property
    def good_fraction(self) -> float:
        """Share of good pixels (no SDQFLAGS bit) below zero."""
        return self.n_good_negative / self.n_good if self.n_good else 0.0


@dataclass
class WaterfallRow:
    """One pixel's values in one product of one configuration."""

    config: str
    product: str  # "raw", "flt" or "crj"
    x: int
    y: int
    sci: tuple  # per imset (a _crj has one: the sum)
    err: tuple
    dq: tuple
    ncombine: int
    per_imset: float  # mean over imsets, or _crj / NCOMBINE
    floor: float | None  # read noise / gain (x sqrt(NCOMBINE) for a sum), DN
    change: str = ""  # what this step did to the pixel, in words with numbers
    delta_ref: float | None = None  # reference minus baseline, on per_imset
    note: str = ""
    removed: tuple = ()  # per imset: previous value minus this one (what the step took away)


@dataclass
class Waterfall:
    """What each step did to one pixel (FITS [x, y] in the final product)."""

    x: int
    y: int
    why: str
    final_product: str
    rows: list
    explanation: list  # plain-words sentences


@dataclass
class ReportModel:
    """Everything the page shows."""

    folder: CompareFolder
    title: str
    verdict: str
    exit_code: int | None
    first_divergent: str | None
    first_divergent_detail: str
    provenance_line: dict
    ladder: list  # (config, anchor, {comparison: verdict}, attribution, moved)
    verdict_table: list  # dict rows, failures first
    verdict_matrix: dict  # the same rows pivoted: configuration x comparison by product x ext
    sections: list  # ConfigSection
    negatives: list  # NegativeRow
    negative_text: list  # (config, sentence)
    waterfalls: list  # Waterfall
    pixel_note: str
    trailers: list  # (config, side, path, text)
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------- pixels


# --------------------------------------------------------------------------- helpers


class _Products:
    """Read each product once; remember unreadable ones as notes instead of failing."""

    def __init__(self):
        self.cache: dict = {}
        self.errors: dict = {}

    def get(self, path: Path | None) -> ProductData | None:
        if path is None:
            return None
        key = str(path)
        if key in self.errors:
            return None
        if key not in self.cache:
            try:
                self.cache[key] = read_product(path)
            except InputFileError as err:
                self.errors[key] = str(err)
                return None
        return self.cache[key]

    def error(self, path: Path | None) -> str:
        return self.errors.get(str(path), "") if path is not None else ""

    def forget(self, keep=()) -> None:
        keep = {str(p) for p in keep}
        for key in list(self.cache):
            if key not in keep:
                del self.cache[key]


def _int(value, default=0) -> int:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if out != out else int(out)


def _float(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


def _anchor(name: str) -> str:
    return "cfg-" + "".join(c if c.isalnum() else "-" for c in name)


def _verdict_rank(v: str) -> int:
    return VERDICT_RANK.get(str(v), 0)


def _comparison_order(folder: CompareFolder) -> dict:
    names = [folder.primary]
    for c in folder.verdicts["comparison"].unique() if not folder.verdicts.empty else ():
        if c not in names:
            names.append(str(c))
    return {c: k for k, c in enumerate(names)}


# --------------------------------------------------------------------------- verdict table


def _verdict_table(folder: CompareFolder) -> list:
    """Rows per configuration x comparison x product x extension, failures first.

    Imsets are folded together: the worst verdict, how many imsets differ, the
    sum of n_differ, the largest ulp and |Δ|, and the worst pixel of the worst
    imset, all read from verdicts.csv.
    """
    v = folder.verdicts
    if v.empty:
        return []
    config_order = {n: k for k, n in enumerate(folder.config_names)}
    comp_order = _comparison_order(folder)
    groups: dict = {}
    for r in v.to_dict("records"):
        key = (r["configuration"], r["comparison"], r["product"], r["extname"])
        groups.setdefault(key, []).append(r)
    rows = []
    for (config, comparison, product, extname), members in groups.items():
        worst = max(members, key=lambda r: _verdict_rank(r["verdict"]))
        verdict = str(worst["verdict"])
        failing = [r for r in members if _verdict_rank(r["verdict"]) >= 2]

        def weight(r):
            return (
                _verdict_rank(r["verdict"]),
                _float(r.get("max_abs_diff")) or 0.0,
                _int(r.get("n_differ")),
            )

        top = max(members, key=weight)
        imsets = [r for r in members if _float(r.get("imset")) is not None]
        bits = []
        for r in members:
            for b in str(r.get("dq_bits") or "").split():
                if b not in bits:
                    bits.append(b)
        details = [str(r.get("detail") or "") for r in failing or members if r.get("detail")]
        rows.append(
            dict(
                configuration=config,
                anchor=_anchor(config),
                comparison=comparison,
                product=product,
                extname=extname,
                verdict=verdict,
                failing=verdict in ("differ", "error"),
                n_imsets=len(imsets),
                n_imsets_failing=len([r for r in failing if _float(r.get("imset")) is not None]),
                n_differ=_fold(sum, members, "n_differ", int),
                max_ulp=_fold(max, members, "max_ulp", int),
                max_abs_diff=_fold(max, members, "max_abs_diff", float),
                worst_x=_float(top.get("worst_x")),
                worst_y=_float(top.get("worst_y")),
                worst_imset=_float(top.get("imset")),
                dq_bits=" ".join(bits),
                keywords_differ=_fold(max, members, "keywords_differ", int),
                detail=details[0] if details else "",
            )
        )
    rows.sort(
        key=lambda r: (
            0 if r["failing"] else 1,
            config_order.get(r["configuration"], 999),
            comp_order.get(r["comparison"], 99),
            _SUFFIX_ORDER.get(r["product"], 3),
            _EXT_ORDER.get(r["extname"], 5),
            -_verdict_rank(r["verdict"]),
        )
    )
    return rows


def _fold(how, members, column, kind):
    """sum/max of a column over imset rows; None when no row has a number (error rows)."""
    values = [_float(r.get(column)) for r in members]
    values = [kind(v) for v in values if v is not None]
    return how(values) if values else None


def _verdict_matrix(folder: CompareFolder, table: list) -> dict:
    """The verdict table pivoted: one row per configuration x comparison, a cell per product x ext.

    Returns
    -------
    dict
        ``columns``: (product, extname) in display order; ``rows``: dicts with
        ``configuration``, ``anchor``, ``comparison``, ``cells`` ((product, ext) -> table
        row) and ``whole`` (a row without product, e.g. empty or error, or None).
    """
    config_order = {n: k for k, n in enumerate(folder.config_names)}
    comp_order = _comparison_order(folder)
    columns = sorted(
        {(r["product"], r["extname"]) for r in table if r["product"] and r["extname"]},
        key=lambda c: (_SUFFIX_ORDER.get(c[0], 3), _EXT_ORDER.get(c[1], 5), c[1]),
    )
    rows: dict = {}
    for r in table:
        key = (r["configuration"], r["comparison"])
        entry = rows.setdefault(
            key,
            dict(
                configuration=r["configuration"],
                anchor=r["anchor"],
                comparison=r["comparison"],
                cells={},
                whole=[],
            ),
        )
        if r["product"] and r["extname"]:
            entry["cells"][r["product"], r["extname"]] = r
        else:
            entry["whole"].append(r)
    ordered = sorted(
        rows.values(),
        key=lambda e: (
            config_order.get(e["configuration"], 999),
            comp_order.get(e["comparison"], 99),
        ),
    )
    return dict(columns=columns, rows=_fold_empty(ordered))


def _fold_empty(rows: list) -> list:
    """One row for a configuration whose comparisons are all the same "empty" row (RAW)."""
    out, by_config = [], {}
    for e in rows:
        by_config.setdefault(e["configuration"], []).append(e)
    for group in by_config.values():
        wholes = {(w["verdict"], w["detail"]) for e in group for w in e["whole"] if not e["cells"]}
        if len(group) > 1 and all(not e["cells"] for e in group) and len(wholes) == 1:
            if next(iter(wholes))[0] == "empty":
                out.append(dict(group[0], comparison=f"all {len(group)} comparisons"))
                continue
        out.extend(group)
    return out


def _config_rows(folder: CompareFolder, config: str) -> list:
    v = folder.verdicts
    if v.empty:
        return []
    comp_order = _comparison_order(folder)
    rows = v[v["configuration"] == config].to_dict("records")
    rows.sort(
        key=lambda r: (
            comp_order.get(r["comparison"], 99),
            _SUFFIX_ORDER.get(r["product"], 3),
            _float(r.get("imset")) or 0,
            _EXT_ORDER.get(r["extname"], 5),
        )
    )
    return rows


# --------------------------------------------------------------------------- statistics.csv views


def _stats(folder: CompareFolder, config: str, product: str, comparison: str):
    s = folder.statistics
    if s.empty or "configuration" not in s.columns:
        return s
    return s[
        (s["configuration"] == config) & (s["comparison"] == comparison) & (s["product"] == product)
    ]


def _dq_rows(stats) -> tuple:
    """DQ bit rows summed over imsets, and per-bit per-imset (only_left + only_right)."""
    if stats.empty:
        return [], {}
    dq = stats[
        (stats["extname"] == "DQ")
        & stats["statistic"].isin(["bit_only_a", "bit_only_b", "bit_both"])
    ]
    totals: dict = {}
    per_imset: dict = {}
    for r in dq.to_dict("records"):
        bit = _int(r["bit"])
        t = totals.setdefault(bit, {"bit_only_a": 0, "bit_only_b": 0, "bit_both": 0})
        value = _int(r["value"])
        t[r["statistic"]] += value
        if r["statistic"] != "bit_both":
            key = (bit, _int(r["imset"], 1))
            per_imset[key] = per_imset.get(key, 0) + value
    rows = []
    for bit in sorted(totals):
        t = totals[bit]
        # statistics.csv: file A is the reference (the comparison's first side), B the baseline.
        only_right, only_left, both = t["bit_only_a"], t["bit_only_b"], t["bit_both"]
        name = _BIT_NAMES.get(bit, f"BIT{bit}")
        rows.append(
            DQBitRow(
                bit=bit,
                name=name,
                meaning=DQ_MEANINGS.get(name, ""),
                left=only_left + both,
                right=only_right + both,
                only_left=only_left,
                only_right=only_right,
                both=both,
            )
        )
    return rows, per_imset


_LADDER_STATS = (
    ("n_differ", "n_differ"),
    ("max_ulp", "max_ulp"),
    ("max_abs_diff", "max_abs_diff"),
)


def _ladders(stats, extnames) -> list:
    """Per differing extension and imset: n_differ, max ulp, |Δ|, the share ladders, ulp bins."""
    if stats.empty:
        return []
    out = []
    for extname in extnames:
        sub = stats[stats["extname"] == extname]
        for imset in sorted({_int(i) for i in sub["imset"]}):
            rows = sub[sub["imset"] == imset]
            whole = rows[(rows["subset"] == "all") | rows["subset"].isna()]
            values = {}
            for r in whole.to_dict("records"):
                stat = str(r["statistic"])
                if stat in ("n_differ", "max_ulp", "max_abs_diff", "max_sigma") and (
                    str(r.get("subset")) == "all"
                ):
                    values[stat] = _float(r["value"])
                elif stat.startswith(("share_rel_diff>", "share_sigma>", "ulp_hist:")):
                    values[stat] = _float(r["value"])
            if not values.get("n_differ"):
                continue
            out.append(dict(extname=extname, imset=imset, values=values))
    return out


# --------------------------------------------------------------------------- per product


def _panel(products: _Products, side: str, path: Path | None, status: tuple, label: str) -> Panel:
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
        err = lset.err.astype(np.float64)
        usable = np.isfinite(err) & (err > 0) & finite
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma = np.where(usable, np.abs(delta) / np.where(usable, err, 1.0), 0.0)
        out.sigma_image = display.block_max(sigma.astype(np.float32), blk)
        values = sigma[usable & nonzero]
        out.sigma_max = float(values.max()) if values.size else 0.0
        out.sigma_limit = _colour_limit(values)
        if values.size:
            logs = np.log10(values)
            lo, hi = float(np.floor(logs.min())), float(np.ceil(logs.max()))
            if hi <= lo:
                hi = lo + 1.0
            edges, counts, outside = display.histogram([logs], lo, hi, 60)
            out.sigma_hist = HistogramSet(
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
    section = ProductSection(suffix=suffix, n_imsets=n_imsets, panels=panels)
    base = datas[left_side] or datas[right_side]
    if base is not None:
        section.stretch = display.stretch_limits(base.imsets[0].sci)
        section.hist = _histograms(datas, section.stretch)

    stats = _stats(folder, config, suffix, folder.primary)
    # Difference maps for the extensions verdicts.csv says differ (the worst imset of each).
    v = folder.verdicts
    if not v.empty:
        mine = v[
            (v["configuration"] == config)
            & (v["comparison"] == folder.primary)
            & (v["product"] == suffix)
            & (v["verdict"] == "differ")
        ]
        differing = []
        for extname in ("SCI", "ERR"):
            rows = mine[mine["extname"] == extname]
            rows = rows[rows["n_differ"].fillna(0).astype(float) > 0]
            if rows.empty:
                continue
            differing.append(extname)
            worst = rows.sort_values(["n_differ", "imset"], ascending=[False, True]).iloc[0]
            d = _diff_map(
                extname, _int(worst["imset"], 1), datas[left_side], datas[right_side], sides
            )
            if d is not None:
                section.diffs.append(d)
        section.ladders = _ladders(stats, differing)

    section.dq_rows, per_imset = _dq_rows(stats)
    for row in section.dq_rows:
        if not (row.only_left or row.only_right):
            continue
        if row.bit == _DATAREJECT and suffix == "crj" and is_first_crj:
            continue  # the cosmic-ray mask comparison below shows this bit
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
            section.dq_maps.append(m)

    if suffix == "crj" and is_first_crj:
        cr = next((r for r in section.dq_rows if r.bit == _DATAREJECT), None)
        counts = (cr.both, cr.only_left, cr.only_right) if cr else None
        section.cr_mask = _mask_map(
            f"cosmic-ray mask (DQ {_DATAREJECT} DATAREJECT) of the _crj",
            _DATAREJECT,
            1,
            datas[left_side],
            datas[right_side],
            counts if cr or not stats.empty else None,
        )
        section.cr_params = _cr_params(datas, stats)
    section.phot_params = _phot_params(datas, stats)
    for s in sides:
        if paths[s] is not None and datas[s] is None:
            section.notes.append(products.error(paths[s]))
    return section


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


# --------------------------------------------------------------------------- waterfall


def _final_product(folder: CompareFolder, products: _Products, sides: tuple):
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


# --------------------------------------------------------------------------- provenance


def _provenance_line(folder: CompareFolder) -> dict:
    p = folder.provenance
    cal = p.get("calstis") or {}
    libs = p.get("libraries") or {}
    raw = p.get("raw") or {}
    version = cal.get("version") or ("not run" if not cal.get("path") else "version unknown")
    truth = folder.truth_dir()
    if not cal.get("path") and truth is not None and (truth / "manifest.json").is_file():
        import json

        try:
            recorded = json.loads((truth / "manifest.json").read_text()).get("calstis") or {}
        except (OSError, ValueError, AttributeError):
            recorded = {}
        if isinstance(recorded, dict) and recorded.get("version"):
            version = f"not run (the truth was made by cs0.e {recorded['version']})"
    return dict(
        calstis=version,
        calstis_path=cal.get("path") or "",
        stistools=libs.get("stistools", "unknown"),
        stischeck=p.get("stischeck", libs.get("stischeck", "unknown")),
        dataset=raw.get("rootname", folder.rootname),
        raw=Path(str(raw.get("path", ""))).name,
        sha256=str(raw.get("sha256", ""))[:12],
        policy=(p.get("policy") or {}).get("label", ""),
        comparison=folder.primary,
        truth=p.get("truth") or "",
        wall_s=p.get("wall_s"),
    )


# --------------------------------------------------------------------------- build


def build_model(folder: CompareFolder, pixels=None) -> ReportModel:
    """
    Compute every number, map and histogram the report shows.

    Parameters
    ----------
    folder : CompareFolder
        A loaded compare output folder.
    pixels : list of (int, int), optional
        FITS [x, y] (1-based) pixels of the final product to follow through
        the steps, besides the most negative ones.

    Returns
    -------
    ReportModel

    Raises
    ------
    UsageError
        A requested pixel lies outside the final product.
    """
    from stischeck.report import narrative

    sides = folder.sides
    left_side, right_side = sides
    products = _Products()
    summary = folder.summary

    # The final product fixes the coordinates of the waterfall pixels.
    final = _final_product(folder, products, sides)
    tracked = []  # (x, y, why)
    pixel_note = ""
    final_ltv = (0.0, 0.0)
    final_label = ""
    n_good_final = 0
    if final is not None:
        f_config, f_suffix, f_side, f_data = final
        final_ltv = f_data.ltv
        final_label = f"{f_config} {f_side} _{f_suffix} ({f_data.path.name})"
        ny, nx = f_data.shape
        first = f_data.imsets[0]
        n_good_final = int(
            np.count_nonzero(
                np.isfinite(first.sci) & ((first.dq.astype(np.int32) & f_data.sdqflags) == 0)
            )
        )
        for x, y in pixels or ():
            if not (1 <= x <= nx and 1 <= y <= ny):
                raise UsageError(
                    f"--pixel {x},{y}: outside the final product {f_data.path.name} "
                    f"({nx} x {ny}; FITS x 1..{nx}, y 1..{ny})"
                )
            tracked.append((x, y, "requested with --pixel"))
        for k, (x, y, good) in enumerate(_most_negative(f_data, N_NEGATIVE_PIXELS), start=1):
            if any((x, y) == (t[0], t[1]) for t in tracked):
                continue
            if good:
                why = f"most negative good pixel #{k} of the final product"
            else:
                dq = int(f_data.imsets[0].dq[y - 1, x - 1]) & 0xFFFF
                why = (
                    f"most negative flagged pixel of the final product, below every good one "
                    f"(DQ {dq}: {narrative.dq_names(dq)})"
                )
            tracked.append((x, y, why))
        pixel_note = (
            f"Coordinates are FITS [x, y], 1-based, in the final product {final_label}"
            f" (trimmed: LTV1 = {final_ltv[0]:g}, LTV2 = {final_ltv[1]:g}); for each earlier "
            "product (the raw frame and DQICORR's untrimmed _flt) the same detector pixel is "
            "found through that product's LTV1/LTV2."
        )
    elif pixels:
        pixel_note = (
            "--pixel: no configuration wrote a readable product, so there is nothing to follow "
            "the requested pixels through."
        )

    fallback_noise = (None, None)
    samples: dict = {}  # (k, config, product) -> (left sample, right sample, data info)

    sections, negatives = [], []
    seen_crj = False
    for config in folder.config_names:
        entry = summary.get("configurations", {}).get(config, {})
        section = ConfigSection(
            name=config,
            anchor=_anchor(config),
            added=folder.added(config),
            performed=folder.performed(config),
            what=_what(folder, config),
            verdicts=dict(entry),
            attribution=summary.get("attribution", {}).get(config),
            rows=_config_rows(folder, config),
        )
        found = {s: folder.products(config, s) for s in sides}
        suffixes = [s for s in ("crj", "flt") if any(s in f for f in found.values())]
        if not suffixes:
            # No product (all OMIT, or both sides failed): show the raw input instead.
            raw = folder.raw_input(config, left_side)
            data = products.get(raw)
            if data is not None:
                ps = ProductSection(
                    suffix="raw",
                    n_imsets=len(data.imsets),
                    panels=[
                        _panel(
                            products,
                            "input",
                            raw,
                            ("ok", ""),
                            "raw input" + (" imset 1" if len(data.imsets) > 1 else ""),
                        )
                    ],
                )
                ps.stretch = display.stretch_limits(data.imsets[0].sci)
                ps.hist = _histograms({"input": data}, ps.stretch)
                section.products.append(ps)
                negatives.append(_negative_row(config, "raw", "input", data))
                for k, (x, y, _) in enumerate(tracked):
                    s = _sample(data, x, y, final_ltv)
                    samples[k, config, "raw"] = (s, None, data)
            for s in sides:
                status, message = folder.run_status(config, s)
                if status == "error":
                    section.notes.append(_side_message(s, message))
        for suffix in suffixes:
            ps = _product_section(
                folder, products, config, suffix, sides, suffix == "crj" and not seen_crj
            )
            section.products.append(ps)
            for s in sides:
                data = products.get(found[s].get(suffix))
                if data is None:
                    continue
                negatives.append(_negative_row(config, suffix, s, data))
                if data.noise_dn[0] and fallback_noise[0] is None:
                    fallback_noise = data.noise_dn
            ldata = products.get(found[left_side].get(suffix))
            rdata = products.get(found[right_side].get(suffix))
            for k, (x, y, _) in enumerate(tracked):
                base = ldata if ldata is not None else rdata
                if base is None:
                    continue
                ls = _sample(base, x, y, final_ltv)
                rs = (
                    _sample(rdata, x, y, final_ltv)
                    if rdata is not None and ldata is not None
                    else None
                )
                samples[k, config, suffix] = (ls, rs, base)
        seen_crj = seen_crj or "crj" in suffixes
        for s in sides:
            status, message = folder.run_status(config, s)
            if status == "error" and suffixes:
                section.notes.append(_side_message(s, message))
        sections.append(section)
        keep = [final[3].path] if final is not None else []
        products.forget(keep)

    waterfalls = []
    for k, (x, y, why) in enumerate(tracked):
        rows = []
        for config in folder.config_names:
            for suffix in ("raw", "flt", "crj"):
                got = samples.get((k, config, suffix))
                if got is None or got[0] is None:
                    continue
                (px, py, sci, err, dq), rs, data = got
                held = _covering_note(data, x, y, final_ltv)
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
                        floor=_floor(data, fallback_noise),
                        delta_ref=delta,
                        note=", ".join(n for n in (held, _header_note(data, suffix)) if n),
                    )
                )
        added = {c: folder.added(c) for c in folder.config_names}
        narrative.describe_changes(rows, added)
        waterfalls.append(
            Waterfall(
                x=x,
                y=y,
                why=why,
                final_product=final_label,
                rows=rows,
                explanation=narrative.explain_pixel(
                    x, y, rows, added, n_good=n_good_final, is_extreme=why.startswith("most")
                ),
            )
        )

    trailers = []
    for config in folder.config_names:
        for side in sorted(
            {s for (c, s) in folder.runs if c == config}, key=lambda s: (s.startswith("step"), s)
        ):
            run = folder.runs[config, side]
            if run.trailer is None:
                continue
            try:
                text = run.trailer.read_text(errors="replace")
            except OSError as err:
                text = f"(cannot read {run.trailer}: {err.strerror})"
            trailers.append((config, side, run.trailer, text))
        truth = folder.truth_dir()
        for ext in (".trl", ".trl.gz") if truth is not None else ():
            path = truth / config / f"{folder.rootname}{ext}"
            if path.is_file():
                trailers.append((config, "truth", path, _read_text(path)))
                break

    first = summary.get("first_divergent")
    table = _verdict_table(folder)
    first_detail = ""
    if first and summary.get("headline"):
        # Written by compare: the largest, most basic difference first, then the keywords.
        first_detail = "\n".join(summary["headline"])
    elif first:
        hit = next((r for r in table if r["configuration"] == first and r["failing"]), None)
        if hit:
            first_detail = narrative.verdict_row_text(hit)
    notes = []
    if folder.provenance.get("truth") and folder.truth_dir() is None:
        notes.append(
            f"The stored truth {folder.provenance['truth']} named in provenance.json was not "
            "found (a path relative to where compare ran?); truth products are not shown, "
            "their verdicts are."
        )
    notes.extend(sorted(set(products.errors.values())))
    rootname = folder.rootname
    return ReportModel(
        folder=folder,
        title=f"stischeck report: {rootname}",
        verdict=str(summary.get("verdict", "unknown")),
        exit_code=summary.get("exit_code"),
        first_divergent=first,
        first_divergent_detail=first_detail,
        provenance_line=_provenance_line(folder),
        ladder=[
            (
                c,
                _anchor(c),
                summary.get("configurations", {}).get(c, {}),
                summary.get("attribution", {}).get(c),
                (summary.get("moved") or {}).get(c),
            )
            for c in folder.config_names
        ],
        verdict_table=table,
        verdict_matrix=_verdict_matrix(folder, table),
        sections=sections,
        negatives=negatives,
        negative_text=narrative.explain_negatives(negatives, sections, left_side),
        waterfalls=waterfalls,
        pixel_note=pixel_note,
        trailers=trailers,
        notes=notes,
    )


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


def _read_text(path: Path) -> str:
    """A trailer's text (gzip or plain); a note in its place when it cannot be read."""
    import gzip

    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8", errors="replace")
    except (OSError, EOFError) as err:
        return f"(cannot read {path}: {err})"


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


def side_names(comparison: str) -> tuple:
    """(baseline, reference) display order of a comparison's sides."""
    a, b = comparison_sides(comparison)
    return b, a
