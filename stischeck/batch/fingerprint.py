"""What a data set's result depends on, and the record that says its folder is complete.

Each data set folder gets a ``batch.json`` written last: the *key* (SHA-256 of
the raw file, of every reference file its header names, of the truth
products, of cs0.e, of the policy and of the code that computes the result,
plus the options) and the outcome. A rerun skips a data set whose record says
``done``, whose key is unchanged and whose compare outputs are all there.
"""

import hashlib
import json
import os
from pathlib import Path

from stischeck.vocabulary import REFERENCE_KEYWORDS

__all__ = [
    "RECORD_NAME",
    "REQUIRED_OUTPUTS",
    "FileHasher",
    "dataset_key",
    "code_digest",
    "read_record",
    "write_record",
    "is_complete",
]

RECORD_NAME = "batch.json"
#: Files a finished compare leaves in its folder (report.html is optional).
REQUIRED_OUTPUTS = (
    "verdicts.csv",
    "statistics.csv",
    "runs.csv",
    "configurations.csv",
    "summary.json",
    "provenance.json",
    "summary.txt",
)


class FileHasher:
    """SHA-256 of files, remembered so that shared and unchanged files are read once.

    Parameters
    ----------
    cache : Path, optional
        A JSON file of earlier digests (the batch folder's ``.batch-hashes.json``),
        keyed by path and by (device, inode, size, mtime, ctime). ctime changes
        with any write or ``touch``, and no program can set it back, so an entry
        whose stat still matches is the same content.
    """

    def __init__(self, cache: Path | None = None):
        self.cache_path = Path(cache) if cache is not None else None
        self._cache: dict = {}
        if self.cache_path is not None:
            try:
                self._cache = json.loads(self.cache_path.read_text())
            except (OSError, ValueError):
                self._cache = {}

    def __call__(self, path: Path) -> str:
        """Hex SHA-256 of ``path``'s bytes."""
        path = Path(path).resolve()
        st = path.stat()
        stamp = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        entry = self._cache.get(str(path))
        if entry is None or entry[0] != stamp:
            h = hashlib.sha256()
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            entry = self._cache[str(path)] = [stamp, h.hexdigest()]
        return entry[1]

    def save(self) -> None:
        """Write the digests back to the cache file (atomically)."""
        if self.cache_path is None:
            return
        tmp = self.cache_path.with_name(f"{self.cache_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._cache))
        tmp.replace(self.cache_path)


def _reference_files(raw: Path, oref: Path | None, hasher: FileHasher) -> dict:
    """Keyword -> {name, sha256} (or the reason it could not be found) for the raw header's refs.

    Found by the harness's own rule (`stischeck.inputs`), never the reference's
    reader: the key must not share a bug with what it keys.
    """
    from stischeck.errors import StischeckError
    from stischeck.fits.cards import read_primary_cards
    from stischeck.inputs import find_reference, find_reference_folder

    try:
        header = read_primary_cards(Path(raw), error_cls=StischeckError, what="raw file")
        folder = find_reference_folder(Path(raw), header, oref).path
    except StischeckError as err:  # an unreadable raw file fails when it runs
        return {"header": f"unreadable ({' '.join(str(err).split())[:120]})"}
    refs = {}
    for key in REFERENCE_KEYWORDS:
        name = str(header.get(key, "")).strip()
        if not name or name.upper() == "N/A":
            continue
        path = find_reference(name, folder)
        # A missing file is part of the key, and fails later.
        refs[key] = {"name": name, "sha256": None if path is None else hasher(path)}
    return refs


def _tree_digest(folder: Path, hasher: FileHasher) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(f"{path.relative_to(folder)}\0{hasher(path)}\n".encode())
    return h.hexdigest()


def code_digest() -> str:
    """SHA-256 over the sources that compute a comparison (reference, runners, diff, compare)."""
    import reference_impl
    import stischeck

    roots = (
        Path(reference_impl.__file__).parent,
        Path(stischeck.__file__).parent / "compare",
        Path(stischeck.__file__).parent / "diff",
        Path(stischeck.__file__).parent / "runners",
    )
    h = hashlib.sha256()
    files = [Path(stischeck.__file__).parent / "config.py"]
    for root in roots:
        files += [p for p in root.rglob("*") if p.suffix in (".py", ".toml")]
    base = Path(stischeck.__file__).parent.parent
    for path in sorted(files):
        h.update(f"{os.path.relpath(path, base)}\0".encode() + path.read_bytes())
    return h.hexdigest()


def dataset_key(dataset, options: dict, *, hasher: FileHasher, code: str) -> dict:
    """
    Everything the data set's result depends on, as a JSON-ready dict.

    Parameters
    ----------
    dataset : Dataset
    options : dict
        The result-relevant options (configurations, policy, timeout, calstis ...).
    hasher : FileHasher
    code : str
        `code_digest` of this installation.
    """
    key = {
        "raw": {"path": str(dataset.raw), "sha256": hasher(dataset.raw)},
        "oref": str(dataset.oref),
        "reference_files": _reference_files(dataset.raw, dataset.oref, hasher),
        "truth": None
        if dataset.truth is None
        else {"path": str(dataset.truth), "sha256": _tree_digest(dataset.truth, hasher)},
        "options": options,
        "code": code,
    }
    key["digest"] = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return key


def read_record(folder: Path) -> dict | None:
    """The folder's ``batch.json``, or None when absent or unreadable."""
    try:
        return json.loads((Path(folder) / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return None


def write_record(folder: Path, record: dict) -> None:
    """Write ``batch.json`` atomically (a half-written record never reads as complete)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{RECORD_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
    tmp.replace(folder / RECORD_NAME)


def is_complete(folder: Path, key: dict, *, need_report: bool = False) -> bool:
    """True when the folder's record is ``done`` for this key and every output file exists.

    ``need_report``: report.html must exist too (unless writing it failed last time:
    the record says why, and rerunning would fail again).
    """
    record = read_record(folder)
    if not record or record.get("status") != "done":
        return False
    if record.get("key", {}).get("digest") != key["digest"]:
        return False
    need_report = need_report and not record.get("report_error")
    names = REQUIRED_OUTPUTS + (("report.html",) if need_report else ())
    return all((Path(folder) / name).is_file() for name in names)
