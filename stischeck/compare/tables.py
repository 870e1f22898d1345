"""Results of a comparison run as tidy pandas tables, the summary, and provenance."""

import json
from pathlib import Path

from stischeck.vocabulary import Verdict

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
_RANK = {v.word: v.rank for v in Verdict}


def _primary_comparison(run) -> str:
    if getattr(run.settings, "two_builds", False):
        return "baseline-vs-calstis"  # what changed between build (or reference set) A and B
    if run.settings.calstis is not None:
        return "reference-vs-calstis"
    return "reference-vs-truth"


def _steplocal_comparison(run) -> str:
    if getattr(run.settings, "two_builds", False):
        return STEPLOCAL_TWO_BUILDS
    return STEPLOCAL


#: Keywords STATFLAG writes (SCI and ERR headers): consequences of the pixels, not causes.
STATISTICS_KEYWORDS = frozenset(
    {"NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "SNRMIN", "SNRMAX", "SNRMEAN"}
)
#: Attributions for work calstis does inside a run whatever switch the run is for.
STATISTICS_ONLY = "statistics keywords only (STATFLAG, run at the end of every calstis1 run)"
ERR_INITIALISATION = "ERR initialisation (runs with the first calstis1 step)"
STEPLOCAL = "steplocal-reference-vs-steplocal-calstis"
STEPLOCAL_TWO_BUILDS = "steplocal-baseline-vs-steplocal-calstis"


def summarize(run) -> dict:
    """
    The verdict per configuration, the first divergent rung, the step attribution, the headline.

    Returns
    -------
    dict
        ``verdict`` (agree / differ / error), ``exit_code`` (0, 1, 2),
        ``configurations`` (name -> verdict of the primary comparison, and of
        every other comparison), ``first_divergent`` (name or None),
        ``attribution`` (name -> "agree", "this step", "inherited", "unknown",
        `STATISTICS_ONLY` or `ERR_INITIALISATION`), ``moved``, and
        ``headline`` (lines on the first divergent configuration, largest and
        most basic difference first; empty when nothing diverges).
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
    steplocal = _steplocal_comparison(run)
    attribution = _attribution(run, per_config, primary, first, steplocal)
    moved = {name: _which_side_moved(entry) for name, entry in per_config.items()}
    worst = max((_RANK[v] for e in per_config.values() for v in e.values()), default=0)
    verdict = {0: "agree", 1: "agree", 2: "differ", 3: "error"}[worst]
    repeats = _repeat_summary(run)
    if verdict == "agree" and repeats and not repeats["deterministic"]:
        verdict = "differ"  # a build that does not give the same products twice
    summary = dict(
        verdict=verdict,
        exit_code={"agree": 0, "differ": 1, "error": 2}[verdict],
        primary_comparison=primary,
        steplocal_comparison=steplocal,
        configurations=per_config,
        first_divergent=first,
        attribution=attribution,
        moved=moved,
        headline=headline(_rows_of(run, first, primary)) if first else [],
        **_parity_summary(run, per_config),
    )
    if getattr(run.settings, "two_builds", False):
        from stischeck.compare.movement import summarize_movement

        summary["two_builds"] = summarize_movement(run, summary)
        summary["trailers"] = _trailer_summary(run)
    if repeats:
        summary["repeat"] = repeats
    return summary


def _repeat_summary(run) -> dict:
    """``repeat``: runs per configuration and build, and every run that differs from run 1."""
    results = getattr(run, "repeats", {})
    if not results:
        return {}
    differing = [
        dict(
            configuration=name, side=side, run=d.run, kind=d.kind, suffix=d.suffix, detail=d.detail
        )  # fmt: skip
        for (name, side), result in sorted(results.items())
        for d in result.differences
    ]
    return dict(
        n=run.settings.repeat,
        runs=sum(len(r.runs) for r in results.values()),
        deterministic=not differing,
        differing=differing,
    )


def trailer_rows(run) -> list:
    """Build A's trailer against build B's, per configuration and step, in ladder order.

    The rows of `stischeck.trailers.change_rows`, made by the engine as each
    configuration finished (``run.trailer_changes``), with the configuration first.
    """
    changes = getattr(run, "trailer_changes", {})
    return [
        dict(configuration=config.name, **row)
        for config in run.configurations
        for row in changes.get(config.name, ())
    ]


def _trailer_summary(run) -> dict:
    rows = trailer_rows(run)
    changed: dict = {}
    for r in rows:
        changed.setdefault(r["configuration"], []).append(f"{r['module']} {r['step']}: {r['kind']}")
    return dict(n_changes=len(rows), changed={k: sorted(set(v)) for k, v in changed.items()})


def _parity_summary(run, per_config: dict) -> dict:
    """``parity``: per configuration, the wrapper's products vs cs0.e's, and what else changed.

    Only with ``runner="stistools"``; the verdict is the ``calstis-vs-cs0``
    comparison (``identical``: every product bit for bit, headers included).
    """
    if getattr(run.settings, "runner", "cs0") != "stistools" or run.settings.calstis is None:
        return {}
    return dict(
        runner="stistools",
        parity={
            name: dict(
                products=entry.get("calstis-vs-cs0", "not compared"),
                wrapper_changes=list(run.parity.get(name, [])),
            )
            for name, entry in per_config.items()
        },
    )


def _rows_of(run, name: str, comparison: str) -> list:
    return [r for r in run.rows if r["configuration"] == name and r["comparison"] == comparison]


def findings(rows) -> dict:
    """
    What differs in one configuration × comparison, grouped by kind and extension.

    Parameters
    ----------
    rows : list of dict
        Its verdict rows (every extension × imset, identical ones included).

    Returns
    -------
    dict
        ``errors`` (rows), ``products`` (whole-product rows: a product only one
        side wrote), ``structure`` (rows), ``pixels`` ((product, extname) ->
        dict of ``n_differ``, ``n_pixels``, ``imsets`` failing, ``n_imsets``,
        ``max_abs_diff``, ``max_ulp``, ``dq_bits``, ``worst`` (x, y, imset)),
        ``statistics`` and ``keywords`` ((product, extname) -> {keyword: imsets}).
    """
    out = dict(errors=[], products=[], structure=[], pixels={}, statistics={}, keywords={})
    n_imsets: dict = {}
    for r in rows:
        key = (r.get("product") or "", r.get("extname") or "")
        if r["extname"]:
            n_imsets[key] = n_imsets.get(key, 0) + 1
        if r["verdict"] == "error":
            out["errors"].append(r)
            continue
        if r["verdict"] != "differ":
            continue
        if not r["extname"]:
            out["products"].append(r)
            continue
        if r.get("structure"):
            out["structure"].append(r)
        if r.get("n_differ"):
            p = out["pixels"].setdefault(
                key,
                dict(n_differ=0, n_pixels=0, imsets=[], max_abs_diff=0.0, max_ulp=0,
                     dq_bits=set(), worst=None),
            )  # fmt: skip
            p["n_differ"] += int(r["n_differ"])
            p["n_pixels"] += int(r.get("n_pixels") or 0)
            p["imsets"].append(r["imset"])
            if (r.get("max_abs_diff") or 0) >= p["max_abs_diff"] and r.get("worst_x") is not None:
                p["worst"] = (r["worst_x"], r["worst_y"], r["imset"])
            p["max_abs_diff"] = max(p["max_abs_diff"], float(r.get("max_abs_diff") or 0.0))
            p["max_ulp"] = max(p["max_ulp"], int(r.get("max_ulp") or 0))
            p["dq_bits"].update(b for b in (r.get("dq_bits") or "").split() if b)
        for k in r.get("keywords") or ():
            kind = "statistics" if k in STATISTICS_KEYWORDS else "keywords"
            out[kind].setdefault(key, {}).setdefault(k, []).append(r["imset"])
    for key, p in out["pixels"].items():
        p["n_imsets"] = n_imsets.get(key, len(p["imsets"]))
    return out


def nature(found: dict) -> str:
    """
    The kind of a configuration's difference, in the words attribution uses.

    ``"none"``, ``"error"``, ``"statistics"`` (only STATFLAG keywords differ),
    ``"err"`` (only ERR pixels differ, with at most statistics keywords as
    their consequence) or ``"other"``.
    """
    if found["errors"]:
        return "error"
    if found["products"] or found["structure"] or found["keywords"]:
        return "other"
    if not found["pixels"]:
        return "statistics" if found["statistics"] else "none"
    if {ext for _, ext in found["pixels"]} == {"ERR"}:
        return "err"
    return "other"


def _attribution(
    run, per_config: dict, primary: str, first: str | None, steplocal: str = STEPLOCAL
) -> dict:
    """
    Which step each configuration's difference belongs to, in words a maintainer can act on.

    ``"this step"`` (the step-local run differs too), ``"inherited"`` (it
    agrees), ``"unknown"`` (no step-local run), ``"agree"``; and two kinds of
    work calstis does inside a run whatever its switches: STATFLAG (statistics
    keywords only, on every rung and every step-local run) and the ERR
    initialisation of a raw file (ERR only, with nothing to inherit, where the
    step-local run, whose input already has its ERR, agrees, or on the
    ladder's first rung, which has no step-local run).
    """
    from stischeck.config import RAW_NAME as RAW

    names = [c.name for c in run.configurations]
    previous = {c.name: c.previous for c in run.configurations}
    out = {}
    for name in names:
        entry = per_config[name]
        cumulative, local = entry.get(primary), entry.get(steplocal)
        c_kind = nature(findings(_rows_of(run, name, primary)))
        l_kind = nature(findings(_rows_of(run, name, steplocal))) if local else "none"
        prev_verdict = per_config.get(previous.get(name) or "", {}).get(primary)
        fresh = prev_verdict in (None, "identical", "agree", "empty")  # nothing to inherit
        if local in ("differ", "error"):
            out[name] = STATISTICS_ONLY if l_kind == "statistics" else "this step"
        elif cumulative not in ("differ", "error"):
            out[name] = "agree"
        elif c_kind == "statistics":
            out[name] = STATISTICS_ONLY
        elif c_kind == "err" and fresh and (local is not None or previous.get(name) == RAW):
            # The step-local run (its input's ERR already filled) agrees, or this is the
            # ladder's first calstis1 rung: only the noise model can have made the ERR.
            out[name] = ERR_INITIALISATION
        elif local is None:
            out[name] = "this step" if name == first else "unknown"
        else:
            out[name] = "inherited"
    return out


def _count(n: int) -> str:
    return f"{n:,}"


def _imsets(imsets: list, n_imsets: int) -> str:
    if n_imsets <= 1:
        return "the only imset"
    if len(imsets) >= n_imsets:
        return f"all {n_imsets} imsets"
    listed = ", ".join(str(i) for i in sorted(imsets))
    return f"imset{'s' if len(imsets) > 1 else ''} {listed} of {n_imsets}"


def _names(keywords: dict, limit: int = 7) -> str:
    names = sorted(keywords)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def headline(rows) -> list:
    """
    Lines on one configuration × comparison: the largest and most basic difference first.

    Order: errors, products one side did not write, structure (a missing
    extension, a shape), pixels by extension (the extension with the most
    differing pixels first, summed over imsets; "all N imsets" when every
    imset differs), then the keyword consequences: keywords other than the
    statistics, then the STATFLAG statistics keywords.
    """
    found = findings(rows)
    lines = [f"error: {r['detail']}" for r in found["errors"]]
    lines += [r["detail"] for r in found["products"]]
    for r in found["structure"]:
        lines.append(f"_{r['product']} {r['extname']} imset {r['imset']}: {r['detail']}")
    basic = {"SCI": 0, "ERR": 1, "DQ": 2}  # equal counts: the science before what derives from it
    ranked = sorted(
        found["pixels"].items(),
        key=lambda kv: (-kv[1]["n_differ"], basic.get(kv[0][1], 3), kv[0]),
    )
    for (product, ext), p in ranked:
        share = f" of {_count(p['n_pixels'])}" if p["n_pixels"] else ""
        text = (
            f"_{product} {ext}: {_count(p['n_differ'])}{share} pixels differ in "
            f"{_imsets(p['imsets'], p['n_imsets'])}"
        )
        if p["dq_bits"]:
            bits = sorted(p["dq_bits"], key=lambda b: int(b.split(":")[0]))
            text += f" (DQ bits {' '.join(bits)})"
        elif p["max_abs_diff"]:
            text += f" (max |Δ| {p['max_abs_diff']:.6g} DN, max {p['max_ulp']} ulp)"
        if p["worst"] is not None:
            x, y, imset = p["worst"]
            text += f", worst at [{x}, {y}] imset {imset}"
        lines.append(text)
    for kind, label in (("keywords", "keywords"), ("statistics", "statistics keywords")):
        for (product, ext), keywords in sorted(found[kind].items()):
            imsets = sorted({i for v in keywords.values() for i in v if i is not None})
            where = f"_{product} {ext}" if ext != "PRIMARY" else f"_{product} primary header"
            n_imsets = max((found["pixels"].get((product, ext), {}).get("n_imsets", 0),
                            _n_imsets(rows, product, ext)))  # fmt: skip
            scope = f" in {_imsets(imsets, n_imsets)}" if ext != "PRIMARY" and imsets else ""
            lines.append(f"then {label} {where}: {_names(keywords)}{scope}")
    return lines


def _n_imsets(rows, product: str, ext: str) -> int:
    return sum(1 for r in rows if r.get("product") == product and r.get("extname") == ext)


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


def input_provenance(settings, rootname: str) -> dict:
    """
    What the provenance says of a run's programs and inputs: versions and checksums.

    Independent of the run's outcome, so `run_compare` has it computed while
    the runs go on (hashing the reference files and asking cs0.e its version
    took 66 of the 98 ms of writing a full-frame compare's tables).
    """
    from stischeck import __version__
    from stischeck.environment import calstis_version, library_versions
    from stischeck.inputs import read_raw_header, reference_files, sha256

    s = settings
    header = read_raw_header(s.raw)
    refs = reference_files(s.raw, header, s.oref)
    return dict(
        stischeck=__version__,
        calstis=dict(
            path=str(s.calstis) if s.calstis else None,
            version=calstis_version(s.calstis) if s.calstis else None,
            runner=getattr(s, "runner", "cs0"),
        ),
        libraries=library_versions(),
        raw=dict(path=str(s.raw), sha256=sha256(s.raw), rootname=rootname),
        oref=str(s.oref) if s.oref else None,
        truth=str(Path(s.truth).resolve()) if s.truth else None,
        policy=dict(label=s.policy.label, source=s.policy.source),
        reference_files=refs,
        truth_calstis_version=_truth_version(s.truth),
    )


def provenance(run) -> dict:
    """Versions, inputs with checksums, reference files, and timing of the whole run."""
    s = run.settings
    pending = run.input_provenance  # started by run_compare; None for a run made otherwise
    inputs = pending.result() if pending is not None else input_provenance(s, run.rootname)
    return dict(
        **inputs,
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
    summary.json, provenance.json and summary.txt; with a baseline also
    movement.csv (`stischeck.compare.movement`) and trailers.csv (A's
    trailer against B's), with ``repeat`` above 1 repeat.csv. Each is written under a
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
    runs_table = pd.DataFrame(run_rows)
    if len(runs_table):
        runs_table["returncode"] = runs_table["returncode"].astype("Int64")  # 0, not 0.0
    table("runs.csv", runs_table)
    table(
        "configurations.csv",
        pd.DataFrame(
            [
                dict(configuration=c.name, origin=c.origin, **c.switch_dict)
                for c in run.configurations
            ]
        ),
    )
    for name, frame in _two_build_tables(run).items():
        table(name, frame)
    summary = summarize(run)
    write_text(out / "provenance.json", json.dumps(provenance(run), indent=2) + "\n")
    write_text(out / "summary.txt", format_text(run, summary))
    write_text(out / "summary.json", json.dumps(dict(summary, tables=tables), indent=2) + "\n")
    finish_outdir(out, "complete")
    return summary


def _two_build_tables(run) -> dict:
    """movement.csv and trailers.csv with a baseline; repeat.csv with ``repeat`` above 1."""
    import pandas as pd

    tables = {}
    if getattr(run.settings, "two_builds", False):
        from stischeck.compare.movement import MOVEMENT_COLUMNS, movement_rows

        moves = pd.DataFrame(movement_rows(run), columns=MOVEMENT_COLUMNS)
        moves["imset"] = moves["imset"].astype("Int64")
        tables["movement.csv"] = moves
        columns = ["configuration", "module", "step", "kind", "a", "b"]
        tables["trailers.csv"] = pd.DataFrame(trailer_rows(run), columns=columns)
    if getattr(run, "repeats", None):
        tables["repeat.csv"] = pd.DataFrame(
            [dict(configuration=name, side=side, run=r.index, status=r.status,
                  returncode=r.returncode, message=r.message,
                  differs=",".join(sorted({d.kind for d in res.differences if d.run == r.index})))
             for (name, side), res in sorted(run.repeats.items()) for r in res.runs])  # fmt: skip
    return tables


def _two_builds_text(summary: dict) -> list:
    """The A/B lines: one saying whether B is identical to A, then where and who moved."""
    ab = summary["two_builds"]
    builds = ab["builds"]
    what = (
        f"reference set {builds['oref_b']} against {builds['oref_a']}"
        if builds["oref_a"] != builds["oref_b"]
        else f"build B {builds['b']} against build A {builds['a']}"
    )
    if ab["identical"]:
        lines = [f"  A/B: B is bit-identical to A on every configuration ({what})"]
    else:
        step = ab["step"]
        where = f" ({step})" if step not in (None, "agree", "unknown") else ""
        lines = [f"  A/B: {ab['movement']}, first at {ab['first_changed']}{where} ({what})"]
    for f in ab["reference_files"]:
        lines.append(
            f"  reference file that differs: {f['keyword']} {f['name']}"
            + (f" (read by {f['switch']})" if f["switch"] else "")
        )
    changed = summary.get("trailers", {}).get("changed", {})
    if changed:
        first = next(iter(changed))
        lines.append(
            f"  trailers differ in {len(changed)} configuration(s); first {first}: "
            + "; ".join(changed[first][:3])
        )
    return lines


def _repeat_text(repeat: dict) -> list:
    if repeat["deterministic"]:
        return [f"  repeat: {repeat['runs']} runs ({repeat['n']} per configuration and build), "
                "every run the same as run 1"]  # fmt: skip
    lines = [f"  repeat: {len(repeat['differing'])} difference(s) from run 1 in "
             f"{repeat['runs']} runs"]  # fmt: skip
    for d in repeat["differing"][:5]:
        lines.append(f"    {d['configuration']} {d['side']} run {d['run']}: {d['kind']} "
                     f"{d['suffix']}: {d['detail']}".rstrip())  # fmt: skip
    return lines


def format_text(run, summary) -> str:
    """A few lines: verdict, first divergence, per-configuration verdicts."""
    primary = summary["primary_comparison"]
    local = summary.get("steplocal_comparison", STEPLOCAL)
    compared = primary
    if run.settings.calstis is not None and run.settings.truth is not None:
        compared = "reference-vs-calstis-vs-truth"  # the verdict covers all three comparisons
    if getattr(run.settings, "two_builds", False):
        compared = "baseline-vs-calstis-vs-reference" + (
            "-vs-truth" * (run.settings.truth is not None)
        )
    lines = [
        f"stischeck compare {run.rootname}: {summary['verdict'].upper()} "
        f"({compared}, policy {run.settings.policy.label}, "
        f"{len(run.configurations)} configurations, {run.wall_s:.1f} s)"
    ]
    if summary.get("two_builds"):
        lines += _two_builds_text(summary)
    if summary["first_divergent"]:
        name = summary["first_divergent"]
        att = summary["attribution"].get(name)
        why = ""
        if att in (STATISTICS_ONLY, ERR_INITIALISATION):
            why = f": {att}"
        elif att not in (None, "agree", "unknown") and local in summary["configurations"][name]:
            why = f" (step-local: {att})"  # without a step-local run, "this step" says nothing
        lines.append(f"  first divergent configuration: {name}{why}")
        lines += [f"    {line}" for line in summary.get("headline") or ()]
    for name, entry in summary["configurations"].items():
        values = set(entry.values())
        if len(entry) > 1 and values == {"empty"}:
            parts = f"empty ({len(entry)} comparisons: no side writes a product)"
        else:
            parts = ", ".join(f"{k} {v}" for k, v in entry.items())
        att = summary["attribution"].get(name)
        moved = summary["moved"].get(name)
        notes = []
        if att in (STATISTICS_ONLY, ERR_INITIALISATION):
            notes.append(att)
        elif att == "unknown":
            notes.append("no step-local run to tell this step from what it inherits")
        elif att == "this step" and local not in entry:
            notes.append("this step")  # the first rung: nothing before it to inherit
        elif att not in (None, "agree"):
            notes.append(f"step-local: {att}")
        notes += [f"moved: {moved}"] if moved not in (None, "none") else []
        lines.append(f"  {name:<10} {parts}" + (f"  [{'; '.join(notes)}]" if notes else ""))
    if summary.get("parity"):
        parity = summary["parity"]
        same = [n for n, p in parity.items() if p["products"] in ("identical", "empty")]
        changes = sorted({c for p in parity.values() for c in p["wrapper_changes"]})
        lines.append(
            f"  parity (stistools.calstis vs cs0.e): products identical in {len(same)}/"
            f"{len(parity)} configurations; wrapper changes: {'; '.join(changes) or 'none'}"
        )
    if summary.get("repeat"):
        lines += _repeat_text(summary["repeat"])
    recorded = [c.name for c in run.configurations if c.origin == "truth manifest"]
    if recorded:
        lines.append(f"  switches of {', '.join(recorded)} as recorded in the truth manifest")
    for (name, side), o in sorted(run.runs.items()):
        if o.status == "error":
            lines.append(f"  error: {name} {side}: {o.message}")
    lines.append(f"  outputs: {run.settings.outdir}")
    return "\n".join(lines) + "\n"
