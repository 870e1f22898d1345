"""Plain words from the model's numbers: what each step did to a pixel, why pixels go negative.

The facts follow the calstis 2-D CCD specification (docs/calstis-ccd-2d.md):
raw SCI is unsigned 16-bit DN including the electronic bias level; BLEVCORR
subtracts the overscan level fitted per row; ERR is initialised after it,
with the read-noise floor READNSE/ATODGAIN wherever SCI <= 0; BIASCORR and
DARKCORR (dark x EXPTIME/ATODGAIN) subtract; CRCORR writes the sum of the
imsets in DN; FLATCORR divides.
"""

import math
from dataclasses import replace

from stischeck.dqbits import DQ_BITS

__all__ = ["describe_changes", "explain_pixel", "explain_negatives", "verdict_row_text", "dq_names"]

_NAMES = {v: k for k, v in DQ_BITS.items()}


def dq_names(value: int) -> str:
    """``"DETECTORPROB|HOTPIX"`` for 20; ``""`` for 0."""
    value = int(value) & 0xFFFF
    return "|".join(_NAMES.get(1 << k, f"BIT{1 << k}") for k in range(16) if value & (1 << k))


#: Why a pixel with this DQ bit can read far below zero, in words (spec §12.6 for 8192).
_FLAG_REASONS = {
    "DATAREJECT": "DATAREJECT (8192) in a _crj: rejected as a cosmic ray in every imset, so "
    "calstis wrote the sky (SKYSUM) in its place, with ERR 0 at that step; the pixel's own "
    "charge is gone, and the dark that DARKCORR subtracts from the _crj afterwards (over the "
    "whole exposure) takes it below zero",
    "HOTPIX": "HOTPIX (16): a hot pixel, whose dark current in the dark reference is large; "
    "DARKCORR subtracts all of it, so wherever this exposure's value does not hold that much "
    "charge (the sky put in place of a rejected pixel, or a pixel hotter in the reference "
    "than now) it lands far below zero",
    "SATPIXEL": "SATPIXEL (256): saturated, so its value is not the charge it collected",
    "DETECTORPROB": "DETECTORPROB (4): a bad detector pixel or one beyond the aperture; its "
    "value is not a measurement of light",
    "CALIBDEFECT": "CALIBDEFECT (512): a bad pixel in a reference file, so the correction "
    "subtracted or divided there is not trustworthy",
}


def flag_reasons(value: int) -> list:
    """The `_FLAG_REASONS` of the bits set in ``value``, in bit order (DATAREJECT first)."""
    names = dq_names(value).split("|") if value else []
    order = ["DATAREJECT", "HOTPIX", "SATPIXEL", "CALIBDEFECT", "DETECTORPROB"]
    return [_FLAG_REASONS[n] for n in order if n in names]


def _fmt(v) -> str:
    if v is None:
        return "—"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.2f}"


def _each(values) -> str:
    return " / ".join(_fmt(v) for v in values)


def _or(values) -> int:
    out = 0
    for v in values:
        out |= int(v)
    return out


def _ratios(before, after) -> list:
    return [a / b if b != 0 else float("nan") for a, b in zip(before, after, strict=False)]


def _ratio_text(values) -> str:
    return " / ".join(f"{v:.4f}" if math.isfinite(v) else "undefined (0)" for v in values)


def describe_changes(rows: list, added: dict) -> list:
    """
    ``change`` and ``removed`` of each `WaterfallRow`: what its step did, in words and DN.

    Per-imset rows (raw, _flt) are compared with the previous per-imset row;
    the first _crj with the previous per-imset values (their sum); a later
    _crj with the previous _crj.

    Parameters
    ----------
    rows : list of WaterfallRow
        One pixel's rows in ladder order.
    added : dict
        configuration -> the switch it adds (None when not a ladder rung).

    Returns
    -------
    list of WaterfallRow
        The same rows with ``change`` and ``removed`` filled in (new objects).
    """
    prev_imsets = None  # last raw or _flt row
    prev_crj = None
    out = []
    for row in rows:
        step = added.get(row.config)
        change, removed = "", row.removed
        if row.product == "raw":
            change = "raw DN as read: unsigned 16-bit counts that include the bias level"
            prev_imsets = row
        elif row.product == "flt":
            prev, prev_imsets = prev_imsets, row
            if prev is not None:
                change, removed = _flt_change(row, prev, step, prev_crj is not None)
        elif prev_crj is None:
            prev_crj = row
            if prev_imsets is not None:
                change, removed = _first_crj_change(row, prev_imsets)
        else:
            prev, prev_crj = prev_crj, row
            change, removed = _later_crj_change(row, prev, step)
        out.append(replace(row, change=change, removed=removed))
    return out


def _flt_change(row, prev, step, after_crj: bool) -> tuple:
    """(change, removed) of a _flt row against the previous per-imset row."""
    d = row.removed
    if len(prev.sci) == len(row.sci):
        d = tuple(a - b for a, b in zip(prev.sci, row.sci, strict=True))
    change = ""
    if step == "DQICORR":
        flags = _or(row.dq)
        change = "SCI unchanged; DQ flags set" + (
            f" ({dq_names(flags)})" if flags else " (none here)"
        )
    elif step == "BLEVCORR":
        change = f"overscan bias level subtracted: {_each(d)} DN; overscan trimmed"
    elif step == "BIASCORR":
        change = f"bias image subtracted: {_each(d)} DN"
    elif step == "DARKCORR":
        change = f"dark subtracted (dark × EXPTIME / gain): {_each(d)} DN per imset" + (
            ", from the EXPSCORR _flt" if after_crj else ""
        )
    elif step == "FLATCORR":
        change = "divided by the flat: " + _ratio_text(_ratios(prev.sci, row.sci))
    elif step == "CRCORR" and d and not any(d):
        change = "CRCORR skipped (a single imset): unchanged"
    elif d:
        change = f"changed by {_each([-v for v in d])} DN"
    return change, d


def _first_crj_change(row, prev_imsets) -> tuple:
    """(change, removed) of the first _crj: the sum over NCOMBINE imsets, DN over the total time."""
    total = sum(prev_imsets.sci)
    rejected = row.dq[0] & DQ_BITS["DATAREJECT"]
    change = (
        f"cosmic rays rejected, the {row.ncombine} imsets summed: sum of the values "
        f"above {_fmt(total)} DN, _crj {_fmt(row.sci[0])} DN"
        + ("; rejected in every imset (DQ 8192)" if rejected else "")
        + f"; per imset {_fmt(row.per_imset)} DN (_crj / NCOMBINE)"
    )
    return change, (total - row.sci[0],)


def _later_crj_change(row, prev, step) -> tuple:
    """(change, removed) of a later _crj against the previous _crj."""
    d = prev.sci[0] - row.sci[0]
    if step == "DARKCORR":
        change = (
            f"dark subtracted over the total exposure: {_fmt(d)} DN "
            f"({_fmt(d / row.ncombine)} DN per imset, / NCOMBINE)"
        )
    elif step == "FLATCORR":
        change = "divided by the flat: " + _ratio_text(_ratios(prev.sci, row.sci))
    else:
        change = f"changed by {_fmt(-d)} DN"
    return change, (d,)


def _expected_extreme(n: int) -> float:
    """How many sigma the most extreme of n Gaussian values typically lies out: √(2 ln n)."""
    return math.sqrt(2.0 * math.log(n)) if n > 1 else 1.0


def explain_pixel(
    x: int, y: int, rows: list, added: dict, *, n_good: int = 0, is_extreme: bool = False
) -> list:
    """
    Plain-words sentences on why one pixel ends where it does.

    Parameters
    ----------
    x, y : int
        FITS pixel of the final product.
    rows : list of WaterfallRow
        With ``change`` and ``removed`` filled (`describe_changes`).
    added : dict
        configuration -> the switch it adds.
    n_good : int
        Good pixels in the final product (for the expected extreme of the noise).
    is_extreme : bool
        The pixel was picked as one of the most negative.

    Returns
    -------
    list of str
    """
    if not rows:
        return [f"[{x}, {y}] is not in any product of this comparison."]
    out = []
    by_step = {added.get(r.config): r for r in rows if r.product in ("flt", "raw")}
    raw = next((r for r in rows if r.product == "raw"), None)
    if raw is not None and (raw.x, raw.y) != (x, y):
        out.append(
            f"[{x}, {y}] of the final product is [{raw.x}, {raw.y}] of the raw, untrimmed frame "
            "and of DQICORR's _flt (the overscan that BLEVCORR trims lies before it)."
        )
    out.extend(_blev_sentences(by_step))
    out.extend(_step_sentences(rows, added))
    last = rows[-1]
    value = last.sci[0]
    flags = _or(last.dq)
    reasons = flag_reasons(flags) if value < 0 else []
    out.extend(_final_sentences(rows, added, reasons))
    if not reasons:
        out.extend(_noise_sentences(rows, added, by_step, n_good, is_extreme))
    flat = by_step.get("FLATCORR") or next(
        (r for r in rows if added.get(r.config) == "FLATCORR"), None
    )
    if flat is not None and value < 0:
        out.append(
            "Dividing by the flat changes the size of a value, not its sign: it stays negative."
        )
    if flags and not reasons:
        out.append(f"DQ at the end: {flags} ({dq_names(flags)}).")
    return out


def _blev_sentences(by_step: dict) -> list:
    """What BLEVCORR left: the light plus read noise, or a bright pixel."""
    out = []
    blev = by_step.get("BLEVCORR")
    if blev is not None and blev.removed:
        floor = (
            f" (the read-noise floor, READNSE / ATODGAIN, is {_fmt(blev.floor)} DN)"
            if blev.floor
            else ""
        )
        lowest = min(blev.sci) if blev.sci else 0.0
        if blev.floor and lowest > 5 * blev.floor:
            tail = (
                f" That is {lowest / blev.floor:.0f} × the read-noise floor: a bright pixel, "
                "far above the noise."
            )
        else:
            tail = " For a pixel with little light that scatters around zero."
        out.append(
            f"BLEVCORR subtracted the electronic bias level, {_each(blev.removed)} DN, leaving "
            f"{_each(blev.sci)} DN: the light in the pixel plus read noise{floor}.{tail}"
        )
    return out


def _step_sentences(rows: list, added: dict) -> list:
    """Where the value first went negative, and the bias and dark each step took."""
    out = []
    first_negative = next((r for r in rows if r.per_imset < 0), None)
    if first_negative is not None:
        step = added.get(first_negative.config) or first_negative.config
        out.append(
            f"Its per-imset value first went below zero after {step} "
            f"({_fmt(first_negative.per_imset)} DN)."
        )
    else:
        out.append("It never went below zero.")
    for step, what in (("BIASCORR", "bias"), ("DARKCORR", "dark")):
        r = next((r for r in rows if added.get(r.config) == step and r.removed), None)
        if r is not None and r.product == "flt":
            out.append(f"{step} subtracted {_each(r.removed)} DN of {what} per imset.")
        elif r is not None:
            out.append(
                f"{step} subtracted {_fmt(r.removed[0])} DN of {what} from the sum "
                f"({_fmt(r.removed[0] / r.ncombine)} DN per imset)."
            )
    return out


def _final_sentences(rows: list, added: dict, reasons: list) -> list:
    """The final value: a _crj sum, and why a flagged negative pixel is this low."""
    out = []
    last = rows[-1]
    value = last.sci[0]
    if last.product == "crj" and last.ncombine > 1:
        out.append(
            f"The final _crj value {_fmt(value)} DN is the sum of {last.ncombine} imsets "
            f"({_fmt(last.per_imset)} DN per imset); its noise grows as √{last.ncombine}, its "
            f"signal as {last.ncombine}."
        )
    flags = _or(last.dq)
    if reasons:
        dark = next((r for r in rows if added.get(r.config) == "DARKCORR" and r.removed), None)
        dark_text = (
            f" DARKCORR subtracted {_fmt(dark.removed[0])} DN of dark here."
            if dark is not None and dark.removed and dark.removed[0] > 0
            else ""
        )
        out.append(
            f"It is a flagged pixel (DQ {flags}: {dq_names(flags)}), left out of the good "
            "pixels, and its flags say why it is this low: " + "; ".join(reasons) + "." + dark_text
        )
    return out


def _noise_sentences(rows: list, added: dict, by_step: dict, n_good: int, is_extreme: bool) -> list:
    """How far the final value lies from zero in units of ERR, and what that says."""
    out = []
    last = rows[-1]
    value = last.sci[0]
    err = last.err[0] if last.err else float("nan")
    if err and math.isfinite(err) and err > 0 and value < 0:
        z = abs(value / err)
        extreme = _expected_extreme(n_good)
        floor = (
            f"; the read-noise floor of this product is {_fmt(last.floor)} DN" if last.floor else ""
        )
        dark_note = ""
        if "DARKCORR" in by_step or any(added.get(r.config) == "DARKCORR" for r in rows):
            dark_note = (
                " ERR was set to the read-noise floor where the pixel was at or below zero "
                "after BLEVCORR, so it leaves out the shot noise of the dark current that "
                "DARKCORR later subtracts; the true scatter is larger than ERR."
            )
        if z <= 3:
            out.append(
                f"It is {z:.1f} × ERR below zero (ERR {_fmt(err)} DN{floor}): an empty pixel "
                "whose noise scattered downwards, as about half of all empty pixels do once the "
                "bias level is gone. Nothing is wrong with it."
            )
        elif is_extreme and z <= extreme + 1.5:
            out.append(
                f"It is {z:.1f} × ERR below zero (ERR {_fmt(err)} DN{floor}). Among "
                f"{n_good:,} good pixels the most extreme noise excursion is expected near "
                f"{extreme:.1f} σ, so the most negative pixel of the image is this far out by "
                f"chance.{dark_note}"
            )
        else:
            drops = [(r.removed[0] if r.removed else 0.0, r) for r in rows if r.config != "RAW"]
            drops = [(d, r) for d, r in drops if added.get(r.config) != "BLEVCORR"]
            where = ""
            if drops:
                d, r = max(drops, key=lambda t: t[0])
                if d > 0:
                    where = f" The largest step after BLEVCORR was {r.config} ({_fmt(d)} DN)."
            out.append(
                f"It is {z:.1f} × ERR below zero (ERR {_fmt(err)} DN{floor}): more than noise "
                f"explains.{where} Check the DQ flags and that step's reference file.{dark_note}"
            )
    elif err and math.isfinite(err) and err > 0 and value >= 0:
        out.append(f"It ends {value / err:.1f} × ERR above zero (ERR {_fmt(err)} DN).")
    return out


def _pct(x: float) -> str:
    """A share as a percentage: one decimal, or two significant digits below 0.1%."""
    p = 100 * x
    if p == 0 or p >= 0.1:
        return f"{p:.1f}%"
    return f"{p:.2g}%"


def _flagged_text(row, prev=None) -> str:
    """
    A sentence on the negative flagged pixels of a `NegativeRow`, and why; or ``""``.

    When the previous step's row (``prev``) had negative flagged pixels with the same flags,
    the reasons are not repeated.
    """
    n = row.n_flagged_negative
    if n <= 0:
        return ""
    if (
        prev is not None
        and prev.n_flagged_negative == n
        and set(prev.flagged_dq) == set(row.flagged_dq)
    ):
        return (
            f" The same {n:,} flagged pixel{'s' if n != 1 else ''} stay negative (down to "
            f"{_fmt(row.flagged_min)} DN), for the reasons given above."
        )
    common = ", ".join(
        f"{value} ({dq_names(value) or 'none'}) × {count:,}"
        for value, count in list(row.flagged_dq.items())[:3]
    )
    bits = 0
    for value in row.flagged_dq:
        bits |= value
    reasons = flag_reasons(bits)
    why = (" Why such pixels go low: " + "; ".join(reasons) + ".") if reasons else ""
    return (
        f" Besides, {n:,} flagged pixel{'s' if n != 1 else ''} (an SDQFLAGS bit in DQ, so not "
        f"counted as good) {'are' if n != 1 else 'is'} negative, down to "
        f"{_fmt(row.flagged_min)} DN; DQ {common}.{why}"
    )


def explain_negatives(negatives: list, sections: list, side: str) -> list:
    """
    One paragraph per configuration on how many pixels are negative there, and why.

    Parameters
    ----------
    negatives : list of NegativeRow
    sections : list of ConfigSection
    side : str
        The baseline side (calstis or truth) whose products the sentences describe.

    Returns
    -------
    list of (configuration, sentence)
    """
    out = []
    prev = None
    for section in sections:
        rows = [n for n in negatives if n.config == section.name and n.side in (side, "input")]
        if not rows:
            continue
        row = rows[0]  # the main product: _crj before _flt
        text = _negative_sentence(row, prev, section)
        text += _flagged_text(row, prev)
        out.append((section.name, text))
        prev = row
    return out


def _negative_sentence(row, prev, section) -> str:
    """What the step of one configuration did to the share of negative pixels, in words."""
    step = section.added
    now = (
        f"{_pct(row.good_fraction)} of the good pixels ({row.n_good_negative:,})"
        if row.n_good_negative
        else "none of the good pixels"
    )
    was = f" (was {_pct(prev.good_fraction)})" if prev is not None else ""
    floor = row.info.get("floor")
    median = row.median_good
    if row.n_negative == 0 and "BLEVCORR" not in section.performed:
        text = (
            "No negative pixels: raw SCI values are unsigned 16-bit DN and still include the "
            "electronic bias level, so a pixel without light reads about the bias level "
            f"(median good pixel {median:.0f} DN), not zero."
        )
    elif step == "BLEVCORR":
        level = row.info.get("MEANBLEV", float("nan"))
        lead = (
            f"BLEVCORR subtracted the overscan bias level (MEANBLEV {level:.1f} DN). A pixel "
            f"without light now reads zero ± the read noise (floor {_fmt(floor)} DN), so "
            "about half of such pixels fall below zero."
        )
        if floor and median > 2 * floor:
            tail = (
                f" Here most pixels hold light (median good pixel {_fmt(median)} DN, "
                f"{median / floor:.1f} × the floor), so "
                f"{'only ' if row.n_good_negative else ''}{now} are negative."
            )
        else:
            tail = (
                f" Here the median good pixel is {_fmt(median)} DN, close to zero, and {now} "
                "are negative."
            )
        text = lead + tail + f" The lowest is {_fmt(row.min_value)} DN."
    elif step == "BIASCORR":
        text = (
            "BIASCORR subtracted the bias image, the 2-D pattern of the zero level that the "
            f"overscan level does not describe: the median good pixel is now {_fmt(median)} "
            f"DN and {now} are negative{was}."
        )
    elif step == "CRCORR" and row.product != "crj":
        text = (
            "CRCORR had nothing to combine (a single imset: calstis marks it SKIPPED and "
            f"writes the _flt again), so nothing changes: {now}{was}."
        )
    elif step == "CRCORR":
        n = row.info.get("ncombine", 1)
        direction = (
            "fewer pixels are negative"
            if prev is not None and row.good_fraction < prev.good_fraction
            else "the share of negatives hardly changes where there is no light"
        )
        text = (
            f"CRCORR's _crj is the sum of {n} imsets in DN: signal adds {n} times, noise only "
            f"√{n} = {math.sqrt(n):.1f} times, so {direction}: {now}{was}. Cosmic rays only "
            "add charge; rejecting them removes no negative value."
        )
    elif step == "DARKCORR":
        text = (
            "DARKCORR subtracted the dark image scaled by EXPTIME / ATODGAIN (MEANDARK "
            f"{row.info.get('MEANDARK', float('nan')):.2f} DN): every pixel is lowered by its "
            "expected dark current, which moves pixels towards and below zero: "
            f"{now}{was}; the median good pixel is {_fmt(median)} DN."
        )
    elif step == "FLATCORR":
        text = (
            "FLATCORR divided by the flat field (values near 1): dividing changes the size "
            f"of a value, not its sign, so negative pixels stay negative: {now}{was}."
        )
    else:
        text = f"{now} are negative{was}."
    return text


def verdict_row_text(row: dict) -> str:
    """One line for a verdict-table row: where it differs and by how much."""
    parts = [f"_{row['product']} {row['extname']}".strip() if row["product"] else ""]
    if row["n_imsets"]:
        parts.append(f"{row['verdict']} in {row['n_imsets_failing']} of {row['n_imsets']} imsets")
    else:
        parts.append(row["verdict"])
    if row["n_differ"]:
        parts.append(f"{row['n_differ']:,} pixels")
    if row["max_abs_diff"]:
        parts.append(f"max |Δ| {row['max_abs_diff']:.6g}")
    if row["worst_x"] is not None:
        parts.append(
            f"worst at [{int(row['worst_x'])}, {int(row['worst_y'])}] imset "
            f"{int(row['worst_imset'] or 1)}"
        )
    if row["dq_bits"]:
        parts.append(f"DQ bits {row['dq_bits']}")
    if row["detail"]:
        parts.append(row["detail"])
    return "; ".join(p for p in parts if p)
