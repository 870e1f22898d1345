"""Time `stischeck diff` on two full-frame _flt files, in-process and as a whole process.

Usage: python benchmarks/bench_diff.py [--corpus DIR] [--repeat N] [--fitsdiff PATH]

Uses the corpus's full-frame case (1024 x 1024, two imsets): BIASCORR against
itself (identical, the common verdict) and BLEVCORR against BIASCORR (every
pixel differs, the worst case). Files are decompressed first so that gzip is
not timed. Issue target: under 0.5 s per comparison (in-process), and (issue 17)
the whole ``stischeck diff A B`` process no slower than astropy's ``fitsdiff A B``
on the same pair: alternated runs after a warm-up, median of the per-pair ratios.
"""

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import load, user_env

from stischeck.diff import diff_products
from stischeck.environment import find_corpus

CASE = "img_ampD_g1_full_cr2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--fitsdiff", default=shutil.which("fitsdiff") or "fitsdiff")
    args = parser.parse_args()
    corpus = args.corpus or find_corpus()
    if corpus is None:
        raise SystemExit("bench_diff: no corpus (../shared/calstis-corpus or $STISCHECK_CORPUS)")
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for step in ("BLEVCORR", "BIASCORR"):
            files[step] = Path(tmp) / f"{step}_flt.fits"
            with gzip.open(corpus / CASE / step / "ovappx010_flt.fits.gz") as fin:
                files[step].write_bytes(fin.read())
        shutil.copy(files["BIASCORR"], Path(tmp) / "copy_flt.fits")
        pairs = {
            "identical (BIASCORR vs a copy)": (files["BIASCORR"], Path(tmp) / "copy_flt.fits"),
            "all pixels differ (BLEVCORR vs BIASCORR)": (files["BLEVCORR"], files["BIASCORR"]),
        }
        print(f"{'pair':<44} {'verdict':<10} {'median s':>9} {'min s':>7}  (n={args.repeat})")
        for label, (a, b) in pairs.items():
            diff_products(a, b)  # warm the import and file caches
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                result = diff_products(a, b)
                result.to_frame()
                times.append(time.perf_counter() - t0)
            print(
                f"{label:<44} {result.verdict:<10} {statistics.median(times):>9.3f} "
                f"{min(times):>7.3f}"
            )

        _processes(pairs, args.repeat, args.fitsdiff)


def _wall(cmd: list) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=user_env())
    return time.perf_counter() - t0


def _processes(pairs: dict, repeat: int, fitsdiff: str) -> None:
    """Whole processes: ``stischeck diff A B`` against ``fitsdiff A B``, alternated."""
    print(f"\nwhole process, {repeat} alternated runs after a warm-up; {load()}")
    print(f"{'pair':<44} {'stischeck s':>11} {'fitsdiff s':>10} {'ratio':>6} {'min':>5} {'max':>5}")
    for label, (a, b) in pairs.items():
        ours = [sys.executable, "-m", "stischeck.cli", "diff", str(a), str(b)]
        theirs = [fitsdiff, str(a), str(b)]
        _wall(ours), _wall(theirs)
        o, t = [], []
        for _ in range(repeat):
            o.append(_wall(ours))
            t.append(_wall(theirs))
        ratios = [x / y for x, y in zip(o, t, strict=True)]
        med = statistics.median
        print(f"{label:<44} {med(o):>11.3f} {med(t):>10.3f} {med(ratios):>6.2f} "
              f"{min(ratios):>5.2f} {max(ratios):>5.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
