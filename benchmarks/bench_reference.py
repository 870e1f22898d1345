"""Time the reference reduction against cs0.e, configuration by configuration.

Usage::

    python benchmarks/bench_reference.py RAW --oref DIR/ [--calstis cs0.e] [--repeat 5]

For each configuration (cumulative DQICORR, +BLEVCORR, +BIASCORR, then
BLEVCORR+BIASCORR+DARKCORR and +FLATCORR without CRCORR) the raw file is copied
with those switches, then each side runs as a separate process:

* ``cs0.e raw outdir/``
* ``stischeck reference raw --outroot outdir/`` (whole process, Python start-up included)
* the reference in this process (``calibrate`` + ``write_product``), which is the
  steps' own cost without interpreter and import start-up.

Wall time is the median of ``--repeat`` runs; peak RSS is the child's
``ru_maxrss`` from ``os.wait4``. Output: one table row per configuration and side.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWITCHES = (
    "DQICORR",
    "ATODCORR",
    "BLEVCORR",
    "BIASCORR",
    "CRCORR",
    "RPTCORR",
    "EXPSCORR",
    "DARKCORR",
    "FLATCORR",
    "SHADCORR",
    "PHOTCORR",
)
CONFIGS = {
    "upto_dqicorr": ("DQICORR",),
    "upto_blevcorr": ("DQICORR", "BLEVCORR"),
    "upto_biascorr": ("DQICORR", "BLEVCORR", "BIASCORR"),
    "no_crcorr_darkcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "DARKCORR"),
    "no_crcorr_flatcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "DARKCORR", "FLATCORR"),
}


def write_config(raw: Path, perform: tuple[str, ...], dest: Path) -> Path:
    from astropy.io import fits

    out = dest / (raw.name[:-3] if raw.name.endswith(".gz") else raw.name)
    with fits.open(raw) as hdul:
        for sw in SWITCHES:
            hdul[0].header[sw] = "PERFORM" if sw in perform else "OMIT"
        hdul.writeto(out, overwrite=True)
    return out


def run_child(cmd: list[str], env: dict) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024.0


def in_process(raw: Path, oref: Path, outdir: Path) -> float:
    from reference_impl.io.products import product_path, write_product
    from reference_impl.io.rawfile import read_raw
    from reference_impl.pipeline import calibrate

    t0 = time.perf_counter()
    exposure = read_raw(raw)
    result = calibrate(exposure, oref_dir=oref)
    for product in result.products:
        write_product(
            product, exposure.primary_header, product_path(raw, f"{outdir}/", product.suffix)
        )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path)
    ap.add_argument("--oref", type=Path, required=True)
    ap.add_argument("--calstis", default=shutil.which("cs0.e"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ, oref=str(args.oref.resolve()) + "/")
    stischeck = [sys.executable, "-m", "stischeck.cli", "reference"]
    print(
        f"{'configuration':22s} {'side':24s} {'wall_s(median)':>15s} {'min':>7s} "
        f"{'max':>7s} {'peak_rss_MiB':>13s}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, perform in CONFIGS.items():
            raw = write_config(args.raw, perform, tmp)
            sides = {}
            if args.calstis:
                sides["cs0.e"] = lambda out, raw=raw: [args.calstis, str(raw), f"{out}/"]
            sides["stischeck reference"] = lambda out, raw=raw: [
                *stischeck,
                str(raw),
                "--oref",
                str(args.oref),
                "--outroot",
                f"{out}/",
            ]
            for side, make in sides.items():
                walls, rss = [], []
                for k in range(args.repeat):
                    out = tmp / f"{name}-{side.split()[0]}-{k}"
                    out.mkdir()
                    wall, peak = run_child(make(out), env)
                    walls.append(wall)
                    rss.append(peak)
                print(
                    f"{name:22s} {side:24s} {statistics.median(walls):15.3f} "
                    f"{min(walls):7.3f} {max(walls):7.3f} {max(rss):13.1f}"
                )
            walls = []
            for k in range(args.repeat):
                out = tmp / f"{name}-inproc-{k}"
                out.mkdir()
                walls.append(in_process(raw, args.oref, out))
            print(
                f"{name:22s} {'reference in-process':24s} {statistics.median(walls):15.3f} "
                f"{min(walls):7.3f} {max(walls):7.3f} {'-':>13s}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
