"""Find the things stischeck depends on at run time: cs0.e, the corpus, library versions."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CalstisInfo", "find_calstis", "calstis_version", "find_corpus", "library_versions"]


@dataclass(frozen=True)
class CalstisInfo:
    """Where cs0.e is and what version it reports."""

    path: Path | None
    source: str  # "--calstis", "STISCHECK_CALSTIS", "PATH" or "not found"
    version: str | None


def find_calstis(explicit: str | os.PathLike | None = None) -> tuple[Path | None, str]:
    """
    Locate ``cs0.e``: an explicit path, then ``$STISCHECK_CALSTIS``, then PATH.

    Returns
    -------
    tuple
        ``(path or None, where it came from)``. A given path that is not an
        executable file yields None with the reason in the second element.
    """
    for value, source in (
        (explicit, "--calstis"),
        (os.environ.get("STISCHECK_CALSTIS"), "STISCHECK_CALSTIS"),
    ):
        if value:
            path = Path(value)
            if path.is_file() and os.access(path, os.X_OK):
                return path, source
            return None, f"{source}={value} is not an executable file"
    found = shutil.which("cs0.e")
    if found:
        return Path(found), "PATH"
    return None, "not found (PATH, STISCHECK_CALSTIS)"


def calstis_version(path: Path, timeout_s: float = 2.0) -> str | None:
    """
    Return the version string cs0.e prints for ``--version`` (None if it prints none).

    One probe, at most ``timeout_s`` seconds: a cs0.e that hangs costs that
    much once, and its process group is killed and reaped, so the probe leaves
    nothing running.
    """
    from stischeck.runners.process import run_brief

    code, text = run_brief([str(path), "--version"], timeout_s=timeout_s)
    text = text.strip()
    if code == 0 and text:
        return text.splitlines()[0].strip()
    return None


def find_corpus() -> Path | None:
    """The calstis truth corpus: ``$STISCHECK_CORPUS`` or ``../shared/calstis-corpus``.

    The relative location is tried from the current directory and from the
    project root (the folder above this package).
    """
    env = os.environ.get("STISCHECK_CORPUS")
    if env:
        path = Path(env)
        return path if (path / "index.json").is_file() else None
    here = Path(__file__).resolve().parent.parent
    for base in (Path.cwd(), here):
        path = base.parent / "shared" / "calstis-corpus"
        if (path / "index.json").is_file():
            return path.resolve()
    return None


def library_versions() -> dict[str, str]:
    """Versions of the libraries stischeck uses, without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("stischeck", "stistools", "astropy", "numpy", "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
