"""Time the reference reduction against cs0.e, configuration by configuration.

Usage::

    python benchmarks/bench_reference.py RAW --oref DIR/ [--calstis cs0.e] [--repeat 5]
        [--config upto_dqicorr ...]

For each configuration (cumulative DQICORR, +BLEVCORR, +BIASCORR, then
BLEVCORR+BIASCORR+DARKCORR and +FLATCORR without CRCORR) RAW is written once,
**uncompressed**, with those switches, and every side reads that same file and
the same ``--oref`` directory:

* ``cs0.e``: ``cs0.e raw outdir/`` as a process;
* ``in-process``: ``read_raw`` + ``calibrate`` + ``write_product`` timed inside
  one warm Python process (the steps' own cost, without interpreter start-up
  and imports), after one untimed run;
* ``process``: ``python -m stischeck.cli reference raw --outroot outdir/``, the
  whole process, start-up and imports included.

Wall time is the median of ``--repeat`` runs (the two process sides alternate,
after one untimed warm-up run each); CPU seconds are shown next to them. Peak
RSS is the child's ``ru_maxrss``
from ``os.wait4``; for the in-process side it is the peak of the timing process
(imports and all its runs). The benchmark's own process imports nothing heavy,
because a child's ``ru_maxrss`` cannot read below the RSS of the process that
started it (the floor is printed). The verdict columns say whether the
reference's median is no slower than cs0.e's (ratio reference / cs0.e).

A last table times start-up alone: a bare interpreter, numpy, astropy.io.fits
and everything ``stischeck reference`` imports, the part of the process time no
change to the steps can remove.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import reference_once, set_switches, table

CONFIGS = {
    "upto_dqicorr": ("DQICORR",),
    "upto_blevcorr": ("DQICORR", "BLEVCORR"),
    "upto_biascorr": ("DQICORR", "BLEVCORR", "BIASCORR"),
    "no_crcorr_darkcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "DARKCORR"),
    "no_crcorr_flatcorr": ("DQICORR", "BLEVCORR", "BIASCORR", "DARKCORR", "FLATCORR"),
}
STARTUP = {
    "python (bare interpreter)": "pass",
    "python + numpy": "import numpy",
    "python + numpy + astropy.io.fits": "import numpy; from astropy.io import fits",
    "stischeck reference imports": (
        "import stischeck.cli, stischeck.commands.reference, reference_impl.io.rawfile, "
        "reference_impl.pipeline, reference_impl.io.products; from astropy.io import fits"
    ),
}


# --- workers: run in child processes so that this process stays small -----------------


def write_config(raw: Path, perform: tuple[str, ...], dest: Path) -> Path:
    """Write RAW, uncompressed, into ``dest`` with ``perform`` on and every other switch OMIT."""
    from astropy.io import fits

    dest.mkdir(parents=True, exist_ok=True)
    out = dest / (raw.name[:-3] if raw.name.endswith(".gz") else raw.name)
    with fits.open(raw) as hdul:
        set_switches(hdul[0].header, perform)
        hdul.writeto(out, overwrite=True)
    return out


def _worker(args) -> int:
    if args.worker == "prepare":
        raws = {
            name: str(write_config(args.raw, CONFIGS[name], args.work / name))
            for name in args.config
        }
        print(json.dumps(raws))
        return 0
    # in-process: one untimed run, then --repeat timed runs, each into a fresh directory.
    raw = Path(args.raw)
    walls, cpus = [], []
    for k in range(args.repeat + 1):
        out = args.work / f"inprocess-{k}"
        out.mkdir(parents=True)
        wall, cpu = reference_once(raw, args.oref, out)
        shutil.rmtree(out)
        if k:
            walls.append(wall)
            cpus.append(cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"walls": walls, "cpus": cpus, "peak_mib": peak}))
    return 0


# --- the benchmark ---------------------------------------------------------------------


def run_child(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, peak RSS MiB, stdout). Non-zero exit is fatal.

    The child's CPU seconds (user + system) are kept in ``run_child.last_cpu``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.read().decode()}")
        run_child.last_cpu = usage.ru_utime + usage.ru_stime
        return wall, usage.ru_maxrss / 1024.0, out.read().decode()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _verdict(ref: float, calstis: float | None) -> str:
    if calstis is None:
        return "-"
    ratio = ref / calstis
    return f"{'yes' if ref <= calstis else 'no'} ({ratio:.2f}x)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path, help="raw file (.fits or .fits.gz); written uncompressed")
    ap.add_argument("--oref", type=Path, required=True, help="reference-file directory")
    ap.add_argument("--calstis", default=shutil.which("cs0.e"), help="cs0.e (default: PATH)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per side (default 5)")
    ap.add_argument(
        "--config",
        action="append",
        choices=sorted(CONFIGS),
        help="configuration to time (repeatable; default: all)",
    )
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up table")
    ap.add_argument("--worker", choices=("prepare", "inprocess"), help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    args.config = args.config or list(CONFIGS)
    args.oref = args.oref.resolve()
    if args.worker:
        return _worker(args)

    env = dict(os.environ, oref=f"{args.oref}/")
    me = [sys.executable, str(Path(__file__).resolve())]
    rows, details = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _, _, stdout = run_child(
            [*me, str(args.raw), "--oref", str(args.oref), "--worker", "prepare", "--work",
             str(tmp / "raw"), *[a for c in args.config for a in ("--config", c)]]
        )  # fmt: skip
        raws = json.loads(stdout)
        for name in args.config:
            raw = raws[name]
            sides = {
                "process": [*me[:1], "-m", "stischeck.cli", "reference", raw,
                            "--oref", str(args.oref)],
            }  # fmt: skip
            if args.calstis:
                sides = {"cs0.e": [args.calstis, raw], **sides}
            walls = {side: [] for side in sides}
            peaks = {side: [] for side in sides}
            cpus = {side: [] for side in sides}
            for k in range(args.repeat + 1):  # run 0 is the untimed warm-up
                for side, cmd in sides.items():
                    out = tmp / f"{name}-{side}-{k}"
                    out.mkdir()
                    tail = [f"{out}/"] if side == "cs0.e" else ["--outroot", f"{out}/"]
                    wall, peak, _ = run_child([*cmd, *tail], env)
                    shutil.rmtree(out)
                    if k:
                        walls[side].append(wall)
                        peaks[side].append(peak)
                        cpus[side].append(run_child.last_cpu)
            _, _, stdout = run_child(
                [*me, raw, "--oref", str(args.oref), "--worker", "inprocess", "--work",
                 str(tmp / f"{name}-inprocess"), "--repeat", str(args.repeat)]
            )  # fmt: skip
            inproc = json.loads(stdout)
            walls["in-process"] = inproc["walls"]
            cpus["in-process"] = inproc["cpus"]
            peaks["in-process"] = [inproc["peak_mib"]]
            med = {side: _median(w) for side, w in walls.items()}
            cs0 = med.get("cs0.e")
            rows.append(
                (
                    name,
                    f"{cs0:.3f}" if cs0 is not None else "-",
                    f"{med['in-process']:.3f}",
                    f"{med['process']:.3f}",
                    f"{max(peaks['cs0.e']):.1f}" if "cs0.e" in peaks else "-",
                    f"{max(peaks['in-process']):.1f}",
                    f"{max(peaks['process']):.1f}",
                    _verdict(med["in-process"], cs0),
                    _verdict(med["process"], cs0),
                )
            )
            for side, w in walls.items():
                c = cpus[side]
                details.append(
                    (name, side, f"{_median(w):.3f}", f"{min(w):.3f}", f"{max(w):.3f}",
                     f"{_median(c):.3f}", _verdict(_median(c), _median(cpus["cs0.e"]))
                     if "cs0.e" in cpus else "-")
                )  # fmt: skip

        startup = []
        if not args.no_startup:
            for label, code in STARTUP.items():
                w, p = [], []
                for k in range(args.repeat + 1):
                    wall, peak, _ = run_child([sys.executable, "-c", code])
                    if k:
                        w.append(wall)
                        p.append(peak)
                startup.append((label, f"{_median(w):.3f}", f"{min(w):.3f}", f"{max(p):.1f}"))

    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"raw: {args.raw.name} (uncompressed copy per configuration); oref: {args.oref}")
    print(f"wall: median of {args.repeat} runs, seconds; peak RSS: MiB (floor {floor:.1f})")
    table(
        (
            "configuration",
            "cs0.e_s",
            "inproc_s",
            "process_s",
            "cs0.e_MiB",
            "inproc_MiB",
            "process_MiB",
            "inproc<=cs0.e",
            "process<=cs0.e",
        ),
        rows,
    )
    print()
    print("(cpu: user + system seconds; for cs0.e and process the child's, in-process the")
    print(" pipeline's own; less sensitive than wall time to other load on the machine)")
    table(("configuration", "side", "median_s", "min_s", "max_s", "cpu_s", "cpu<=cs0.e"), details)
    if startup:
        print()
        table(("start-up only", "median_s", "min_s", "peak_MiB"), startup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
