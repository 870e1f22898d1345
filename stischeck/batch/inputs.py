"""Turn ``stischeck batch INPUTS...`` into data sets: raw file, reference folder, truth, name.

An input is a raw file (``*_raw.fits`` or ``*_raw.fits.gz``), a directory searched
recursively for raw files, or a CSV manifest (``.csv``) with columns ``raw``,
``oref``, ``truth`` and ``dataset`` (only ``raw`` is required; relative paths
are relative to the CSV file). Every problem with the inputs themselves is an
`InputFileError` raised before anything runs; problems inside a data set (a
truncated raw file, a missing reference file) are found when it runs and
reported in its row.
"""

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

from stischeck.errors import InputFileError

__all__ = ["Dataset", "resolve_inputs", "is_truth_folder"]

#: Step folders of a corpus-like truth folder (``<STEP>/<rootname>_flt.fits[.gz]``).
_TRUTH_STEPS = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")
_CSV_COLUMNS = ("raw", "oref", "truth", "dataset")


@dataclass(frozen=True)
class Dataset:
    """One data set of a batch.

    Attributes
    ----------
    name : str
        Folder name of its compare output (``OUTDIR/<name>/``); unique in the batch.
    raw : Path
        The raw file (absolute; never modified).
    oref : Path
        Folder holding its ``oref$`` reference files (absolute).
    truth : Path or None
        Stored products laid out like the corpus (``<STEP>/...``), if any.
    source : str
        The input (file, folder or ``manifest.csv:LINE``) it came from, for messages.
    """

    name: str
    raw: Path
    oref: Path
    truth: Path | None
    source: str


def is_truth_folder(folder: Path) -> bool:
    """True when ``folder`` is laid out like the corpus (a manifest.json and step folders)."""
    return (folder / "manifest.json").is_file() and any(
        (folder / step).is_dir() for step in _TRUTH_STEPS
    )


def _rootname(raw: Path) -> str:
    return raw.name.split("_raw.fits")[0].lower()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "dataset"


def _is_raw_name(path: Path) -> bool:
    return path.name.endswith(("_raw.fits", "_raw.fits.gz"))


def _is_compare_output(folder: Path) -> bool:
    return (folder / "summary.json").is_file() and (folder / "runs").is_dir()


def _search(folder: Path, skip: Path | None) -> list[Path]:
    """Raw files under ``folder``, following links to folders (each visited once).

    Leaves out compare output folders (their ``runs/`` hold raw-file copies)
    and ``skip`` (the batch's own output folder).
    """
    found, seen = [], set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        here = Path(root)
        st = here.stat()
        if (st.st_dev, st.st_ino) in seen or _is_compare_output(here):
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        if skip is not None and here.resolve() == skip:
            dirs[:] = []
            continue
        dirs.sort()
        found += [here / name for name in files if _is_raw_name(Path(name))]
    return sorted(found)


def _oref_for(raw: Path, given: Path | None, where: str) -> Path:
    """The reference folder of one data set, by the rule of every command (`find_reference_folder`).

    ``given``: the CSV ``oref`` column or ``--oref``; then ``$oref``, the
    ``oref/`` beside the raw file, a CRDS cache.
    """
    from stischeck.inputs import find_reference_folder

    folder = find_reference_folder(raw, None, given, option=f"reference folder ({where})")
    if folder.path is None:
        raise InputFileError(
            f"{raw}: no oref/ folder beside it (and no --oref, $oref or $CRDS_PATH); give "
            "--oref DIR (or an oref column in a CSV manifest)"
        )
    return folder.path


def _truth_for(raw: Path, use_truth: bool) -> Path | None:
    if use_truth and is_truth_folder(raw.parent):
        return raw.parent.resolve()
    return None


def _read_manifest(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) of a CSV manifest; a header row names the columns, else positional."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot read the CSV manifest ({err})") from err
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InputFileError(f"{path}: the CSV manifest lists no data set")
    rows = list(csv.reader([line for _, line in lines]))
    first = [c.strip().lower() for c in rows[0]]
    if "raw" in first:
        unknown = [c for c in first if c and c not in _CSV_COLUMNS]
        if unknown:
            raise InputFileError(
                f"{path}: unknown column(s) {', '.join(unknown)} (columns: raw, oref, truth, "
                "dataset)"
            )
        columns, body = first, list(zip([n for n, _ in lines[1:]], rows[1:], strict=True))
    else:
        columns, body = list(_CSV_COLUMNS[:3]), list(zip([n for n, _ in lines], rows, strict=True))
    out = []
    for n, cells in body:
        if len(cells) > len(columns):
            raise InputFileError(f"{path}:{n}: {len(cells)} cells, expected at most {len(columns)}")
        row = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(columns)}
        if not row.get("raw"):
            raise InputFileError(f"{path}:{n}: no raw file given")
        out.append((n, row))
    if not out:
        raise InputFileError(f"{path}: the CSV manifest lists no data set")
    return out


def _from_manifest(path: Path, oref: Path | None, use_truth: bool) -> list[tuple]:
    base = path.parent
    found = []
    for n, row in _read_manifest(path):
        where = f"{path}:{n}"
        raw = base / row["raw"]
        if not raw.is_file():
            raise InputFileError(f"{raw}: raw file not found ({where})")
        ds_oref = _oref_for(raw, base / row["oref"] if row.get("oref") else oref, where)
        if row.get("truth"):
            truth = base / row["truth"]
            if not truth.is_dir():
                raise InputFileError(f"{truth}: truth folder is not a directory ({where})")
            truth = truth.resolve()
        else:
            truth = _truth_for(raw, use_truth)
        found.append((row.get("dataset") or None, raw.resolve(), ds_oref, truth, where))
    return found


def resolve_inputs(
    inputs: list,
    *,
    oref: Path | None = None,
    use_truth: bool = True,
    skip: Path | None = None,
) -> list[Dataset]:
    """
    Expand raw files, folders and CSV manifests into uniquely named data sets.

    Parameters
    ----------
    inputs : list of path-like
        What the command line gave.
    oref : Path, optional
        Reference folder for every data set without an ``oref/`` beside it or an
        ``oref`` column (``--oref``).
    use_truth : bool
        Take a raw file's own folder as truth when it is laid out like the corpus.
    skip : Path, optional
        A folder whose raw files are never inputs (the batch's output folder).

    Returns
    -------
    list of Dataset
        In input order. Names: the ``dataset`` column of a CSV; for a raw file
        found in a folder input, the name of the folder it lies in when that
        folder holds no other raw file (a corpus case); else the rootname. Made
        unique with ``-2``, ``-3`` ... suffixes.

    Raises
    ------
    InputFileError
        An input is missing, is not a raw file, folder or CSV, a folder holds no
        raw file, a CSV row is malformed, or a raw file has no reference folder.
    """
    if not inputs:
        raise InputFileError("no input given: raw files, folders or a CSV manifest")
    skip = skip.resolve() if skip is not None else None
    found = []  # (name or None, raw, oref, truth, source)
    for item in map(Path, inputs):
        if not item.exists():
            raise InputFileError(f"{item}: input not found")
        if item.is_dir():
            raws = _search(item, skip)
            if not raws:
                raise InputFileError(f"{item}: no *_raw.fits or *_raw.fits.gz file in this folder")
            per_folder: dict = {}
            for raw in raws:
                per_folder.setdefault(raw.parent, []).append(raw)
            for raw in raws:
                # A folder holding one raw file (a corpus case) names it; else the rootname.
                name = raw.parent.resolve().name if len(per_folder[raw.parent]) == 1 else None
                found.append(
                    (
                        name,
                        raw.resolve(),
                        _oref_for(raw, oref, str(item)),
                        _truth_for(raw, use_truth),
                        str(item),
                    )
                )
        elif item.suffix.lower() == ".csv":
            found += _from_manifest(item, oref, use_truth)
        elif _is_raw_name(item):
            found.append(
                (
                    None,
                    item.resolve(),
                    _oref_for(item, oref, str(item)),
                    _truth_for(item, use_truth),
                    str(item),
                )
            )
        else:
            raise InputFileError(
                f"{item}: not a raw file (*_raw.fits[.gz]), a folder or a CSV manifest (.csv)"
            )
    datasets, used = [], set()
    seen_raw: dict = {}
    for name, raw, ds_oref, truth, source in found:
        if raw in seen_raw:
            raise InputFileError(f"{raw}: given twice ({seen_raw[raw]} and {source})")
        seen_raw[raw] = source
        base = _safe(name or _rootname(raw))
        unique, k = base, 1
        while unique.lower() in used:
            k += 1
            unique = f"{base}-{k}"
        used.add(unique.lower())
        datasets.append(Dataset(unique, raw, ds_oref, truth, source))
    return datasets
