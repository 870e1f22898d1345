"""Build A against build B (or reference set A against set B), with the reference as arbiter.

Per configuration × product × extension × imset, three comparisons are in
the verdict rows: A vs B (``baseline-vs-calstis``), the reference vs A and
the reference vs B (with two reference sets, the reference run on each set
judges the build that read it). Their verdicts give one movement in words:

=====================================================  =======  ==========  ==========
movement                                               A vs B   ref vs A    ref vs B
=====================================================  =======  ==========  ==========
identical                                              same     any         any
B moved away from the reference                        differ   same        differ
B moved toward the reference (a fix)                   differ   differ      same
both moved (the reference moved with them)             differ   same        same
A and B differ and neither matches the reference       differ   differ      differ
=====================================================  =======  ==========  ==========

"same" is a verdict of ``identical`` or ``agree`` (within the policy's
tolerance) or ``empty`` (neither wrote a product). With one reference set the
reference is the same on both sides, so "both moved" cannot happen; with two
sets it is the expected outcome of a changed reference file: both builds and
the reference follow the new file.

This module reads only verdict rows and file checksums: it shares no code
with ``reference_impl``.
"""

from __future__ import annotations

__all__ = [
    "IDENTICAL",
    "AWAY",
    "TOWARD",
    "BOTH",
    "NEITHER",
    "A_VS_B",
    "movement",
    "movement_rows",
    "summarize_movement",
    "changed_reference_files",
]

IDENTICAL = "identical"
AWAY = "B moved away from the reference"
TOWARD = "B moved toward the reference (a fix)"
BOTH = "both moved (the reference moved with them)"
NEITHER = "A and B differ and neither matches the reference"
NOT_JUDGED = "A and B differ; the reference could not judge"
NOT_COMPARED = "not compared"

#: Worst first: what a release checker must look at before anything else.
_ORDER = (AWAY, NEITHER, NOT_JUDGED, NOT_COMPARED, BOTH, TOWARD, IDENTICAL)

A_VS_B = "baseline-vs-calstis"

MOVEMENT_COLUMNS = [
    "configuration",
    "product",
    "extname",
    "imset",
    "a_vs_b",
    "reference_vs_a",
    "reference_vs_b",
    "movement",
]


def _same(verdict: str | None) -> bool | None:
    """True (same), False (differ), None (not compared or an error)."""
    if verdict is None or verdict == "error":
        return None
    return verdict in ("identical", "agree", "empty")


def movement(a_vs_b: str | None, ref_vs_a: str | None, ref_vs_b: str | None) -> str:
    """
    The movement of one extension from the three verdicts (table in the module docstring).

    Parameters
    ----------
    a_vs_b, ref_vs_a, ref_vs_b : str or None
        Verdict words (``identical``, ``agree``, ``differ``, ``empty``,
        ``error``); None where that comparison has no row.

    Examples
    --------
    >>> movement("differ", "identical", "differ")
    'B moved away from the reference'
    >>> movement("identical", "differ", "differ")
    'identical'
    """
    ab = _same(a_vs_b)
    if ab is None:
        return NOT_COMPARED
    if ab:
        return IDENTICAL
    ra, rb = _same(ref_vs_a), _same(ref_vs_b)
    if ra is None or rb is None:
        return NOT_JUDGED
    return {(True, False): AWAY, (False, True): TOWARD, (True, True): BOTH}.get((ra, rb), NEITHER)


def _comparison_names(settings) -> tuple:
    """(A vs B, reference vs A, reference vs B) as the verdict rows name them."""
    ref_a = "baseline-reference" if settings.baseline_oref is not None else "reference"
    return A_VS_B, f"{ref_a}-vs-baseline", "reference-vs-calstis"


def movement_rows(run) -> list:
    """
    One row per configuration × product × extension × imset of the A vs B comparison.

    Parameters
    ----------
    run : CompareRun
        A finished two-build run (``settings.two_builds``).

    Returns
    -------
    list of dict
        `MOVEMENT_COLUMNS`; the whole product (or configuration) has
        ``extname`` "" where it was not compared pixel by pixel.
    """
    ab_name, ra_name, rb_name = _comparison_names(run.settings)
    verdicts: dict = {}  # key -> comparison -> verdict, keys in row order
    for row in run.rows:
        if row["comparison"] in (ab_name, ra_name, rb_name):
            key = (row["configuration"], row.get("product", ""), row.get("extname", ""),
                   row.get("imset"))  # fmt: skip
            verdicts.setdefault(key, {})[row["comparison"]] = row["verdict"]
    out = []
    for (config, product, extname, imset), v in verdicts.items():
        if ab_name not in v:
            continue  # the reference's own finding, with no A vs B counterpart here
        ab, ra, rb = v.get(ab_name), v.get(ra_name), v.get(rb_name)
        out.append(
            dict(configuration=config, product=product, extname=extname, imset=imset,
                 a_vs_b=ab, reference_vs_a=ra, reference_vs_b=rb,
                 movement=movement(ab, ra, rb))
        )  # fmt: skip
    return out


def worst(movements) -> str:
    """The movement a reader must see first among ``movements`` (`IDENTICAL` when none)."""
    present = set(movements)
    return next((m for m in _ORDER if m in present), IDENTICAL)


def changed_reference_files(header, oref_a, oref_b) -> list:
    """
    The reference files whose content differs between two reference folders.

    A file stored gzipped in one folder and plain in the other is the same
    file when its content is (`stischeck.inputs.sha256_uncompressed`).

    Returns
    -------
    list of dict
        ``keyword``, ``name`` (as the raw header gives it), ``switch`` (the
        step that reads it; "" for CCDTAB, which every calstis1 step reads),
        ``a`` and ``b`` (the two paths, or None where the file is missing).
    """
    from stischeck.inputs import find_reference, sha256_uncompressed
    from stischeck.validate import READ_BY

    changed = []
    for keyword, switch in READ_BY.items():
        name = str(header.get(keyword, "")).strip()
        if not name or name.upper() in ("N/A", "NONE"):
            continue
        a, b = find_reference(name, oref_a), find_reference(name, oref_b)
        if a is None and b is None:
            continue
        if a is None or b is None or sha256_uncompressed(a) != sha256_uncompressed(b):
            changed.append(dict(keyword=keyword, name=name, switch=switch or "",
                                a=str(a) if a else None, b=str(b) if b else None))  # fmt: skip
    return changed


def summarize_movement(run, summary: dict) -> dict:
    """
    The A/B part of the summary: did anything change, where first, which side moved.

    Parameters
    ----------
    run : CompareRun
        A finished two-build run.
    summary : dict
        `stischeck.compare.tables.summarize`'s result for it (its primary
        comparison is A vs B, so ``first_divergent``, ``attribution`` and
        ``headline`` describe the change between A and B).

    Returns
    -------
    dict
        ``identical`` (bool: A and B bit-identical, within the policy, on
        every configuration), ``movements`` (configuration -> worst movement),
        ``first_changed`` (configuration or None), ``step`` (its attribution),
        ``movement`` (its worst movement), ``headline`` (where: product,
        extension, imset, pixel, DQ bits, keywords), ``reference_files``
        (files that differ between two reference sets) and ``builds``.
    """
    rows = movement_rows(run)
    per_config: dict = {}
    for r in rows:
        per_config.setdefault(r["configuration"], []).append(r["movement"])
    movements = {c.name: worst(per_config.get(c.name, ())) for c in run.configurations}
    for (name, side), outcome in run.runs.items():
        if side in ("calstis", "baseline") and outcome.status == "error":
            movements[name] = worst((movements[name], NOT_COMPARED))
    first = summary.get("first_divergent")
    settings = run.settings
    files = []
    if settings.baseline_oref is not None:
        from stischeck.inputs import read_raw_header

        header = read_raw_header(settings.raw)
        files = changed_reference_files(header, settings.baseline_oref, settings.oref)
    return dict(
        identical=all(m == IDENTICAL for m in movements.values()) and first is None,
        movements=movements,
        first_changed=first,
        step=summary["attribution"].get(first) if first else None,
        movement=movements.get(first) if first else IDENTICAL,
        headline=list(summary.get("headline") or ()),
        reference_files=files,
        builds=dict(
            a=str(settings.baseline_build),
            b=str(settings.calstis),
            oref_a=str(settings.baseline_references),
            oref_b=str(settings.oref),
        ),
    )
