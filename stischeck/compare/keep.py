"""
What a finished compare keeps on disk (``compare --keep``).

A full-frame ladder writes every rung's staged raw copy and both sides'
products (about 218 MB). A reviewer needs the tables, the report, the
trailers and the products of the configurations where the sides differ or a
run failed; with ``--keep differing`` (the default) everything else under
``runs/`` is removed once the tables and the report are written, and each
configuration thinned that way gets a ``NOT-KEPT.txt`` saying so (the report
names it when it is rendered again from the folder). ``--keep all`` removes
nothing.

Only files under ``OUTDIR/runs/`` that the compare itself wrote are touched:
the staged ``input/`` copies and the ``.fits`` products beside the trailers.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

__all__ = ["KEEP_CHOICES", "NOT_KEPT", "configurations_to_keep", "prune_agreeing_runs"]

#: ``--keep`` values: ``differing`` (the default) and ``all``.
KEEP_CHOICES = ("differing", "all")

#: Name of the note left in a configuration's run folder whose products were removed.
NOT_KEPT = "NOT-KEPT.txt"

#: Verdicts under which both sides agree (nothing to look at in the products).
_AGREEING = {"identical", "agree", "empty"}


def configurations_to_keep(outdir: Path) -> set[str]:
    """
    Names of the configurations whose run folders are kept whole.

    Parameters
    ----------
    outdir : pathlib.Path
        A compare's output folder holding ``verdicts.csv`` and ``runs.csv``.

    Returns
    -------
    set of str
        Every configuration with a verdict other than identical/agree/empty, or
        a run whose status is not ``ok``. When either table cannot be read,
        every configuration found under ``runs/`` (nothing is removed on doubt).
    """
    runs_dir = outdir / "runs"
    everything = {p.name for p in runs_dir.iterdir() if p.is_dir()} if runs_dir.is_dir() else set()
    try:
        verdicts = _rows(outdir / "verdicts.csv")
        runs = _rows(outdir / "runs.csv")
    except (OSError, csv.Error, KeyError):
        return everything
    keep = {r["configuration"] for r in verdicts if r.get("verdict") not in _AGREEING}
    keep |= {r["configuration"] for r in runs if r.get("status") != "ok"}
    judged = {r["configuration"] for r in verdicts}
    # A run folder no verdict speaks of (a step-local run, a parity run) is kept.
    return keep | (everything - judged)


def prune_agreeing_runs(outdir: Path, keep: str = "differing") -> int:
    """
    Remove the staged inputs and products of configurations where the sides agree.

    Parameters
    ----------
    outdir : pathlib.Path
        A finished compare's output folder (tables written, report rendered).
    keep : {"differing", "all"}
        ``all`` removes nothing.

    Returns
    -------
    int
        Bytes removed.
    """
    if keep == "all":
        return 0
    runs_dir = outdir / "runs"
    if not runs_dir.is_dir():
        return 0
    kept = configurations_to_keep(outdir)
    removed = 0
    for config_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        if config_dir.name in kept:
            continue
        removed += _thin(config_dir)
    return removed


def _thin(config_dir: Path) -> int:
    """Remove ``input/`` and every ``.fits`` file of one configuration; leave the note."""
    removed = 0
    staged = config_dir / "input"
    if staged.is_dir():
        removed += _size(staged)
        shutil.rmtree(staged)
    for product in sorted(config_dir.rglob("*.fits")):
        removed += product.stat().st_size
        product.unlink()
    (config_dir / NOT_KEPT).write_text(
        "The sides agreed on this configuration, so its staged raw copy and products were "
        "removed after the tables and the report were written (compare --keep differing); "
        "rerun the compare with --keep all to keep them.\n"
    )
    return removed


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))
