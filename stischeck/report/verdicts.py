"""Builders of the verdict rows: the failures-first table, the matrix, per-configuration rows.

Everything here is read from ``verdicts.csv`` and ``statistics.csv``; nothing is recomputed.
"""

from stischeck.dqbits import DQ_MEANINGS
from stischeck.report.constants import _BIT_NAMES, _EXT_ORDER, _SUFFIX_ORDER, VERDICT_RANK
from stischeck.report.folder import CompareFolder
from stischeck.report.views import DQBitRow


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
