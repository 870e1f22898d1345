"""Output folders stischeck owns: it deletes only what it wrote, and says when a run is incomplete.

A folder becomes stischeck's when a command claims it: it must be new, empty,
or already carry the marker ``.stischeck-outdir.json`` of an earlier run.
The marker is a manifest: which command made the folder, the run's
``status`` (``running`` while it runs, then ``complete``, ``interrupted`` or
``failed``), and every file the run wrote, relative to the folder. A second
run deletes exactly those files (and, after a run that never finished, what it
left under ``runs/``), never a file it did not write: a raw file, an ``oref``
folder or the user's own results kept there stay. A non-empty folder without
the marker is refused, named.
"""

import json
import os
import time
from pathlib import Path

from stischeck.errors import UsageError

__all__ = ["MARKER", "claim_outdir", "finish_outdir", "outdir_status", "OWNED_DIRS"]

MARKER = ".stischeck-outdir.json"
#: Folders a run creates: what an unfinished run left in them is its own.
OWNED_DIRS = ("runs",)


def _read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("made_by") else None


def outdir_status(folder) -> str | None:
    """The status the marker of ``folder`` records (None: no marker)."""
    marker = _read_marker(Path(folder))
    return None if marker is None else str(marker.get("status", ""))


def _all_files(folder: Path) -> set:
    """Every file under ``folder`` (symbolic links not followed), relative, as strings."""
    out = set()
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            out.add(str(rel / name) if str(rel) != "." else name)
    out.discard(MARKER)
    return out


def _write_marker(folder: Path, data: dict) -> None:
    from stischeck.atomic import write_text

    write_text(folder / MARKER, json.dumps(data, indent=1, sort_keys=True) + "\n", what="marker")


def claim_outdir(folder, command: str = "compare") -> Path:
    """
    Make ``folder`` this run's output folder, deleting only what an earlier stischeck run wrote.

    Parameters
    ----------
    folder : str or Path
        The ``--outdir``.
    command : str
        Recorded in the marker (``"compare"``, ``"batch"``).

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        ``folder`` is a file, or a non-empty folder stischeck did not make.
    """
    from stischeck import __version__
    from stischeck.atomic import OutputError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: --outdir exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{folder}: cannot make the output folder: {err.strerror}") from err
    marker = _read_marker(folder)
    present = _all_files(folder)
    if marker is None and present:
        raise UsageError(
            f"{folder}: --outdir is not empty and was not made by stischeck "
            f"(it holds {len(present)} file(s), e.g. {sorted(present)[0]}); "
            "give a new or empty folder"
        )
    foreign = set()
    if marker is not None:
        ours = {str(p) for p in marker.get("files", [])}
        earlier_foreign = {str(p) for p in marker.get("foreign", [])}
        if marker.get("status") != "complete":
            # An unfinished run wrote into its own folders without listing the files.
            ours |= {
                p
                for p in present - earlier_foreign
                if p.split(os.sep, 1)[0] in OWNED_DIRS or p.startswith(".")
            }
        for rel in sorted(ours & present):
            path = folder / rel
            if path.is_symlink() or path.is_file():
                path.unlink()
        _remove_empty_dirs(folder, ours)
        foreign = _all_files(folder)
    _write_marker(
        folder,
        dict(
            made_by=f"stischeck {command}",
            version=__version__,
            status="running",
            pid=os.getpid(),
            started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            files=[],
            foreign=sorted(foreign),
        ),
    )
    return folder


def _remove_empty_dirs(folder: Path, removed: set) -> None:
    """Remove the folders that held removed files and are empty now (deepest first)."""
    dirs = set()
    for rel in removed:
        parent = Path(rel).parent
        while str(parent) not in ("", "."):
            dirs.add(parent)
            parent = parent.parent
    for rel in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        try:
            (folder / rel).rmdir()
        except OSError:
            pass  # not empty (a file the user keeps there) or already gone


def finish_outdir(folder, status: str) -> None:
    """
    Record ``status`` and every file the run wrote in the marker of ``folder``.

    A folder without a marker (not claimed) is left alone.
    """
    folder = Path(folder)
    marker = _read_marker(folder)
    if marker is None:
        return
    foreign = set(marker.get("foreign", []))
    files = sorted(p for p in _all_files(folder) - foreign if ".partial-" not in p)
    marker.update(status=status, files=files, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    _write_marker(folder, marker)
