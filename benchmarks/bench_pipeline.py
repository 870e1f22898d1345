"""Time and measure the whole six-step reference pipeline against cs0.e (issue 4).

Usage::

    python benchmarks/bench_pipeline.py CORPUS_CASE_DIR [--calstis cs0.e] [--repeat 5]
        [--crsplit 2 --crsplit 4 --crsplit 8] [--layout plain --layout gzipped]

Issue 17: every CRSPLIT is measured with both layouts of the reference files
in one run (default): ``plain``, a CRDS-cache-like copy of ``oref/`` with
every ``.fits.gz`` gunzipped to ``.fits``, and ``gzipped``, the corpus's own
``oref/``. The second table is the issue's: cs0.e wall, reference
in-process and its ratio, the whole ``stischeck reference`` process and its
ratio, peak RSS of both processes, and the load average after the row; the
last table gives median, min and max of the alternated runs.

CORPUS_CASE_DIR is the full-frame corpus case ``img_ampD_g1_full_cr2`` (its
raw file and ``oref/``). CRSPLIT 2 is its raw file; 4 and 8 are built from it
by ``make_crsplit_input.py``. Each input is written uncompressed with DQICORR,
BLEVCORR, BIASCORR, CRCORR, DARKCORR and FLATCORR PERFORM and every other
switch OMIT, and all sides read it and the case's ``oref/``:

* ``cs0.e``: ``cs0.e raw outdir/`` as a process; wall time and peak RSS
  (``ru_maxrss`` from ``os.wait4``).
* ``reference``: a fresh interpreter per run, in the environment the
  ``stischeck`` program gives itself (``stischeck.cli.PROGRAM_ENV``: OpenBLAS
  on one thread) with its malloc settings (``stischeck.allocator``: freed
  arrays are reused, not unmapped), imports what ``stischeck reference`` imports, notes its
  peak RSS (the baseline), then reads,
  calibrates and writes once; the pipeline's own wall time and its peak RSS
  above that baseline. A second, warm run in the same interpreter is timed
  too (shown for information).
* ``process``: ``python -m stischeck.cli reference raw --outroot outdir/``,
  the whole command (start-up and imports included).

Every run's products are compared with cs0.e's (``stischeck.diff``, in a
child process too): the table says whether they are identical. This process
imports nothing heavy: a child started from it cannot show a peak RSS below
this process's own (its high-water mark carries over through exec).

Targets (issue 4), judged on medians: reference wall <= 0.5 x cs0.e wall,
and reference peak RSS above its baseline <= cs0.e's peak RSS (largest of
the runs on both sides).
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

from common import (
    load,
    plain_oref,
    program_env,
    reference_once,
    set_switches,
    stats,
    table,
    user_env,
)

SIX_STEPS = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")
IMPORTS = (
    "import numpy; from astropy.io import fits; import stischeck.cli; "
    "import reference_impl.pipeline, reference_impl.io.rawfile, reference_impl.io.products"
)


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- workers (child processes) ---------------------------------------------------------


def _prepare(case_dir: Path, crsplit: list[int], work: Path) -> dict:
    """Write each input raw file with the six switches; {N: path}."""
    from astropy.io import fits

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_crsplit_input import build

    corpus_raw = next(case_dir.glob("*_raw.fits*"))
    name = corpus_raw.name.removesuffix(".gz")
    raws = {}
    for n in crsplit:
        dest = work / f"cr{n}" / name
        dest.parent.mkdir(parents=True)
        if n == 2:
            with fits.open(corpus_raw) as hdul:
                hdul.writeto(dest)
        else:
            build(case_dir, n, dest, seed=n)
        with fits.open(dest, mode="update") as hdul:
            set_switches(hdul[0].header, SIX_STEPS)
        raws[n] = str(dest)
    return raws


def _inprocess(raw: Path, oref: Path, out: Path) -> dict:
    from stischeck.allocator import keep_freed_memory

    keep_freed_memory()  # as the program's entry point does first
    exec(IMPORTS, {})  # noqa: S102 - the same imports as the baseline in every child
    baseline = _maxrss_mib()
    cold, cold_cpu = reference_once(raw, oref, out)
    peak = _maxrss_mib()
    warm_out = out.with_name(out.name + "-warm")
    warm_out.mkdir()
    warm, _ = reference_once(raw, oref, warm_out)
    return {
        "cold_s": cold, "cold_cpu_s": cold_cpu, "warm_s": warm,
        "baseline_mib": baseline, "peak_mib": peak,
    }  # fmt: skip


# --- the benchmark ---------------------------------------------------------------------


def _run(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Run a command; (wall seconds, peak RSS MiB, stdout). A failure is fatal.

    The child's user + system seconds are left in ``_run.last_cpu``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{cmd[:3]} failed: {err.read().decode()[-2000:]}")
        out.seek(0)
        _run.last_cpu = usage.ru_utime + usage.ru_stime
        return wall, usage.ru_maxrss / 1024.0, out.read().decode()


def _identical(ours: Path, theirs: Path) -> bool:
    from stischeck.diff import diff_products

    products = sorted(p.name for p in theirs.glob("*.fits"))
    if sorted(p.name for p in ours.glob("*.fits")) != products or not products:
        return False
    return all(
        diff_products(ours / name, theirs / name, step="FLATCORR").verdict == "identical"
        for name in products
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case_dir", type=Path, help="corpus case img_ampD_g1_full_cr2")
    ap.add_argument("--calstis", default=os.environ.get("STISCHECK_CALSTIS") or "cs0.e")
    ap.add_argument("--repeat", type=int, default=5, help="runs per side (default 5)")
    ap.add_argument("--crsplit", type=int, action="append", help="2, 4, 8 (default: all)")
    ap.add_argument("--layout", choices=("plain", "gzipped"), action="append",
                    help="reference files as plain .fits (a CRDS cache) or the corpus's "
                    ".fits.gz (default: both)")  # fmt: skip
    ap.add_argument("--oref", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=("prepare", "inprocess", "compare"), help=argparse.SUPPRESS)
    ap.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--theirs", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.case_dir = args.case_dir.resolve()
    oref = args.oref or args.case_dir / "oref"
    args.crsplit = args.crsplit or [2, 4, 8]
    args.layout = args.layout or ["plain", "gzipped"]
    if args.worker == "prepare":
        print(json.dumps(_prepare(args.case_dir, args.crsplit, args.out)))
        return 0
    if args.worker == "inprocess":
        print(json.dumps(_inprocess(args.raw, oref, args.out)))
        return 0
    if args.worker == "compare":
        print(json.dumps(_identical(args.out, args.theirs)))
        return 0
    calstis = shutil.which(args.calstis) or args.calstis
    me = [sys.executable, str(Path(__file__).resolve())]
    rows, detail, issue_rows = [], [], []
    print(f"start: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = user_env(oref=f"{oref}/")
        wanted = [a for n in args.crsplit for a in ("--crsplit", str(n))]
        prepare = [*me, str(args.case_dir), "--worker", "prepare", "--out", str(tmp / "in")]
        _, _, text = _run([*prepare, *wanted], env)
        raws = {int(k): Path(v) for k, v in json.loads(text).items()}
        _, bare_peak, _ = _run([sys.executable, "-c", "pass"], env)
        _, imports_peak, _ = _run([sys.executable, "-c", IMPORTS], env)
        orefs = {"gzipped": oref}
        if "plain" in args.layout:
            orefs["plain"] = plain_oref(oref, tmp / "oref-plain")
        for layout, n in ((lay, n) for lay in args.layout for n in raws):
            raw, lay_oref = raws[n], orefs[layout]
            env = user_env(oref=f"{lay_oref}/")
            tag = f"{layout} CRSPLIT={n}"
            cs0_wall, cs0_peak, ref_cold, ref_warm, ref_delta, ref_base = [], [], [], [], [], []
            cs0_cpu, ref_cpu = [], []
            proc_wall, proc_peak, same = [], [], []
            for k in range(args.repeat + 1):  # run 0: warm-up of every side, not counted
                c_out, r_out, p_out = (tmp / f"{side}{layout}{n}-{k}" for side in "crp")
                for d in (c_out, r_out, p_out):
                    d.mkdir()
                wall, peak, _ = _run([calstis, str(raw), f"{c_out}/"], env)
                cpu = _run.last_cpu
                _, _, text = _run([*me, str(args.case_dir), "--worker", "inprocess", "--raw",
                                   str(raw), "--oref", str(lay_oref), "--out", str(r_out)],
                                  program_env(env))  # fmt: skip
                ref = json.loads(text)
                p_wall, p_peak, _ = _run([sys.executable, "-m", "stischeck.cli", "reference",
                                          str(raw), "--oref", str(lay_oref), "--outroot",
                                          f"{p_out}/"], env)  # fmt: skip
                if k:
                    cs0_wall.append(wall)
                    cs0_cpu.append(cpu)
                    ref_cpu.append(ref["cold_cpu_s"])
                    cs0_peak.append(peak)
                    ref_cold.append(ref["cold_s"])
                    ref_warm.append(ref["warm_s"])
                    ref_delta.append(ref["peak_mib"] - ref["baseline_mib"])
                    ref_base.append(ref["baseline_mib"])
                    proc_wall.append(p_wall)
                    proc_peak.append(p_peak)
                    compare = [*me, str(args.case_dir), "--worker", "compare"]
                    _, _, text = _run([*compare, "--out", str(r_out), "--theirs", str(c_out)], env)
                    same.append(json.loads(text))
                for d in (c_out, r_out, p_out, r_out.with_name(r_out.name + "-warm")):
                    shutil.rmtree(d, ignore_errors=True)
            c_med, r_med = statistics.median(cs0_wall), statistics.median(ref_cold)
            ratio = r_med / c_med
            p_med = statistics.median(proc_wall)
            issue_rows.append((
                tag, f"{c_med:.3f}", f"{r_med:.3f}", f"{ratio:.2f}x", f"{p_med:.3f}",
                f"{p_med / c_med:.2f}x", f"{max(cs0_peak):.0f} / {max(proc_peak):.0f}",
                load().removeprefix("load average "),
            ))  # fmt: skip
            rows.append((
                tag, f"{c_med:.3f}", f"{r_med:.3f}", f"{ratio:.2f}",
                "yes" if ratio <= 0.5 else "no", f"{max(cs0_peak):.1f}", f"{max(ref_delta):.1f}",
                "yes" if max(ref_delta) <= max(cs0_peak) else "no",
                f"{statistics.median(proc_wall):.3f}", "yes" if all(same) else "NO",
            ))  # fmt: skip
            for label, values in (("cs0.e wall s", cs0_wall), ("reference wall s", ref_cold),
                                  ("reference warm wall s", ref_warm),
                                  ("cs0.e cpu s", cs0_cpu), ("reference cpu s", ref_cpu),
                                  ("process wall s", proc_wall), ("cs0.e peak MiB", cs0_peak),
                                  ("reference peak above baseline MiB", ref_delta),
                                  ("reference baseline MiB", ref_base),
                                  ("process peak MiB", proc_peak)):  # fmt: skip
                med, lo, hi = stats(values)
                detail.append((tag, label, f"{med:.3f}", f"{lo:.3f}", f"{hi:.3f}"))
    print(f"end: {load()}")
    print(f"input: {args.case_dir.name} (uncompressed); oref: {oref} (gzipped) and its")
    print(f"gunzipped copy (plain); {args.repeat} alternated runs a side, medians")
    print(
        f"interpreter peak RSS: bare {bare_peak:.1f} MiB, after the imports {imports_peak:.1f} MiB"
    )
    print()
    table(("input", "cs0.e_s", "ref_s", "ref/cs0", "<=0.5", "cs0.e_MiB", "ref_MiB_above",
            "<=cs0", "process_s", "identical"), rows)  # fmt: skip
    print()
    table(("input", "cs0.e_s", "ref_inproc_s", "ratio", "process_s", "ratio",
            "peak_MiB_cs0/process", "load_after"), issue_rows)  # fmt: skip
    print()
    table(("input", "figure", "median", "min", "max"), detail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
