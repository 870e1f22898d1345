"""Time ``stischeck batch`` with 1 and 2 local workers over synthetic data sets, and its resume.

Usage::

    python benchmarks/bench_batch.py make --data DIR [--n 24]
    python benchmarks/bench_batch.py run --data DIR --out DIR [--repeat 3] [--workers 1 2]
        [--calstis cs0.e] [--steps LIST]

``make`` writes ``--n`` seeded data sets with ``stischeck synth`` (a fixed mix:
mostly full-frame unbinned exposures on the four amplifiers and both gains,
plus binned, spectroscopic and subarray readouts, CR-SPLIT 2 to 4), one folder
each with its ``oref/``.

``run``, for each worker count in turn (1, 2, 1, 2 ... after one untimed
warm-up of each), times the whole command as a process::

    stischeck batch DATA --outdir OUT/wN --workers N --force --no-html

and prints the median wall time per worker count and the ratio of the medians
(``--repeat 0``: a single run with the last worker count, for the checks),
with live calstis unless ``--no-calstis`` (then nothing to compare with: the
synthetic data sets have no stored truth). It then:

* checks that ``OUT/wN/verdicts.csv`` is every data set's ``verdicts.csv``,
  cell for cell, behind a ``dataset`` column (and says so);
* times a rerun without ``--force`` (every data set complete: all reused);
* runs a batch of the data sets plus one deliberately broken one (a truncated
  copy of the first raw file, listed in a CSV manifest) and prints the broken
  row and the count of the others that completed.

Standard library only in this process; the batch runs as a child process.
"""

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: (synth options) cycled over the data sets: 2 of 3 full-frame unbinned.
MIX = (
    ["--full-frame", "--amp", "D", "--gain", "1", "--crsplit", "2"],
    ["--full-frame", "--amp", "A", "--gain", "4", "--crsplit", "3"],
    ["--full-frame", "--binning", "2x2", "--amp", "C", "--gain", "1", "--crsplit", "2"],
    ["--full-frame", "--amp", "B", "--gain", "1", "--crsplit", "4", "--epoch", "side1"],
    ["--full-frame", "--amp", "C", "--gain", "4", "--crsplit", "2", "--expscorr"],
    ["--full-frame", "--binning", "4x4", "--spectroscopy", "--amp", "D", "--crsplit", "3"],
)


def stischeck(*args) -> list:
    return [sys.executable, "-m", "stischeck.cli", *map(str, args)]


def make(args) -> int:
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    for i in range(args.n):
        folder = data / f"syn{i + 1:03d}"
        if folder.exists():
            continue
        subprocess.run(
            stischeck("synth", "--out", folder, "--seed", 100 + i, *MIX[i % len(MIX)]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(f"{args.n} data sets in {data}")
    return 0


def timed(cmd) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0, done.returncode


def read_rows(path: Path) -> list:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def check_aggregate(outdir: Path) -> str:
    """'' when the batch verdicts.csv equals the per-data-set ones, else what differs."""
    rows = read_rows(outdir / "verdicts.csv")
    header, body = rows[0], rows[1:]
    datasets = {r["dataset"]: r for r in csv.DictReader((outdir / "datasets.csv").open())}
    for name, info in datasets.items():
        mine = [r[1:] for r in body if r[0] == name]
        if info["status"] != "done":
            if len(mine) != 1:
                return f"{name}: failed data set has {len(mine)} rows"
            continue
        own = read_rows(outdir / name / "verdicts.csv")
        if own[0] != header[1:]:
            return f"{name}: columns differ"
        if own[1:] != mine:
            return f"{name}: rows differ"
    if {r[0] for r in body} != set(datasets):
        return "data sets differ"
    return ""


def run(args) -> int:
    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = len([p for p in data.iterdir() if p.is_dir()])
    common = ["--force", "--no-html"]
    common += ["--calstis", args.calstis] if args.calstis else []
    common += ["--steps", args.steps] if args.steps else []
    if args.repeat == 0:  # no timing table: one run, for the checks below
        args.workers = args.workers[-1:]
    times: dict = {w: [] for w in args.workers}
    for rep in range(args.repeat + 1):
        for w in args.workers:
            wall, code = timed(
                stischeck("batch", data, "--outdir", out / f"w{w}", "--workers", w, *common)
            )
            label = "warm-up" if rep == 0 and args.repeat else f"run {rep}"
            print(f"  {label}: {w} worker(s) {wall:7.1f} s (exit {code})", flush=True)
            if rep or not args.repeat:
                times[w].append(wall)
    print(f"\n{n} data sets, live calstis: {bool(args.calstis) or 'from PATH'}")
    print(f"{'workers':>8} {'median s':>9} {'min s':>7} {'max s':>7}")
    medians = {}
    for w, ts in times.items():
        medians[w] = statistics.median(ts)
        print(f"{w:>8} {medians[w]:>9.1f} {min(ts):>7.1f} {max(ts):>7.1f}")
    if len(medians) >= 2:
        a, b = args.workers[0], args.workers[1]
        print(f"speed-up {b} vs {a} workers: {medians[a] / medians[b]:.2f}x (ratio of medians)")
    for w in args.workers:
        # How many data sets ran at once on average: the sum of their own wall times over
        # the batch's (in the last run). Below the worker count: idle workers or overhead.
        rows = list(csv.DictReader((out / f"w{w}" / "datasets.csv").open()))
        batch_wall = json.loads((out / f"w{w}" / "batch.json").read_text())["wall_s"]
        busy = sum(float(r["wall_s"]) for r in rows)
        print(
            f"{w} worker(s): data sets' own wall times sum to {busy:.1f} s in a {batch_wall:.1f} s "
            f"batch: {busy / batch_wall:.2f} at a time"
        )

    last = out / f"w{args.workers[-1]}"
    problem = check_aggregate(last)
    print(f"aggregate {last}/verdicts.csv vs per-data-set verdicts.csv: {problem or 'identical'}")

    # Rerun without --force: every data set is complete and unchanged.
    resume = [c for c in common if c != "--force"]
    wall, code = timed(
        stischeck("batch", data, "--outdir", last, "--workers", args.workers[-1], *resume)
    )
    reused = sum(r["reused"] == "True" for r in csv.DictReader((last / "datasets.csv").open()))
    print(f"rerun without --force: {wall:.1f} s, {reused}/{n} data sets reused (exit {code})")

    # One deliberately broken data set among the others.
    broken_dir = out / "broken-input"
    if broken_dir.exists():
        shutil.rmtree(broken_dir)
    broken_dir.mkdir()
    first = sorted(p for p in data.iterdir() if p.is_dir())[0]
    raw = next(first.glob("*_raw.fits*"))
    content = raw.read_bytes()
    (broken_dir / raw.name).write_bytes(content[: len(content) * 2 // 3])
    (broken_dir / "oref").symlink_to(first.resolve() / "oref")
    manifest = out / "with-broken.csv"
    manifest.write_text(f"raw,dataset\n{broken_dir / raw.name},broken-truncated\n")
    target = out / "with-broken"
    wall, code = timed(
        stischeck(
            "batch", data, manifest, "--outdir", target, "--workers", args.workers[-1], *resume
        )
    )
    rows = list(csv.DictReader((target / "datasets.csv").open()))
    bad = [r for r in rows if r["dataset"] == "broken-truncated"][0]
    done = sum(r["status"] == "done" for r in rows)
    print(f"with a broken data set: exit {code}, {done}/{len(rows)} completed, {wall:.1f} s")
    print(f"  broken-truncated: {bad['status']}: {bad['message']}")
    summary = json.loads((target / "batch.json").read_text())
    print(f"  counts: {summary['counts']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make")
    p.add_argument("--data", required=True)
    p.add_argument("--n", type=int, default=24)
    p.set_defaults(func=make)
    p = sub.add_parser("run")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--repeat", type=int, default=3, help="0: one run, no timing table")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--calstis")
    p.add_argument("--steps")
    p.set_defaults(func=run)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
