"""Size and render time of the HTML report on a full-frame unbinned CRSPLIT=2 exposure.

Usage: python benchmarks/bench_report.py [--corpus DIR] [--calstis cs0.e] [--folder DIR]
       [--repeat N]

Runs ``stischeck compare`` on the corpus full-frame case (1062 x 1044 raw, two
imsets, live cs0.e) with ``--no-html`` into a temporary folder (or reuses a
compare folder given with ``--folder``), then times ``write_report`` on it in
this process: the first call (which also imports PIL, astropy.visualization and
matplotlib's colour maps) and the median of the following ones, wall and CPU
time, and ``stischeck report DIR`` as a fresh process (interpreter start-up and
imports included). Issue targets: report under 10 MB, rendering under 3 s.

"stischeck time" is judged on the process's CPU time of the first call: on a
shared machine the wall time also counts what other processes are given (the
load average is printed); on an idle one the two agree.
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

CASE = "img_ampD_g1_full_cr2"
SIZE_LIMIT_MB = 10.0
TIME_LIMIT_S = 3.0


def compare_folder(corpus: Path, calstis: str | None, out: Path) -> None:
    case = corpus / CASE
    raw = next(case.glob("*_raw.fits*"))
    cmd = [sys.executable, "-m", "stischeck.cli", "compare", str(raw), "--oref", str(case / "oref")]
    cmd += ["--outdir", str(out), "--no-html"]
    if calstis:
        cmd += ["--calstis", calstis]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench_report: compare failed ({done.returncode}): {done.stderr.strip()}")
    first = done.stdout.splitlines()[0] if done.stdout else ""
    print(f"compare (not timed for the report): {time.perf_counter() - t0:.1f} s; {first}")


def main() -> None:
    from stischeck.environment import find_calstis, find_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--calstis", default=None, help="cs0.e (default $STISCHECK_CALSTIS, PATH)")
    parser.add_argument("--folder", type=Path, default=None, help="reuse this compare folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    tmp = None
    if args.folder is not None:
        folder = args.folder
    else:
        corpus = args.corpus or find_corpus()
        if corpus is None:
            raise SystemExit("bench_report: no corpus (../shared/calstis-corpus, STISCHECK_CORPUS)")
        calstis, where = find_calstis(args.calstis)
        if calstis is None:
            raise SystemExit(f"bench_report: cs0.e {where}; the benchmark runs live calstis")
        tmp = Path(tempfile.mkdtemp(prefix="bench_report_"))
        folder = tmp / "compare"
        compare_folder(corpus, str(calstis), folder)

    try:
        from stischeck.report import write_report

        walls, cpus = [], []
        for _ in range(1 + max(1, args.repeat)):
            t0, c0 = time.perf_counter(), time.process_time()
            path = write_report(folder)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        size_mb = path.stat().st_size / 1e6
        warm_wall, warm_cpu = statistics.median(walls[1:]), statistics.median(cpus[1:])

        env = dict(os.environ)
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "stischeck.cli", "report", str(folder)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        cli_wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"bench_report: stischeck report failed: {done.stderr.strip()}")

        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"report: {path}")
        print(f"size: {size_mb:.2f} MB (limit {SIZE_LIMIT_MB:g} MB)")
        print(
            f"render, first call in this process: {walls[0]:.2f} s wall, {cpus[0]:.2f} s CPU "
            "(includes the report's lazy imports)"
        )
        print(
            f"render, warm (median of {len(walls) - 1}): {warm_wall:.2f} s wall, "
            f"{warm_cpu:.2f} s CPU (limit {TIME_LIMIT_S:g} s)"
        )
        print(f"stischeck report DIR as a new process: {cli_wall:.2f} s wall (start-up included)")
        print(f"load average while measuring: {load:.2f} on {os.cpu_count()} cores")
        ok = size_mb < SIZE_LIMIT_MB and cpus[0] < TIME_LIMIT_S
        print(
            f"{'PASS' if ok else 'FAIL'}: {size_mb:.2f} MB < {SIZE_LIMIT_MB:g} MB, "
            f"first render {cpus[0]:.2f} s CPU < {TIME_LIMIT_S:g} s"
        )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
