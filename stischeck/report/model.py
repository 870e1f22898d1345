"""Build the report's view model from a compare folder already read.

`build_model` takes `folder.ReportInputs` (the tables, the trailers, a
reader of the products) and returns a `ReportModel`: per configuration a
`ConfigSection` (`sections`), the verdict rows (`verdicts`), the negative
pixels and the waterfall (`pixels`). Verdicts come from ``verdicts.csv`` and
``summary.json`` only; what is computed from the products are image
statistics for display. `figures` and `html` render the model and compute
nothing. Coordinates handed out are FITS ``[x, y]``, 1-based.
"""

from pathlib import Path

from stischeck.report import narrative
from stischeck.report.constants import CR_KEYWORDS, VERDICT_RANK
from stischeck.report.folder import CompareFolder, ReportInputs, comparison_sides
from stischeck.report.pixels import track_pixels, waterfalls
from stischeck.report.sections import config_section
from stischeck.report.verdicts import _anchor, _verdict_matrix, _verdict_table
from stischeck.report.views import (
    ConfigSection,
    DiffMap,
    HistogramSet,
    LadderRung,
    MaskMap,
    NegativeRow,
    Panel,
    ProductSection,
    ReportModel,
    Waterfall,
    WaterfallRow,
)

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
    "LadderRung",
    "build_model",
    "VERDICT_RANK",
    "CR_KEYWORDS",
    "side_names",
]


def build_model(inputs: ReportInputs, pixels=None) -> ReportModel:
    """
    Compute every number, map and histogram the report shows.

    Parameters
    ----------
    inputs : ReportInputs
        A compare folder read by `folder.read_inputs`.
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
    folder, products = inputs.folder, inputs.products
    summary = folder.summary
    tracking = track_pixels(folder, products, pixels)
    sections, negatives, samples = [], [], {}
    seen_crj, noise = False, None
    for config in folder.config_names:
        built = config_section(folder, products, config, tracking, seen_crj)
        sections.append(built.section)
        negatives.extend(built.negatives)
        samples.update(built.samples)
        seen_crj = seen_crj or built.has_crj
        noise = noise or built.noise
        products.forget(tracking.keep)
    table = _verdict_table(folder)
    return ReportModel(
        folder=folder,
        title=f"stischeck report: {folder.rootname}",
        verdict=str(summary.get("verdict", "unknown")),
        exit_code=summary.get("exit_code"),
        first_divergent=summary.get("first_divergent"),
        first_divergent_detail=_first_divergent_detail(summary, table),
        provenance_line=_provenance_line(inputs),
        ladder=_ladder(folder),
        verdict_table=table,
        verdict_matrix=_verdict_matrix(folder, table),
        sections=sections,
        negatives=negatives,
        negative_text=narrative.explain_negatives(negatives, sections, folder.sides[0]),
        waterfalls=waterfalls(folder, tracking, samples, noise or (None, None)),
        pixel_note=tracking.note,
        trailers=list(inputs.trailers),
        notes=_notes(folder, products),
        two_builds=_two_builds(summary, inputs.trailer_changes),
    )


def _two_builds(summary: dict, trailer_changes) -> dict | None:
    """The A/B part of the page: summary.json's ``two_builds`` with the trailer changes."""
    ab = summary.get("two_builds")
    if not ab:
        return None
    return dict(ab, trailer_changes=list(trailer_changes), repeat=summary.get("repeat"))


def _ladder(folder: CompareFolder) -> list:
    """One `LadderRung` per configuration, in the order compare ran them."""
    summary = folder.summary
    return [
        LadderRung(
            name=c,
            anchor=_anchor(c),
            verdicts=summary.get("configurations", {}).get(c, {}),
            attribution=summary.get("attribution", {}).get(c),
            moved=(summary.get("moved") or {}).get(c),
        )
        for c in folder.config_names
    ]


def _first_divergent_detail(summary: dict, table: list) -> str:
    """Compare's headline lines of the first divergent step, else its worst verdict row."""
    first = summary.get("first_divergent")
    if first and summary.get("headline"):
        # Written by compare: the largest, most basic difference first, then the keywords.
        return "\n".join(summary["headline"])
    if first:
        hit = next((r for r in table if r["configuration"] == first and r["failing"]), None)
        if hit:
            return narrative.verdict_row_text(hit)
    return ""


def _notes(folder: CompareFolder, products) -> list:
    """Page-level notes: a missing stored truth, then each unreadable product once."""
    notes = []
    if folder.provenance.get("truth") and folder.truth_dir() is None:
        notes.append(
            f"The stored truth {folder.provenance['truth']} named in provenance.json was not "
            "found (a path relative to where compare ran?); truth products are not shown, "
            "their verdicts are."
        )
    notes.extend(sorted(set(products.errors.values())))
    return notes


def _provenance_line(inputs: ReportInputs) -> dict:
    folder = inputs.folder
    p = folder.provenance
    cal = p.get("calstis") or {}
    libs = p.get("libraries") or {}
    raw = p.get("raw") or {}
    version = cal.get("version") or ("not run" if not cal.get("path") else "version unknown")
    if not cal.get("path") and inputs.truth_calstis:
        version = f"not run (the truth was made by cs0.e {inputs.truth_calstis})"
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


def side_names(comparison: str) -> tuple:
    """(baseline, reference) display order of a comparison's sides."""
    a, b = comparison_sides(comparison)
    return b, a
