"""What the benchmarks share: switch setting, one in-process reference run, tables.

Each ``bench_*.py`` is run as a script (``python benchmarks/bench_x.py``), so
this folder is first on ``sys.path`` and ``from common import ...`` finds this
module.
"""

import gzip
import os
import shutil
import statistics
import time
from pathlib import Path

from stischeck.vocabulary import CALIBRATION_SWITCHES


def set_switches(header, perform: tuple[str, ...]) -> None:
    """Set ``perform`` to PERFORM and every other calibration switch to OMIT, in place."""
    for switch in CALIBRATION_SWITCHES:
        header[switch] = "PERFORM" if switch in perform else "OMIT"


def reference_once(raw: Path, oref: Path, outdir: Path) -> tuple[float, float]:
    """One in-process reference run, as ``stischeck reference`` does it; (wall, CPU) seconds."""
    from reference_impl.io.products import product_path, write_product
    from reference_impl.io.rawfile import read_raw
    from reference_impl.pipeline import calibrate

    t0, c0 = time.perf_counter(), time.process_time()
    exposure = read_raw(raw)
    result = calibrate(exposure, oref_dir=oref, consume_input=True)
    for product in result.products:
        write_product(
            product, exposure.primary_header, product_path(raw, f"{outdir}/", product.suffix)
        )
    return time.perf_counter() - t0, time.process_time() - c0


def plain_oref(oref: Path, dest: Path) -> Path:
    """Copy ``oref/`` as a CRDS cache holds it: every ``.fits.gz`` gunzipped to ``.fits``."""
    dest.mkdir(parents=True)
    for path in sorted(oref.iterdir()):
        if path.name.endswith(".fits.gz"):
            with gzip.open(path, "rb") as src, (dest / path.name[:-3]).open("wb") as out:
                shutil.copyfileobj(src, out, length=1 << 20)
        elif path.is_file():
            shutil.copy2(path, dest / path.name)
    return dest


def load() -> str:
    """The machine's load averages, for the record beside a timing."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def stats(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    """Print a plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for r in (header, *rows):
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        print("  ".join(cells))


def program_env(env: dict) -> dict:
    """``env`` with what the ``stischeck`` program sets for itself (`stischeck.cli.PROGRAM_ENV`).

    For a child that times the reference in-process as the program runs it;
    a value already in ``env`` wins, as in the program.
    """
    from stischeck.cli import PROGRAM_ENV

    return {**PROGRAM_ENV, **env}


def user_env(**extra) -> dict:
    """The environment of a timed child process, as on a user's machine, plus ``extra``.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: with it every Python process compiles
    every module it imports again (about 80 ms for ``stischeck reference``), which
    an installed package (pip writes the ``.pyc`` files) never does. Each benchmark
    warms up once first, so the cache is written before anything is timed.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env
