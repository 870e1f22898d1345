"""``index.html`` of a batch: a view of ``datasets.csv``, failures first, no network needed.

Each row links the data set's ``report.html`` when it has one (else its
``summary.txt``) and shows its verdict, the first divergent configuration and
the worst figures. The page is one self-contained file: inline CSS, no
scripts, no fonts or images from elsewhere.
"""

import html
import json
from pathlib import Path

from stischeck.vocabulary import verdict_rank

__all__ = ["write_index", "ORDER"]

#: Row order: what needs a look first.
ORDER = {"could not run": 0, "error": 1, "differ": 2, "agree": 3}

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
p.meta { color: #555; margin: .2em 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.v { font-weight: 600; padding: .05em .45em; border-radius: .3em; white-space: nowrap; }
.v-agree, .v-identical { background: #dff3e0; color: #1b5e20; }
.v-empty { background: #eee; color: #555; }
.v-differ { background: #ffe6c7; color: #8a4b00; }
.v-error, .v-could-not-run { background: #fbd5d5; color: #8e1b1b; }
.cfg { display: inline-block; margin: 0 .2em .2em 0; font-size: .85em; }
.msg { color: #8e1b1b; }
.reused { color: #777; font-size: .85em; }
"""


def _badge(verdict: str) -> str:
    cls = verdict.replace(" ", "-")
    return f'<span class="v v-{html.escape(cls)}">{html.escape(verdict)}</span>'


def _configurations(folder: Path) -> str:
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return ""
    primary = summary.get("primary_comparison", "")
    cells = []
    for name, entry in summary.get("configurations", {}).items():
        verdict = entry.get(primary) or max(entry.values(), key=verdict_rank, default="empty")
        cls = html.escape(verdict)
        cells.append(f'<span class="cfg v v-{cls}" title="{cls}">{html.escape(name)}</span>')
    return "".join(cells)


def _fmt(value, spec: str = "") -> str:
    if value is None or value == "" or value != value:  # NaN
        return ""
    try:
        return format(int(value) if spec in ("d", ".0f") else value, spec)
    except (TypeError, ValueError):
        return html.escape(str(value))


def write_index(outdir: Path, rows: list, summary: dict) -> Path:
    """
    Write ``outdir/index.html`` for the data set rows (`aggregate.dataset_rows`).

    Returns
    -------
    Path
        The file written.
    """
    outdir = Path(outdir)

    def rank(r):
        label = r["verdict"] if r["status"] == "done" else "could not run"
        return (ORDER.get(label, 1), r["dataset"])

    body = []
    for r in sorted(rows, key=rank):
        label = r["verdict"] if r["status"] == "done" else "could not run"
        name = html.escape(r["dataset"])
        if r.get("report"):
            link = f'<a href="{html.escape(r["report"])}">{name}</a>'
        elif r["status"] == "done":
            link = f'<a href="{name}/summary.txt">{name}</a>'
        else:
            link = name
        note = html.escape(r.get("message") or "")
        if r.get("worst"):
            note = (note + "<br>" if note else "") + html.escape(r["worst"])
        body.append(
            "<tr>"
            f"<td>{link}"
            + (' <span class="reused">(reused)</span>' if r.get("reused") else "")
            + "</td>"
            f"<td>{_badge(label)}</td>"
            f"<td>{html.escape(r.get('first_divergent') or '')}</td>"
            f"<td>{_configurations(outdir / r['dataset'])}</td>"
            f'<td class="num">{_fmt(r.get("max_n_differ"), "d")}</td>'
            f'<td class="num">{_fmt(r.get("max_ulp"), ".0f")}</td>'
            f'<td class="num">{_fmt(r.get("max_abs_diff"), ".3g")}</td>'
            f'<td class="num">{_fmt(r.get("wall_s"), ".1f")}</td>'
            f'<td class="{"msg" if r["status"] != "done" else ""}">{note}</td>'
            "</tr>"
        )
    counts = ", ".join(
        f"{n} {k}" for k, n in sorted(summary["counts"].items(), key=lambda kv: ORDER.get(kv[0], 1))
    )
    title = f"stischeck batch: {summary['n_datasets']} data sets"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{html.escape(counts)}; {summary["n_reused"]} reused from an earlier run;
exit code {summary["exit_code"]}; {summary["wall_s"]:.1f} s, {html.escape(summary["cluster"])};
stischeck {html.escape(str(summary["stischeck"]))}, finished {html.escape(summary["finished"])}.
Tables: <a href="verdicts.csv">verdicts.csv</a> (every data set's rows),
<a href="datasets.csv">datasets.csv</a>, <a href="batch.json">batch.json</a>.</p>
<table>
<thead><tr><th>data set</th><th>verdict</th><th>first divergent</th>
<th>configurations (primary comparison)</th><th>max pixels differing</th><th>max ulp</th>
<th>max |&Delta;|</th><th>wall s</th><th>why / worst finding</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody>
</table>
</body>
</html>
"""
    path = outdir / "index.html"
    path.write_text(page)
    return path
