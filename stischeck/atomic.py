"""Write files so that nothing half-written ever sits under its final name.

Every output stischeck writes goes to a temporary name beside its final one
(``.<name>.partial-<pid>``) and is renamed into place only when complete
(``os.replace`` is atomic within one file system). A full disk, an
interrupt or a kill leaves at most a ``.partial`` file, never a truncated
table, CSV or product that looks finished; the error names the file that
could not be written.
"""

import contextlib
import os
from pathlib import Path

from stischeck.errors import StischeckError

__all__ = ["OutputError", "atomic_path", "write_text", "write_bytes", "partial_name"]


class OutputError(StischeckError):
    """An output file could not be written (full disk, no permission, missing folder)."""


def partial_name(path: Path) -> Path:
    """The temporary name ``path`` is written under before it is renamed into place."""
    path = Path(path)
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


@contextlib.contextmanager
def atomic_path(path, *, what: str = "output file"):
    """
    Yield a temporary path to write; rename it to ``path`` when the block ends cleanly.

    Parameters
    ----------
    path : str or Path
        The final name.
    what : str
        Words for the error message (``"CSV"``, ``"summary"``).

    Raises
    ------
    OutputError
        The folder does not exist or the file cannot be written (the message
        names ``path`` and the reason, e.g. "No space left on device"); the
        temporary file is removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: cannot write the {what}: folder {path.parent} does not exist")
    tmp = partial_name(path)
    try:
        yield tmp
        Path(tmp).replace(path)
    except OSError as err:
        _remove(tmp)
        raise OutputError(f"{path}: cannot write the {what}: {err.strerror or err}") from err
    except BaseException:
        _remove(tmp)
        raise


def write_bytes(path, data: bytes, *, what: str = "output file") -> Path:
    """Write ``data`` to ``path`` atomically (see `atomic_path`); return ``path``."""
    with atomic_path(path, what=what) as tmp:
        with Path(tmp).open("wb") as fh:
            fh.write(data)
    return Path(path)


def write_text(path, text: str, *, what: str = "output file", encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see `atomic_path`); return ``path``."""
    return write_bytes(path, text.encode(encoding), what=what)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        Path(path).unlink()
