"""Start-up of ``stischeck compare --runner stistools`` against ``--runner cs0``.

Start-up is the time from launching the command to the moment the first
cs0.e of the calstis side starts (for ``--runner stistools``: the one the
wrapper starts, not the parity run of cs0.e direct), taken by a timing shim
that records the clock and its folder and then execs the real cs0.e. With
``--runner cs0`` that is the harness's own start-up; with ``--runner
stistools`` it adds the child Python and its import of ``stistools.calstis``,
which is measured on its own too (``python -c "import stistools.calstis"``
minus ``python -c pass``). The runs alternate between the two runners;
medians are printed with the load average. Nothing asserts.

    python benchmarks/bench_runner_startup.py RAW --oref DIR [--calstis cs0.e] [--repeat 7]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def shim(folder: Path, cs0: Path, log: Path) -> Path:
    """A cs0.e that appends the wall clock to ``log`` and then execs the real one."""
    path = folder / "cs0.e"
    record = f'echo "$(date +%s.%N) $(basename "$PWD")" >> {log}'
    path.write_text(f'#!/bin/sh\n{record}\nexec {cs0} "$@"\n')
    path.chmod(0o755)
    return path


def one(runner: str, raw: str, oref: str, cs0: Path, work: Path) -> tuple:
    """(start-up s, total s, exit code, the child's own stistools import s) of one run."""
    log = work / f"starts-{runner}.txt"
    log.unlink(missing_ok=True)
    fake = shim(work, cs0, log)
    out = work / f"out-{runner}"
    argv = [str(Path(sys.executable).with_name("stischeck")), "compare", raw, "--oref", oref]
    argv += ["--calstis", str(fake), "--runner", runner, "--outdir", str(out), "--no-html"]
    argv += ["--steps", "DQICORR"]
    t0 = time.time()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    total = time.time() - t0
    # The wrapper runs in runs/<CONFIG>/calstis/ (the direct parity runs in .../cs0/).
    starts = [line.split() for line in log.read_text().splitlines()]
    first = min(float(t) for t, where in starts if where == "calstis")
    report = out / "runs" / "DQICORR" / "calstis" / "stistools.json"
    import_s = json.loads(report.read_text())["import_s"] if report.exists() else None
    return first - t0, total, done.returncode, import_s


def main() -> int:
    """Measure and print medians."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("raw")
    p.add_argument("--oref", required=True)
    p.add_argument("--calstis", default=os.environ.get("STISCHECK_CALSTIS", "cs0.e"))
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()
    from stischeck.runners.stistools_wrapper import import_seconds

    cs0 = Path(args.calstis).resolve()
    load0 = os.getloadavg()
    results = {"cs0": [], "stistools": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for runner in results:
                results[runner].append(one(runner, args.raw, args.oref, cs0, Path(tmp)))
    imports = import_seconds(args.repeat)
    load1 = os.getloadavg()
    print(
        f"load average before {load0[0]:.2f}, after {load1[0]:.2f} (1 min); {os.cpu_count()} cores"
    )
    for runner, rows in results.items():
        start = statistics.median(r[0] for r in rows)
        total = statistics.median(r[1] for r in rows)
        codes = sorted({r[2] for r in rows})
        print(
            f"--runner {runner:<9} start-up median {start:.3f} s "
            f"(min {min(r[0] for r in rows):.3f}, max {max(r[0] for r in rows):.3f}); "
            f"whole command median {total:.2f} s; exit codes {codes}"
        )
    delta = statistics.median(
        results["stistools"][k][0] - results["cs0"][k][0] for k in range(args.repeat)
    )
    print(f"start-up difference (paired median): {delta:.3f} s")
    in_run = [r[3] for r in results["stistools"]]
    rest = [
        results["stistools"][k][0] - results["cs0"][k][0] - in_run[k] for k in range(args.repeat)
    ]
    print(
        f"start-up difference minus that run's import (the child's interpreter start and "
        f"the rest): median {statistics.median(rest):.3f} s"
    )
    print(
        f"stistools.calstis import inside the runs' children: median "
        f"{statistics.median(in_run):.3f} s (min {min(in_run):.3f}, max {max(in_run):.3f})"
    )
    print(
        f"child import of stistools.calstis (minus bare python), measured after: median "
        f"{statistics.median(imports):.3f} s (min {min(imports):.3f}, max {max(imports):.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
