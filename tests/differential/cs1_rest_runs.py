"""Compare a synthetic data set with ATODCORR, SHADCORR, PHOTCORR through both sides.

`compare_cs1_rest` writes the data set, runs the configurations that exercise
the rest of calstis1 (HEADER: the raw file's own switches, which ask for the
new steps; the PHOTCORR rung for imaging) through live cs0.e and the
in-process reference under the exact policy, and also compares the text of
the photometry and switch cards of the two sides' products (the policy
compares keyword values; calstis's card text is part of the acceptance).
"""

import shutil
from pathlib import Path

from astropy.io import fits

from stischeck.synth import SynthParams, write_dataset
from tests.differential.synthetic_runs import run_both_sides

#: Primary-header cards whose 80-character text must be equal on both sides.
CARD_KEYWORDS = (
    "PHOTMODE", "PHOTFLAM", "PHOTZPT", "PHOTPLAM", "PHOTBW",
    "PHOTCORR", "ATODCORR", "SHADCORR", "CRCORR", "FLATCORR",
)  # fmt: skip


def _value_text(card) -> str:
    """A card's keyword and value field (the comment aside: it is free text)."""
    image = card.image
    return image[:10] + image[10:].split(" / ", 1)[0].rstrip()


def card_differences(a: Path, b: Path) -> list:
    """(product, keyword, card a, card b) for each CARD_KEYWORDS card whose text differs."""
    out = []
    ha, hb = fits.getheader(a), fits.getheader(b)
    for key in CARD_KEYWORDS:
        ca = _value_text(ha.cards[key]) if key in ha else None
        cb = _value_text(hb.cards[key]) if key in hb else None
        if ca != cb:
            out.append((a.name, key, ca, cb))
    return out


def compare_cs1_rest(params: SynthParams, calstis: Path, workdir: Path, *, keep: bool = False):
    """
    Run both sides on ``params``'s data set.

    Returns
    -------
    tuple of (list, list, dict)
        Rows of the reference-vs-calstis comparison that are not identical,
        card-text differences, and configuration -> calstis's header switches
        of its first product (for the coverage assertions).
    """
    if workdir.exists():
        shutil.rmtree(workdir)
    paths = write_dataset(params, workdir / "data")
    steps = ["HEADER"] + (["PHOTCORR"] if params.obstype == "IMAGING" and params.photcorr else [])
    run = run_both_sides(paths, calstis, workdir, steps)
    bad = [
        r
        for r in run.rows
        if r["comparison"] == "reference-vs-calstis" and r["verdict"] not in ("identical", "empty")
    ]
    cards, switches = [], {}
    for (config, side), outcome in run.runs.items():
        if side != "calstis":
            continue
        switches[config] = outcome.header_switches
        ref = run.runs.get((config, "reference"))
        for suffix, path in outcome.products.items():
            other = ref.products.get(suffix) if ref is not None else None
            if other is None:
                cards.append((suffix, "<product>", str(path), None))
                continue
            cards += card_differences(Path(other), Path(path))
    if not bad and not cards and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return bad, cards, switches
