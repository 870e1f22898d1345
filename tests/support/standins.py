"""Stand-ins the compare, batch and report tests share.

`fake_calstis` writes a script that plays cs0.e; `off_by_one_bias` makes the
reference wrong in one known step; `checksums` fingerprints the user's files
so that a test can show they were left as they were.
"""

import hashlib
import stat
import sys
from pathlib import Path

import numpy as np


def fake_calstis(tmp_path: Path, body: str) -> Path:
    """
    A stand-in cs0.e: an executable Python script ``tmp_path/fake/cs0.e``.

    It runs ``body`` with ``os``, ``sys``, ``signal`` and ``time`` imported;
    ``sys.argv`` is (raw file, output root) as compare calls cs0.e, and the
    ``oref`` environment variable is set.
    """
    path = tmp_path / "fake" / "cs0.e"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\nimport os, sys, signal, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def off_by_one_bias(monkeypatch) -> None:
    """Make the reference's BIASCORR subtract one DN too much (in this process only)."""
    import reference_impl.pipeline as pipeline
    from reference_impl.imset import Imset

    real = pipeline.subtract_bias

    def wrong(science, bias, **kw):
        out = real(science, bias, **kw)
        return Imset(out.sci - np.float32(1.0), out.err, out.dq)

    monkeypatch.setattr(pipeline, "subtract_bias", wrong)


def checksums(*files_or_folders: Path) -> dict:
    """``{path: sha256}`` of each file given and of every file below each folder given."""
    out = {}
    for item in files_or_folders:
        paths = [item] if item.is_file() else sorted(p for p in item.rglob("*") if p.is_file())
        for p in paths:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
