"""``index.html`` of a batch: a view of ``datasets.csv``, failures first, no network needed.

Each row links the data set's ``report.html`` when it has one (else its
``summary.txt``) and shows its verdict, the first divergent configuration and
the worst figures. The page is one self-contained file: inline CSS, no
scripts, no fonts or images from elsewhere. It is the report's jinja2
template ``batch_index.html.j2``, rendered by the report's environment
(autoescaped: every text from the tables is escaped).
"""

import json
from pathlib import Path

from stischeck.vocabulary import verdict_rank

__all__ = ["write_index", "ORDER"]

#: Row order: what needs a look first.
ORDER = {"could not run": 0, "error": 1, "differ": 2, "agree": 3}


def _label(row: dict) -> str:
    """The row's verdict, or ``"could not run"`` for a data set that did not finish."""
    return row["verdict"] if row["status"] == "done" else "could not run"


def _configurations(folder: Path) -> list:
    """``{"name", "verdict"}`` per configuration of ``summary.json`` (primary comparison)."""
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return []
    primary = summary.get("primary_comparison", "")
    return [
        dict(
            name=name,
            verdict=entry.get(primary) or max(entry.values(), key=verdict_rank, default="empty"),
        )
        for name, entry in summary.get("configurations", {}).items()
    ]


def _fmt(value, spec: str = "") -> str:
    """A table cell's number as text; blank for None, "" and NaN."""
    if value is None or value == "" or value != value:  # NaN
        return ""
    try:
        return format(int(value) if spec in ("d", ".0f") else value, spec)
    except (TypeError, ValueError):
        return str(value)


def _row_view(r: dict, outdir: Path) -> dict:
    """One data set row (`aggregate.dataset_rows`) as the texts of its cells."""
    if r.get("report"):
        href = r["report"]
    elif r["status"] == "done":
        href = f"{r['dataset']}/summary.txt"
    else:
        href = ""
    return dict(
        name=r["dataset"],
        href=href,
        reused=bool(r.get("reused")),
        label=_label(r),
        first_divergent=r.get("first_divergent") or "",
        configurations=_configurations(outdir / r["dataset"]),
        max_n_differ=_fmt(r.get("max_n_differ"), "d"),
        max_ulp=_fmt(r.get("max_ulp"), ".0f"),
        max_abs_diff=_fmt(r.get("max_abs_diff"), ".3g"),
        wall_s=_fmt(r.get("wall_s"), ".1f"),
        note_class="msg" if r["status"] != "done" else "",
        message=r.get("message") or "",
        worst=r.get("worst") or "",
        movement=r.get("ab_movement") or "",
    )


def write_index(outdir: Path, rows: list, summary: dict) -> Path:
    """
    Write ``outdir/index.html`` for the data set rows (`aggregate.dataset_rows`).

    Parameters
    ----------
    outdir : Path
        The batch's output folder (each data set's folder under it).
    rows : list of dict
        One per data set, as ``datasets.csv``.
    summary : dict
        As ``batch.json``: ``counts``, ``n_datasets``, ``n_reused``,
        ``exit_code``, ``wall_s`` (seconds), ``cluster``, ``stischeck``, ``finished``.

    Returns
    -------
    Path
        The file written.
    """
    # The report's template environment (one loader, autoescaping), not a second one.
    from stischeck.report.html import template

    outdir = Path(outdir)
    ordered = sorted(rows, key=lambda r: (ORDER.get(_label(r), 1), r["dataset"]))
    if summary.get("certificate"):  # a release check: what changed between A and B first
        ordered.sort(key=lambda r: r.get("ab_movement", "identical") == "identical")
    counts = ", ".join(
        f"{n} {k}" for k, n in sorted(summary["counts"].items(), key=lambda kv: ORDER.get(kv[0], 1))
    )
    page = template("batch_index.html.j2").render(
        title=f"stischeck batch: {summary['n_datasets']} data sets",
        counts=counts,
        s=summary,
        wall=f"{summary['wall_s']:.1f}",
        rows=[_row_view(r, outdir) for r in ordered],
    )
    path = outdir / "index.html"
    path.write_text(page + "\n")  # the environment drops a template's last newline
    return path
