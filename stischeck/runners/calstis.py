"""Run the real ``cs0.e`` on a copy of a raw file, with a timeout, and read its real status.

The user's files are never touched: the raw file is copied into a fresh work
directory and cs0.e writes its products there. A crash, a timeout, a non-zero
exit, or a run that wrote no product is a `CalstisError`, never an empty result.
"""

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from stischeck.errors import CalstisError

__all__ = ["CalstisRun", "run_calstis"]


@dataclass(frozen=True)
class CalstisRun:
    """What one cs0.e run did.

    Attributes
    ----------
    products : dict
        Suffix (``"flt"``, ``"crj"``) -> product path, for the products that exist.
    trailer : str
        cs0.e's standard output and error.
    returncode : int
        Exit status (0 on success).
    wall_s : float
        Wall time of the run, seconds.
    workdir : Path
        Where the copy of the raw file and the products are.
    """

    products: dict
    trailer: str
    returncode: int
    wall_s: float
    workdir: Path


def run_calstis(
    cs0: Path,
    raw: Path,
    oref: Path,
    workdir: Path,
    *,
    timeout_s: float = 600.0,
    expect_products: bool = True,
) -> CalstisRun:
    """
    Run ``cs0.e RAW out/`` in ``workdir`` with ``oref`` set.

    Parameters
    ----------
    cs0 : Path
        The cs0.e executable.
    raw : Path
        Raw file (``.fits`` or ``.fits.gz``); copied (and decompressed) first.
    oref : Path
        Directory holding the ``oref$`` reference files.
    workdir : Path
        Empty or new directory for the copy and the products.
    timeout_s : float
        Kill the whole process group after this many seconds.
    expect_products : bool
        Treat a successful run that wrote no product as an error.

    Raises
    ------
    CalstisError
        cs0.e failed, crashed, hung, or wrote nothing when products were expected.
    """
    import gzip

    workdir = Path(workdir)
    (workdir / "out").mkdir(parents=True, exist_ok=True)
    name = raw.name[:-3] if raw.name.endswith(".gz") else raw.name
    local = workdir / name
    if raw.name.endswith(".gz"):
        with gzip.open(raw) as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copyfile(raw, local)
    env = dict(os.environ, oref=str(Path(oref).resolve()) + "/")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(cs0), name, "out/"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    try:
        trailer, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        (workdir / "cs0.trl").write_text("")
        raise CalstisError(
            f"cs0.e timed out after {timeout_s:g} s on {raw.name}; work dir kept at {workdir}"
        ) from None
    wall = time.perf_counter() - t0
    (workdir / "cs0.trl").write_text(trailer)
    if proc.returncode < 0:
        raise CalstisError(
            f"cs0.e crashed on {raw.name} (signal {signal.Signals(-proc.returncode).name}); "
            f"trailer kept at {workdir / 'cs0.trl'}"
        )
    if proc.returncode != 0:
        raise CalstisError(
            f"cs0.e failed on {raw.name} (exit status {proc.returncode}); "
            f"trailer kept at {workdir / 'cs0.trl'}"
        )
    stem = name[: -len("_raw.fits")] if name.endswith("_raw.fits") else Path(name).stem
    products = {sfx: workdir / "out" / f"{stem}_{sfx}.fits" for sfx in ("flt", "crj")}
    products = {k: v for k, v in products.items() if v.exists()}
    if expect_products and not products:
        raise CalstisError(
            f"cs0.e exited 0 on {raw.name} but wrote no product; trailer kept at "
            f"{workdir / 'cs0.trl'}"
        )
    return CalstisRun(products, trailer, proc.returncode, wall, workdir)
