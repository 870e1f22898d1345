"""Run the real ``cs0.e`` on a copy of a raw file, with a timeout, and read its real status.

The user's files are never touched: the raw file is copied into a fresh work
directory and cs0.e writes its products there. A crash, a timeout, a non-zero
exit, or a run that wrote no product is a `CalstisError`, never an empty result.

cs0.e is started directly rather than through ``stistools.calstis.calstis``:
that wrapper (stistools 1.4) runs ``cs0.e`` found on PATH through
``subprocess.call`` with no timeout, no process group to kill, no resource
usage and no choice of executable, and importing stistools costs about 1.6 s
and 180 MiB. The command line is the one it builds (``cs0.e RAW OUTROOT``,
spec §1.1), with ``oref`` set in the environment as calstis expects.
"""

import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from stischeck.errors import CalstisError
from stischeck.runners.outcome import RunOutcome
from stischeck.vocabulary import DEFAULT_TIMEOUT_S

__all__ = ["CalstisRun", "run_calstis", "execute_calstis"]


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
    timeout_s: float = DEFAULT_TIMEOUT_S,
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
    workdir.mkdir(parents=True, exist_ok=True)
    name = raw.name[:-3] if raw.name.endswith(".gz") else raw.name
    local = workdir / name
    if raw.name.endswith(".gz"):
        with gzip.open(raw) as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copyfile(raw, local)
    outcome = execute_calstis(
        cs0, local, oref, workdir, timeout_s=timeout_s, expects_products=expect_products or None
    )
    if not outcome.ok:
        raise CalstisError(outcome.message)
    trailer = outcome.trailer.read_text(errors="replace") if outcome.trailer else ""
    return CalstisRun(outcome.products, trailer, outcome.returncode, outcome.wall_s, workdir)


def execute_calstis(
    cs0: Path,
    raw_copy: Path,
    oref: Path | None,
    workdir: Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    expects_products: bool | None = True,
    performed: tuple = (),
) -> RunOutcome:
    """
    Run ``cs0.e <raw_copy> out/`` in ``workdir`` and read its status.

    ``raw_copy`` may lie outside ``workdir`` (both sides of a comparison read
    one staged copy); cs0.e only reads it, and names its products after its
    file name. ``oref`` None leaves the ``oref`` environment variable as it
    is. ``expects_products``: True (a product must appear), False (none may:
    the all-OMIT configuration) or None (either is fine).

    Never raises for a failure of cs0.e: a timeout, a signal, a non-zero exit,
    no product when one is expected, an unreadable product, or a product whose
    header shows a performed step still PERFORM is an ``"error"`` outcome with
    a one-line message naming cs0.e, the file and the problem.
    """
    from stischeck.runners.outcome import outcome_of_products
    from stischeck.runners.process import run_measured

    workdir = Path(workdir)
    (workdir / "out").mkdir(parents=True, exist_ok=True)
    name = raw_copy.name
    env = dict(os.environ)
    if oref is not None:
        env["oref"] = str(Path(oref).resolve()) + "/"
    trailer = workdir / "cs0.trl"
    source = os.path.relpath(Path(raw_copy).resolve(), workdir.resolve())
    run = run_measured(
        [str(cs0), source, "out/"], cwd=workdir, env=env, log=trailer, timeout_s=timeout_s
    )
    common = dict(side="calstis", wall_s=run.wall_s, peak_rss_mib=run.peak_rss_mib, trailer=trailer)
    if run.timed_out:
        return RunOutcome(
            status="error",
            message=f"{cs0.name} timed out after {timeout_s:g} s on {name} (process group killed)",
            **common,
        )
    if run.returncode < 0:
        sig = signal.Signals(-run.returncode).name
        return RunOutcome(
            status="error",
            message=f"{cs0.name} crashed on {name} (killed by {sig})",
            returncode=run.returncode,
            **common,
        )
    if run.returncode != 0:
        last = _last_error_line(trailer)
        return RunOutcome(
            status="error",
            message=f"{cs0.name} failed on {name} (exit status {run.returncode})"
            + (f": {last}" if last else ""),
            returncode=run.returncode,
            **common,
        )
    return outcome_of_products(
        workdir,
        name,
        performed,
        expects_products,
        what=cs0.name,
        no_product=f"{cs0.name} exited 0 on {name} but wrote no product",
        common=common,
    )


def _last_error_line(trailer: Path) -> str:
    """The last line of the trailer that reads like an error, shortened."""
    try:
        lines = trailer.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if "ERROR" in line.upper() or "Error" in line:
            return " ".join(line.split())[:200]
    return " ".join(lines[-1].split())[:200] if lines else ""
