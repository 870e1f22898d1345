"""Results of a comparison run as tidy pandas tables, the summary, and provenance."""

import json
from pathlib import Path

__all__ = ["write_outputs", "summarize", "VERDICT_COLUMNS"]

VERDICT_COLUMNS = [
    "configuration",
    "comparison",
    "product",
    "extname",
    "imset",
    "verdict",
    "n_differ",
    "max_ulp",
    "max_abs_diff",
    "dq_bits",
    "keywords_differ",
    "worst_x",
    "worst_y",
    "detail",
]
_RANK = {"identical": 0, "agree": 1, "empty": 1, "differ": 2, "error": 3}


def _primary_comparison(run) -> str:
    if run.settings.calstis is not None:
        return "reference-vs-calstis"
    return "reference-vs-truth"


def summarize(run) -> dict:
    """
    The verdict per configuration, the first divergent rung and the step attribution.

    Returns
    -------
    dict
        ``verdict`` (agree / differ / error), ``exit_code`` (0, 1, 2),
        ``configurations`` (name -> verdict of the primary comparison, and of
        every other comparison), ``first_divergent`` (name or None),
        ``attribution`` (name -> "agree", "this step" or "inherited").
    """
    primary = _primary_comparison(run)
    per_config = {}
    for config in run.configurations:
        entry = {}
        for row in run.rows:
            if row["configuration"] != config.name:
                continue
            worst = entry.get(row["comparison"], "identical")
            if _RANK[row["verdict"]] > _RANK[worst]:
                worst = row["verdict"]
            entry[row["comparison"]] = worst
        per_config[config.name] = entry
    for (name, side), outcome in run.runs.items():
        if outcome.status == "error" and not side.startswith("steplocal"):
            per_config[name].setdefault(primary, "error")
    first = next((n for n in per_config if per_config[n].get(primary) in ("differ", "error")), None)
    attribution = {}
    for name, entry in per_config.items():
        cumulative = entry.get(primary)
        local = entry.get("steplocal-reference-vs-steplocal-calstis")
        if cumulative in ("differ", "error"):
            if local is None:
                attribution[name] = "this step" if name == first else "unknown"
            else:
                attribution[name] = "this step" if local in ("differ", "error") else "inherited"
        else:
            attribution[name] = "this step" if local in ("differ", "error") else "agree"
    moved = {name: _which_side_moved(entry) for name, entry in per_config.items()}
    worst = max((_RANK[v] for e in per_config.values() for v in e.values()), default=0)
    verdict = {0: "agree", 1: "agree", 2: "differ", 3: "error"}[worst]
    return dict(
        verdict=verdict,
        exit_code={"agree": 0, "differ": 1, "error": 2}[verdict],
        primary_comparison=primary,
        configurations=per_config,
        first_divergent=first,
        attribution=attribution,
        moved=moved,
    )


def _which_side_moved(entry: dict) -> str | None:
    """
    Three-way verdict: which side left the other two (None without truth).

    With reference, calstis and truth, the two comparisons that agree point at
    the third side: reference = calstis != truth means calstis (and the
    reference with it) moved away from the stored products, e.g. a new calstis
    release; reference = truth != calstis means calstis moved; calstis = truth
    != reference means the reference moved. Without calstis, a reference that
    differs from the truth is "reference or truth".
    """
    same = {k: _RANK.get(v, 3) <= 1 for k, v in entry.items()}
    rc = same.get("reference-vs-calstis")
    rt = same.get("reference-vs-truth")
    ct = same.get("calstis-vs-truth")
    if rt is None:
        return None
    if rc is None:
        return "none" if rt else "reference or truth"
    if rc and rt and ct:
        return "none"
    if rc and not rt and not ct:
        return "truth differs from both (calstis and reference moved together)"
    if rt and not rc and not ct:
        return "calstis"
    if ct and not rc and not rt:
        return "reference"
    return "all three differ"


def provenance(run) -> dict:
    """Versions, inputs with checksums, reference files, and timing of the whole run."""
    from astropy.io import fits

    from stischeck import __version__
    from stischeck.environment import calstis_version, library_versions
    from stischeck.inputs import reference_files, sha256

    s = run.settings
    header = fits.getheader(s.raw, 0)
    refs = reference_files(s.raw, header, s.oref)
    return dict(
        stischeck=__version__,
        calstis=dict(
            path=str(s.calstis) if s.calstis else None,
            version=calstis_version(s.calstis) if s.calstis else None,
        ),
        libraries=library_versions(),
        raw=dict(path=str(s.raw), sha256=sha256(s.raw), rootname=run.rootname),
        oref=str(s.oref) if s.oref else None,
        truth=str(Path(s.truth).resolve()) if s.truth else None,
        policy=dict(label=s.policy.label, source=s.policy.source),
        reference_files=refs,
        truth_calstis_version=_truth_version(s.truth),
        configurations={
            c.name: dict(origin=c.origin, perform=list(c.performed), switches=c.switch_dict)
            for c in run.configurations
        },
        runs=[
            dict(
                configuration=name,
                side=side,
                status=o.status,
                wall_s=round(o.wall_s, 4),
                peak_rss_mib=None if o.peak_rss_mib is None else round(o.peak_rss_mib, 1),
            )
            for (name, side), o in sorted(run.runs.items())
        ],
        jobs=s.jobs,
        timeout_s=s.timeout_s,
        wall_s=round(run.wall_s, 3),
    )


def _truth_version(truth) -> str | None:
    if truth is None:
        return None
    from stischeck.truth import load_truth

    return load_truth(truth).calstis_version


def write_outputs(run) -> dict:
    """
    Write the tables and the summary into the output folder; return the summary.

    Files: verdicts.csv, statistics.csv, runs.csv, configurations.csv,
    summary.json, provenance.json and summary.txt. Each is written under a
    temporary name and renamed when complete (`stischeck.atomic`);
    ``summary.json`` comes last and records each table's row count and
    sha256 under ``tables``, so a folder without it, or with a table that
    does not match it, is an incomplete run, never a result. The folder's
    marker then says ``complete`` (`stischeck.outdir`).
    """
    import hashlib

    import pandas as pd

    from stischeck.atomic import write_text
    from stischeck.inputs import relative_to_folder
    from stischeck.outdir import finish_outdir

    out = run.settings.outdir
    out.mkdir(parents=True, exist_ok=True)
    tables = {}

    def table(name: str, frame) -> None:
        text = frame.to_csv(index=False)
        write_text(out / name, text, what="table")
        tables[name] = dict(
            rows=len(frame), sha256=hashlib.sha256(text.encode("utf-8")).hexdigest()
        )

    verdicts = pd.DataFrame(run.rows, columns=VERDICT_COLUMNS)
    for col in ("imset", "n_differ", "max_ulp", "keywords_differ", "worst_x", "worst_y"):
        verdicts[col] = verdicts[col].astype("Int64")
    table("verdicts.csv", verdicts)
    stats = pd.concat(run.frames, ignore_index=True) if run.frames else pd.DataFrame()
    table("statistics.csv", stats)
    run_rows = []
    for (name, side), o in sorted(run.runs.items()):
        run_rows.append(
            dict(
                configuration=name,
                side=side,
                status=o.status,
                message=o.message,
                returncode=o.returncode,
                wall_s=round(o.wall_s, 4),
                peak_rss_mib=None if o.peak_rss_mib is None else round(o.peak_rss_mib, 1),
                products=" ".join(
                    relative_to_folder(path, out) for _, path in sorted(o.products.items())
                ),
                trailer=relative_to_folder(o.trailer, out) if o.trailer else "",
            )
        )
    table("runs.csv", pd.DataFrame(run_rows))
    table(
        "configurations.csv",
        pd.DataFrame(
            [
                dict(configuration=c.name, origin=c.origin, **c.switch_dict)
                for c in run.configurations
            ]
        ),
    )
    summary = summarize(run)
    write_text(out / "provenance.json", json.dumps(provenance(run), indent=2) + "\n")
    write_text(out / "summary.txt", format_text(run, summary))
    write_text(out / "summary.json", json.dumps(dict(summary, tables=tables), indent=2) + "\n")
    finish_outdir(out, "complete")
    return summary


def format_text(run, summary) -> str:
    """A few lines: verdict, first divergence, per-configuration verdicts."""
    primary = summary["primary_comparison"]
    compared = primary
    if run.settings.calstis is not None and run.settings.truth is not None:
        compared = "reference-vs-calstis-vs-truth"  # the verdict covers all three comparisons
    lines = [
        f"stischeck compare {run.rootname}: {summary['verdict'].upper()} "
        f"({compared}, policy {run.settings.policy.label}, "
        f"{len(run.configurations)} configurations, {run.wall_s:.1f} s)"
    ]
    if summary["first_divergent"]:
        name = summary["first_divergent"]
        worst = [
            r
            for r in run.rows
            if r["configuration"] == name
            and r["comparison"] == primary
            and r["verdict"] in ("differ", "error")
        ]
        where = ""
        if worst:
            r = worst[0]
            where = f": _{r['product']} {r['extname']} imset {r['imset']}" if r["extname"] else ""
            where += f" ({r['detail'] or r['dq_bits'] or str(r['n_differ']) + ' pixels'})"
        lines.append(f"  first divergent configuration: {name}{where}")
    for name, entry in summary["configurations"].items():
        parts = ", ".join(f"{k} {v}" for k, v in entry.items())
        att = summary["attribution"].get(name)
        moved = summary["moved"].get(name)
        notes = [f"step-local: {att}"] if att not in (None, "agree") else []
        notes += [f"moved: {moved}"] if moved not in (None, "none") else []
        lines.append(f"  {name:<10} {parts}" + (f"  [{'; '.join(notes)}]" if notes else ""))
    recorded = [c.name for c in run.configurations if c.origin == "truth manifest"]
    if recorded:
        lines.append(f"  switches of {', '.join(recorded)} as recorded in the truth manifest")
    for (name, side), o in sorted(run.runs.items()):
        if o.status == "error":
            lines.append(f"  error: {name} {side}: {o.message}")
    lines.append(f"  outputs: {run.settings.outdir}")
    return "\n".join(lines) + "\n"
