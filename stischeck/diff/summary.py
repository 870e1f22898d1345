"""The text report of a `DiffResult`: verdict and worst findings first, details after."""

from stischeck.diff.arrays import DQ_BIT_NAMES, FINITE_CLASSES, REL_LADDER, SIGMA_LADDER, ULP_BINS
from stischeck.diff.policy import FORMULA
from stischeck.diff.result import keyword_text
from stischeck.diff.tables import TABLE_RULE

__all__ = ["format_summary"]


def format_summary(result, *, max_findings: int = 12, detail: bool = False) -> str:
    """
    Render ``result`` as text whose first screen says what matters.

    Parameters
    ----------
    result : DiffResult
    max_findings : int
        How many findings to list before the per-extension table.
    detail : bool
        Append ulp histograms, ladders, NaN/inf tables and worst pixels.

    Returns
    -------
    str
    """
    policy = result.policy
    findings = [f for f in result.findings() if f.rank[0] < 5]
    allowed = [f for f in result.findings() if f.rank[0] >= 5]
    lines = [
        f"stischeck diff: {result.verdict.upper()}",
        f"  A: {result.path_a}",
        f"  B: {result.path_b}",
        f"  policy {policy.label} ({policy.source}); step {result.step}",
        f"  per pixel: {FORMULA}; DQ bits and NaN/inf positions exact",
    ]
    if any(e.kind == "table" for e in result.extensions):
        lines.append(f"  {TABLE_RULE}")
    if findings:
        shown = findings[:max_findings]
        lines.append("")
        lines.append(f"Differences ({len(shown)} of {len(findings)}, worst first):")
        lines += [f"  {f.text}" for f in shown]
    if allowed:
        lines.append("")
        lines.append("Allowed by the policy:")
        lines += [f"  {f.text}" for f in allowed[:max_findings]]
        for e in result.extensions:
            for rule in e.rules:
                lines.append(f"    {e.extname} imset {e.extver}: {rule}")
        for k in result.keywords:
            if k.status == "within":
                lines.append(f"    [{k.extname},{k.extver}] {k.keyword}: {k.rule}")
    if result.ignored:
        lines.append("")
        lines.append("Differ but not compared (the policy ignores these keywords):")
        lines += _ignored_lines(result.ignored)
    lines.append("")
    lines.append(_extension_table(result))
    n_kw = sum(k.is_difference for k in result.keywords)
    n_within = len(result.keywords) - n_kw
    lines.append(
        f"Header keywords (every card, structural ones included): {n_kw} differ, "
        f"{n_within} within tolerance, {len(result.ignored)} differ but are ignored; "
        f"the policy ignores {len(policy.ignored_keywords)} "
        f"({', '.join(policy.ignored_keywords)})"
    )
    if detail:
        lines += _details(result)
    return "\n".join(lines) + "\n"


def _ignored_lines(ignored) -> list:
    """One line per ignored keyword: the policy's reason, where it differs, one example."""
    by_key = {}
    for k in ignored:
        by_key.setdefault(k.keyword, []).append(k)
    lines = []
    for key, items in by_key.items():
        places = [_where(k) for k in items]
        shown = ", ".join(places[:4]) + (f" and {len(places) - 4} more" if len(places) > 4 else "")
        first = keyword_text(items[0]).split(": ", 1)[1].rsplit(": ignored (", 1)[0]
        lines.append(f"  {key} ({items[0].rule}): differs in {shown}; e.g. {first}")
    return lines


def _where(k) -> str:
    return "primary header" if k.extname == "PRIMARY" else f"[{k.extname},{k.extver}]"


def _extension_table(result) -> str:
    header = ("EXT", "IMSET", "VERDICT", "PIXELS", "DIFFER", "MAX ULP", "MAX |Δ|", "MAX REL",
              "MAX |Δ|/ERR", "NaN/inf MOVED")  # fmt: skip
    rows = []
    for s in result.structure:
        rows.append((s.extname, str(s.extver), "differ", "", "", "", "", "", "", f"{s.what}"))
    for e in result.extensions:
        c = e.comparison
        if e.kind == "table":
            cols = ", ".join(col.name for col in c.columns) or "-"
            rows.append((e.extname, str(e.extver), e.verdict, f"{c.n_rows} rows",
                         str(c.n_rows_differ), "", "", "", "", f"columns: {cols}"))  # fmt: skip
            continue
        if e.kind == "dq":
            bits = ", ".join(f"{bit} {DQ_BIT_NAMES[bit]}" for bit in c.differing_bits()) or "-"
            rows.append((e.extname, str(e.extver), e.verdict, str(c.n_pixels), str(c.n_differ),
                         "", "", "", "", f"bits: {bits}"))  # fmt: skip
            continue
        # |Δ|/ERR only where an ERR > 0 normalised a difference (not for ERR itself, nor
        # for raw files, whose ERR is zero); integers have no ulps.
        sigma = f"{c.max_sigma:.3g}" if c.sigma_ladder and c.max_sigma == c.max_sigma else ""
        ulp = "-" if c.integer else str(c.max_ulp)
        delta = f"{c.max_abs_diff:.0f}" if c.integer else f"{c.max_abs_diff:.3g}"
        rows.append((e.extname, str(e.extver), e.verdict, str(c.n_pixels), str(c.n_differ),
                     ulp, delta, f"{c.max_rel_diff:.3g}", sigma,
                     str(c.nonfinite_mismatch)))  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


def _details(result) -> list:
    lines = []
    for e in result.extensions:
        if e.verdict == "identical":
            continue
        c = e.comparison
        lines.append("")
        lines.append(f"{e.extname} imset {e.extver} ({e.verdict})")
        if e.kind == "table":
            for col in c.columns:
                lines.append(
                    f"  column {col.name}: {col.n_differ} rows differ, first row "
                    f"{col.first_row}: A {col.a!r}, B {col.b!r}"
                )
            continue
        if e.kind == "dq":
            lines.append("  bit    name                 only A   only B     both")
            for bit, (oa, ob, both) in sorted(c.bits.items()):
                lines.append(f"  {bit:<6} {DQ_BIT_NAMES[bit]:<18} {oa:>8} {ob:>8} {both:>8}")
            continue
        for name in ("all", "good", "flagged"):
            s = c.subsets[name]
            lines.append(
                f"  {name:<8} pixels {s['n_pixels']:>9}  differ {s['n_differ']:>8}  "
                f"max ulp {s['max_ulp']:>6}  max |Δ| {s['max_abs_diff']:.4g}  "
                f"max rel {s['max_rel_diff']:.3g}"
            )
        labels = [f"{u}" for u in ULP_BINS] + [f">{ULP_BINS[-1]}"]
        lines.append(
            ("  |Δ| histogram, integer data" if c.integer else "  ulp histogram")
            + " (upper edge: count): "
            + ", ".join(f"{lab}: {n}" for lab, n in zip(labels, c.ulp_histogram, strict=True) if n)
        )
        lines.append(
            "  share of pixels with symmetric relative difference above: "
            + ", ".join(
                f">{t:g}: {100 * s:.4g}%" for t, s in zip(REL_LADDER, c.rel_ladder, strict=True)
            )
        )
        has_sigma = c.sigma_ladder and c.max_sigma == c.max_sigma
        if has_sigma:
            lines.append(
                "  share with |Δ|/ERR above: "
                + ", ".join(
                    f">{t:g}: {100 * s:.4g}%"
                    for t, s in zip(SIGMA_LADDER, c.sigma_ladder, strict=True)
                )
            )
        table = [
            f"{FINITE_CLASSES[i]}→{FINITE_CLASSES[j]}: {n}"
            for i, row in enumerate(c.nonfinite)
            for j, n in enumerate(row)
            if n and (i != j or i > 0)
        ]
        lines.append("  NaN/inf table (A→B): " + (", ".join(table) or "all finite"))
        lines.append("  worst pixels [x, y] (FITS, 1-based):")
        for p in c.worst:
            ulp = "" if c.integer else f"  ulp {p.ulp if p.abs_diff != float('inf') else '-'}"
            sigma = f"  |Δ|/ERR {p.sigma:.3g}" if p.sigma == p.sigma else ""
            lines.append(
                f"    [{p.x}, {p.y}]  A {p.a!r:<14} B {p.b!r:<14} |Δ| {p.abs_diff:.4g}"
                + ulp
                + sigma
                + ("  (flagged)" if p.flagged else "")
            )
    return lines
