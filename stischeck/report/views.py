"""The report's view models: small frozen dataclasses, one per thing the page shows.

Builders (`sections`, `verdicts`, `pixels`, `model`) fill them from a read
compare folder; `figures` and `html` render them and compute nothing.
Coordinates handed out are FITS ``[x, y]``, 1-based.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stischeck.report.folder import CompareFolder

# --------------------------------------------------------------------------- model types


@dataclass(frozen=True)
class Panel:
    """One side's image of one product: the downsampled imset-1 SCI, or why there is none."""

    side: str
    label: str
    shape: tuple = (0, 0)
    image: np.ndarray | None = None  # block-averaged SCI, float32, (ny/b, nx/b)
    block: int = 1
    path: Path | None = None
    error: str = ""


@dataclass(frozen=True)
class HistogramSet:
    """Histograms on shared bins: per side, one count array per imset."""

    edges: np.ndarray
    series: dict  # side -> list of (label, counts)
    outside: dict  # side -> list of (n_below, n_above)
    stretch: tuple  # (lo, hi) of the image stretch, marked on the axis
    xlabel: str
    log_x: bool = False
    shade: bool = True  # shade the stretch (image histograms), not for differences


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Waterfall:
    """What each step did to one pixel (FITS [x, y] in the final product)."""

    x: int
    y: int
    why: str
    final_product: str
    rows: list
    explanation: list  # plain-words sentences


@dataclass(frozen=True)
class LadderRung:
    """One configuration in the ladder strip: its verdicts and the attribution compare made."""

    name: str
    anchor: str
    verdicts: dict  # comparison -> verdict (summary.json)
    attribution: str | None
    moved: str | None  # which side moved (summary.json "moved")


@dataclass(frozen=True)
class ReportModel:
    """Everything the page shows."""

    folder: CompareFolder
    title: str
    verdict: str
    exit_code: int | None
    first_divergent: str | None
    first_divergent_detail: str
    provenance_line: dict
    ladder: list  # LadderRung
    verdict_table: list  # dict rows, failures first
    verdict_matrix: dict  # the same rows pivoted: configuration x comparison by product x ext
    sections: list  # ConfigSection
    negatives: list  # NegativeRow
    negative_text: list  # (config, sentence)
    waterfalls: list  # Waterfall
    pixel_note: str
    trailers: list  # folder.Trailer
    notes: list = field(default_factory=list)
    #: Build (or reference set) A against B: summary.json's ``two_builds``, ``trailers``
    #: and ``repeat``, with trailers.csv's rows as ``trailer_changes``; None without A.
    two_builds: dict | None = None
