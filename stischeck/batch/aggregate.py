"""The batch's own tables: every data set's verdict rows in one CSV, a row per data set, a summary.

Files in the batch folder:

``verdicts.csv``
    Each data set's ``verdicts.csv`` rows, cell for cell, behind a ``dataset``
    column; a data set that could not run has one row, verdict ``error``, whose
    ``detail`` says why.
``datasets.csv``
    One row per data set: status, verdict, first divergent configuration,
    worst figures, wall time, whether an earlier result was reused, its inputs.
``certificate.csv``
    With a baseline (build A or reference set A): one row per data set ×
    configuration: A vs B identical or not, which side moved
    (`stischeck.compare.movement`), the step the change is attributed to.
``probes/probes.csv``, ``probes/probes.html``
    With ``probes``: the known-issue probes run through build B (and A).
``batch.json``
    Counts, exit code, options, where it ran; with a baseline, ``certificate``:
    whether build B is bit-identical to build A on everything, and if not, where.
``index.html``
    The view of ``datasets.csv`` (``index.py``).
"""

import json
import time
from pathlib import Path

__all__ = ["write_batch_outputs", "dataset_rows", "DATASET_COLUMNS"]

DATASET_COLUMNS = [
    "dataset",
    "status",
    "verdict",
    "exit_code",
    "first_divergent",
    "primary_comparison",
    "n_configurations",
    "n_rows_differ",
    "max_n_differ",
    "max_ulp",
    "max_abs_diff",
    "worst",
    "ab_movement",
    "ab_first_changed",
    "ab_step",
    "wall_s",
    "reused",
    "report",
    "folder",
    "raw",
    "oref",
    "truth",
    "host",
    "worker",
    "message",
]


def _verdict_columns() -> list:
    from stischeck.compare.tables import VERDICT_COLUMNS

    return ["dataset", *VERDICT_COLUMNS]


def _read_verdicts(folder: Path):
    import pandas as pd

    return pd.read_csv(folder / "verdicts.csv", dtype=str, keep_default_na=False)


def _number(values) -> float | None:
    import pandas as pd

    nums = pd.to_numeric(values, errors="coerce").dropna()
    return None if nums.empty else float(nums.max())


def _headline_text(summary: dict) -> str:
    """The first line of compare's headline (largest difference first), with its configuration."""
    lines, first = summary.get("headline") or [], summary.get("first_divergent")
    return f"{first}: {lines[0]}" if lines and first else ""


def _worst_text(frame, primary: str) -> str:
    """The first non-agreeing row of the primary comparison, in a few words."""
    bad = frame[frame.verdict.isin(["differ", "error"])]
    if primary:
        preferred = bad[bad.comparison == primary]
        bad = preferred if not preferred.empty else bad
    if bad.empty:
        return ""
    r = bad.iloc[0]
    where = f"{r.configuration} {r.comparison}"
    if r["product"]:
        where += f" _{r['product']}"
    if r.extname:
        where += f" {r.extname}[{r.imset}]"
    what = r.detail or r.dq_bits or (f"{r.n_differ} pixels" if r.n_differ else "")
    return f"{where}: {what}" if what else where


def dataset_rows(result) -> tuple:
    """(verdict rows frame, data set rows list) for a `BatchResult`, read from the folders."""
    import pandas as pd

    out = result.settings.outdir
    columns = _verdict_columns()
    frames, rows = [], []
    for o in result.outcomes:
        folder = out / o.name
        ds = o.dataset
        row = dict(
            dataset=o.name,
            status=o.status,
            verdict=o.verdict if o.status == "done" else "error",
            exit_code=o.exit_code if o.status == "done" else 2,
            first_divergent=o.first_divergent or "",
            wall_s=round(o.wall_s, 3),
            reused=o.reused,
            report=f"{o.name}/{o.report}" if o.report else "",
            folder=o.name,
            raw=str(ds.raw),
            oref=str(ds.oref),
            truth=str(ds.truth) if ds.truth else "",
            host=o.host,
            worker=o.worker,
            message=o.message or o.report_error or "",
        )
        frame = None
        if o.status == "done":
            try:
                frame = _read_verdicts(folder)
                summary = json.loads((folder / "summary.json").read_text())
            except (OSError, ValueError) as err:
                row.update(status="failed", verdict="error", exit_code=2)
                row["message"] = f"{folder}: compare outputs unreadable ({err})"
                frame = None
            else:
                primary = summary.get("primary_comparison", "")
                row.update(
                    primary_comparison=primary,
                    n_configurations=len(summary.get("configurations", {})),
                    n_rows_differ=int(frame.verdict.isin(["differ", "error"]).sum()),
                    max_n_differ=_number(frame.n_differ),
                    max_ulp=_number(frame.max_ulp),
                    max_abs_diff=_number(frame.max_abs_diff),
                    worst=_headline_text(summary) or _worst_text(frame, primary),
                )
                ab = summary.get("two_builds")
                if ab:
                    row.update(ab_movement=ab["movement"], ab_first_changed=ab["first_changed"]
                               or "", ab_step=ab["step"] or "",
                               ab_movements=ab["movements"])  # fmt: skip
        if frame is None:
            failed = dict.fromkeys(columns, "")
            failed.update(dataset=o.name, verdict="error", detail=row["message"] or "could not run")
            frame = pd.DataFrame([failed], columns=columns)
        else:
            frame.insert(0, "dataset", o.name)
            frame = frame.reindex(columns=columns, fill_value="")
        frames.append(frame)
        rows.append(row)
    verdicts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return verdicts, rows


CERTIFICATE_COLUMNS = ["dataset", "configuration", "identical", "movement", "step"]


def certificate(rows: list) -> tuple:
    """
    (rows of certificate.csv, the ``certificate`` of batch.json) from the data set rows.

    The certificate's ``line`` is the first thing the index says: whether
    build B is bit-identical to build A on every data set and configuration,
    and if not, how many data sets changed and where the first change is.
    A data set that could not run is never counted as identical.
    """
    table, changed, failed = [], [], []
    n_configs = 0
    for r in rows:
        movements = r.get("ab_movements")
        if r["status"] != "done" or movements is None:
            failed.append(r["dataset"])
            continue
        for name, move in movements.items():
            n_configs += 1
            table.append(dict(dataset=r["dataset"], configuration=name,
                              identical=move == "identical", movement=move,
                              step=r.get("ab_step", "") if name == r.get("ab_first_changed")
                              else ""))  # fmt: skip
        if any(m != "identical" for m in movements.values()) or r.get("ab_first_changed"):
            changed.append(r)
    n = len(rows)
    if not changed and not failed:
        line = (f"Build B is bit-identical to build A on all {n} data sets "
                f"({n_configs} data set × configuration pairs).")  # fmt: skip
    else:
        parts = []
        if changed:
            by_step: dict = {}
            for r in changed:
                key = (r.get("ab_first_changed") or "?", r.get("ab_movement", ""))
                by_step[key] = by_step.get(key, 0) + 1
            where = "; ".join(
                f"first at {step} in {k}: {move}"
                for (step, move), k in sorted(by_step.items(), key=lambda kv: -kv[1])
            )
            parts.append(
                f"Build B differs from build A in {len(changed)} of {n} data sets ({where}); "
                f"first listed {changed[0]['dataset']}"
            )
        if failed:
            parts.append(f"{len(failed)} data set(s) could not be compared ({failed[0]} first)")
        line = ". ".join(parts) + "."
    summary = dict(
        identical=not changed and not failed,
        line=line,
        n_datasets=n,
        n_changed=len(changed),
        n_not_compared=len(failed),
        changed=[
            dict(
                dataset=r["dataset"],
                first_changed=r.get("ab_first_changed"),
                step=r.get("ab_step"),
                movement=r.get("ab_movement"),
            )
            for r in changed
        ],  # fmt: skip
    )
    return table, summary


def _run_probes(settings) -> dict:
    """Run the known-issue probes through build A (if any) and B; their table for the index.

    Returns
    -------
    dict
        ``builds`` (``{"A": path, "B": path}``, A only with a baseline build),
        ``rows`` (per probe: ``name``, ``issue``, ``statuses`` build label ->
        status, ``changed`` True where A and B differ) and ``html`` (the file).
    """
    from stischeck.probes import PROBES, run_probes, write_csv
    from stischeck.probes.html import render_probes_html

    builds = {"B": Path(settings.calstis)}
    if settings.baseline_calstis is not None and settings.baseline_calstis != settings.calstis:
        builds = {"A": Path(settings.baseline_calstis), **builds}
    folder = settings.outdir / "probes"
    folder.mkdir(parents=True, exist_ok=True)
    results = run_probes(PROBES, list(builds.values()), folder / "runs",
                         timeout_s=settings.timeout_s)  # fmt: skip
    write_csv(results, folder / "probes.csv")
    (folder / "probes.html").write_text(render_probes_html(results))
    label = {str(path): name for name, path in builds.items()}
    rows: dict = {}
    for r in results:
        row = rows.setdefault(r.probe.name, dict(name=r.probe.name, issue=r.probe.issue,
                                                 statuses={}))  # fmt: skip
        row["statuses"][label[str(r.calstis)]] = r.status
    for row in rows.values():
        row["changed"] = len(set(row["statuses"].values())) > 1
    return dict(builds={k: str(v) for k, v in builds.items()}, rows=list(rows.values()),
                html="probes/probes.html")  # fmt: skip


def write_batch_outputs(result) -> dict:
    """Write verdicts.csv, datasets.csv, batch.json and index.html; return the batch.json dict."""
    import pandas as pd

    from stischeck import __version__
    from stischeck.batch.index import write_index

    out = result.settings.outdir
    verdicts, rows = dataset_rows(result)
    verdicts.to_csv(out / "verdicts.csv", index=False)
    table = pd.DataFrame(rows).reindex(columns=DATASET_COLUMNS)
    for col in ("max_n_differ", "max_ulp", "n_configurations", "n_rows_differ"):
        table[col] = table[col].astype("Int64")
    table.to_csv(out / "datasets.csv", index=False)
    cert = None
    if getattr(result.settings, "two_builds", False):
        cert_rows, cert = certificate(rows)
        pd.DataFrame(cert_rows, columns=CERTIFICATE_COLUMNS).to_csv(
            out / "certificate.csv", index=False
        )
    counts: dict = {}
    for r in rows:
        label = r["verdict"] if r["status"] == "done" else "could not run"
        counts[label] = counts.get(label, 0) + 1
    s = result.settings
    summary = dict(
        exit_code=max((r["exit_code"] for r in rows), default=0),
        n_datasets=len(rows),
        counts=counts,
        n_reused=sum(bool(r["reused"]) for r in rows),
        n_failed=sum(r["status"] != "done" for r in rows),
        wall_s=round(result.wall_s, 3),
        cluster=result.cluster,
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        stischeck=__version__,
        options=dict(
            calstis=str(s.calstis) if s.calstis else None,
            configurations=s.configurations,
            policy=str(s.policy) if s.policy else None,
            timeout_s=s.timeout_s,
            dataset_timeout_s=s.dataset_timeout_s,
            steplocal=s.steplocal,
            html=s.html,
            force=s.force,
            baseline_calstis=str(s.baseline_calstis) if s.baseline_calstis else None,
            baseline_oref=str(s.baseline_oref) if s.baseline_oref else None,
            repeat=s.repeat,
        ),
        datasets=[
            {k: r[k] for k in ("dataset", "status", "verdict", "exit_code", "message")}
            for r in rows
        ],
    )
    if cert is not None:
        summary["certificate"] = cert
    if getattr(s, "probes", False) and s.calstis is not None:
        summary["probes"] = _run_probes(s)
    (out / "batch.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    write_index(out, rows, summary)
    return summary
