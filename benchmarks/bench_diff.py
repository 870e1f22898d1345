"""Time `stischeck diff` on two full-frame _flt files (in-process, after start-up).

Usage: python benchmarks/bench_diff.py [--corpus DIR] [--repeat N]

Uses the corpus's full-frame case (1024 x 1024, two imsets): BIASCORR against
itself (identical, the common verdict) and BLEVCORR against BIASCORR (every
pixel differs, the worst case). Files are decompressed first so that gzip is
not timed. Issue target: under 0.5 s per comparison.
"""

import argparse
import gzip
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from stischeck.diff import diff_products
from stischeck.environment import find_corpus

CASE = "img_ampD_g1_full_cr2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=7)
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


if __name__ == "__main__":
    main()
