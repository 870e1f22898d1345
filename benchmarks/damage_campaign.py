"""Damage campaign: many mutated inputs through reference, compare, diff and report, plus signals.

Not a test (nothing here runs in CI): a measurement of issue 21's acceptance
figures. Each input is a corpus file damaged one way (tests/support/mutate.py);
each run is classified by exit code and stderr, and checked for the failures
the issue lists: an internal error, a traceback, a multi-line error, an input
changed, a process left running, a ``.partial`` or half-written file under a
final name, a hang (past the per-run limit). It prints a table of classes x
outcome and writes it as CSV.

    python benchmarks/damage_campaign.py --n 2000 --out /tmp/campaign \\
        [--calstis /opt/hstcal/bin/cs0.e] [--compare-every 10] [--signals 5] [--full-disk]

``reference`` and ``diff`` run in this process (``stischeck.cli.main``), as the
fuzz tests do; ``compare`` (with live cs0.e when given) and the signal runs
are separate processes. ``--full-disk`` mounts a 3 MiB tmpfs (needs root) and
runs ``reference``, ``compare`` and ``diff --csv`` into it.
"""

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stischeck.cli import main  # noqa: E402
from stischeck.validate import PRIMARY_SCHEMA, SCI_SCHEMA  # noqa: E402
from tests.support import mutate  # noqa: E402

CASE = "img_ampB_g1_sub1060x48_cr1"
HOSTILE = (
    "NAN", "INF", "'abc'", "''", "1E30", "-1E30", "1E308", "-1", "0", "99999", "2.5",
    "T", "F", "123456789012345678901234567890", "'MAYBE'", "(1, 2)", "= 5", "'A B'",
)  # fmt: skip
PRIMARY_KEYS = (*PRIMARY_SCHEMA, "NAXIS", "BITPIX", "INSTRUME", "EXTEND", "FILENAME")
EXT_KEYS = (*SCI_SCHEMA, "NAXIS", "NAXIS1", "NAXIS2", "BITPIX", "EXTVER", "EXTNAME", "PIXVALUE")
EXT_KEYS += ("NPIX1", "NPIX2", "CD1_1", "CRPIX1")


IMAGE_SUFFIXES = ("bia", "drk", "pfl", "dfl", "lfl")
FULL_LADDER = "DQICORR,BLEVCORR,BIASCORR,CRCORR,DARKCORR,FLATCORR"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def classify(code, err: str, changed: bool, leftovers: list, partials: list, hung: bool) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip() and "warning: CR rejection" not in ln]
    if hung:
        return "HANG"
    if "internal error" in err:
        return "INTERNAL ERROR"
    if "Traceback" in err:
        return "TRACEBACK"
    if changed:
        return "INPUT CHANGED"
    if leftovers:
        return "PROCESS LEFT"
    if partials:
        return "PARTIAL FILE"
    if code not in (0, 1, 2):
        return f"exit {code}"
    if code == 2 and len(lines) != 1:
        return "exit 2, not one line"
    return {0: "exit 0", 1: "exit 1", 2: "exit 2, one line"}[code]


def children() -> list:
    """Live descendants of this process, but multiprocessing's resource tracker (it lives
    as long as this process, and ends with it)."""
    import psutil

    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != "zombie" and "resource_tracker" not in " ".join(p.cmdline()):
                out.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def leaked_semaphores(names: set) -> list:
    """Of these /dev/shm names, those that still exist and no process has mapped."""
    mapped = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            for line in maps.read_text().splitlines():
                if "/dev/shm/" in line:
                    mapped.add(line.rsplit("/", 1)[-1].split()[0])
        except OSError:
            pass
    return sorted(n for n in names if (Path("/dev/shm") / n).exists() and n not in mapped)


def run_in_process(argv: list) -> tuple:
    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    return code, err.getvalue()


def raw_mutation(rng: random.Random, data: bytes, lay) -> tuple:
    kind = rng.choice(["card", "card", "card", "delete", "header byte", "truncate", "data byte"])
    index = rng.randrange(min(len(lay.hdus), 4))
    keys = PRIMARY_KEYS if index == 0 else EXT_KEYS
    hdu = lay.hdus[index]
    if kind == "card":
        key, value = rng.choice(keys), rng.choice(HOSTILE)
        return f"card {key}", mutate.set_card(data, lay, index, key, value)
    if kind == "delete":
        key = rng.choice(keys)
        return f"delete {key}", mutate.delete_card(data, lay, index, key)
    if kind == "header byte":
        offset = rng.randrange(hdu.start, hdu.data_start)
        return "header byte", mutate.flip(data, offset, rng.choice([0, 9, 0x27, 0x3D, 0xE9, 0xFF]))
    if kind == "data byte":
        last = lay.hdus[-1]
        offset = rng.randrange(lay.hdus[1].data_start, last.end)
        return "data byte", mutate.flip(data, offset, rng.randrange(256))
    return "truncate", mutate.truncate(data, rng.random())


def family(name: str) -> str:
    """The class of a mutation for the table (card keyword classes folded)."""
    if name.startswith("card "):
        return "card value"
    if name.startswith("delete "):
        return "card removed"
    return name


def campaign(args) -> None:
    corpus = Path(args.corpus)
    folder = corpus / CASE
    raw = next(folder.glob("*_raw.fits*"))
    name = raw.name.split(".fits")[0] + ".fits"
    data = mutate.load(raw)
    lay = mutate.layout(data)
    product = mutate.load(next((folder / "DQICORR").glob("*_flt.fits*")))
    player = mutate.layout(product)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    table = defaultdict(Counter)
    examples = {}
    rows = []
    shm_before = {p.name for p in Path("/dev/shm").iterdir()}

    def record(command, cls, outcome, detail=""):
        table[(command, cls)][outcome] += 1
        rows.append(dict(command=command, cls=cls, outcome=outcome, detail=detail[:300]))
        if outcome not in ("exit 0", "exit 1", "exit 2, one line"):
            examples.setdefault((command, cls, outcome), detail[:300])

    t0 = time.monotonic()
    for k in range(args.n):
        work = out / f"in{k}"
        work.mkdir()
        which = rng.random()
        if which < 0.55:  # a damaged raw file through reference (and sometimes compare)
            cls, bad = raw_mutation(rng, data, lay)
            path = work / name
            path.write_bytes(bad)
            before = sha(path)
            t = time.monotonic()
            code, err = run_in_process(
                ["reference", str(path), "--oref", str(folder / "oref"), "--outroot", f"{work}/o/"]
            )
            hung = time.monotonic() - t > args.limit
            partials = [str(p) for p in work.rglob("*.partial-*")]
            outcome = classify(code, err, sha(path) != before, children(), partials, hung)
            record("reference", family(cls), outcome, f"{cls}: {err.strip()}")
            if args.calstis and k % args.compare_every == 0:
                compare_run(args, path, folder / "oref", work, family(cls), record)
        elif which < 0.75:  # a damaged reference file
            oref = work / "oref"
            shutil.copytree(folder / "oref", oref)
            target = rng.choice(sorted(oref.iterdir()))
            rdata = mutate.load(target)
            rlay = mutate.layout(rdata)
            index = min(1, len(rlay.hdus) - 1)
            suffix = target.name.split(".")[0].rsplit("_", 1)[-1]
            kinds = ["card", "delete", "byte", "truncate"]
            kinds += ["non-finite pixels"] * 2 if suffix in IMAGE_SUFFIXES else []
            kinds += ["non-finite column"] * 2 if suffix == "ccd" else []
            kind = rng.choice(kinds)
            key = rng.choice(
                ("NAXIS1", "NAXIS2", "NAXIS", "BITPIX", "TFIELDS", "TFORM1", "EXTNAME")
            )
            if kind == "card":
                rdata = mutate.set_card(rdata, rlay, index, key, rng.choice(HOSTILE))
            elif kind == "delete":
                rdata = mutate.delete_card(rdata, rlay, index, key)
            elif kind == "byte":
                rdata = mutate.flip(rdata, rng.randrange(len(rdata)), rng.randrange(256))
            elif kind == "truncate":
                rdata = mutate.truncate(rdata, rng.random())
            else:
                rdata = non_finite(rdata, rng)
            target.unlink()
            target = target.with_name(target.name.removesuffix(".gz"))
            target.write_bytes(rdata)
            path = work / name
            on = mutate.set_card(data, lay, 0, "BIASCORR", "'PERFORM '")
            path.write_bytes(mutate.set_card(on, lay, 0, "DARKCORR", "'PERFORM '"))
            before = sha(target)
            t = time.monotonic()
            code, err = run_in_process(
                ["reference", str(path), "--oref", str(oref), "--outroot", f"{work}/o/"]
            )
            hung = time.monotonic() - t > args.limit
            partials = [str(p) for p in work.rglob("*.partial-*")]
            outcome = classify(code, err, sha(target) != before, children(), partials, hung)
            cls = f"reference file _{suffix} {kind}"
            if kind.startswith("non-finite") and code != 2 and outcome == f"exit {code}":
                outcome = "NOT REFUSED"  # the rule: a damaged reference file is one line, exit 2
            record("reference", cls, outcome, err.strip())
            if args.calstis and kind.startswith("non-finite"):
                compare_run(args, path, oref, work, cls, record, steps=FULL_LADDER)
        else:  # diff of a damaged product against the stored one
            cls, bad = raw_mutation(rng, product, player)
            path = work / "damaged_flt.fits"
            path.write_bytes(bad)
            before = sha(path)
            good = work / "good_flt.fits"
            good.write_bytes(product)
            t = time.monotonic()
            code, err = run_in_process(["diff", str(good), str(path), "--csv", f"{work}/t.csv"])
            hung = time.monotonic() - t > args.limit
            partials = [str(p) for p in work.rglob("*.partial-*")]
            if code == 2 and (work / "t.csv").exists():
                partials.append("t.csv written on exit 2")
            outcome = classify(code, err, sha(path) != before, children(), partials, hung)
            record("diff", family(cls), outcome, f"{cls}: {err.strip()}")
        shutil.rmtree(work, ignore_errors=True)
        if (k + 1) % 100 == 0:
            print(f"  {k + 1}/{args.n} inputs, {time.monotonic() - t0:.0f} s", file=sys.stderr)

    report_runs(args, folder, out, record)
    if args.signals:
        signal_runs(args, folder, out, record)
    if args.full_disk:
        full_disk_runs(args, folder, out, record)
    shm_left = leaked_semaphores({p.name for p in Path("/dev/shm").iterdir()} - shm_before)
    print_table(table, examples, out, rows, shm_left)


def non_finite(data: bytes, rng: random.Random) -> bytes:
    """A reference image with NaN or infinite pixels, or a CCDTAB with a NaN/Inf column value."""
    from astropy.io import fits

    value = rng.choice([np.nan, np.inf, -np.inf])
    with fits.open(io.BytesIO(data)) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    if isinstance(hdul[1], fits.BinTableHDU):
        column = rng.choice(["ATODGAIN", "READNSE", "CCDBIAS"])
        hdul[1].data[column][rng.randrange(len(hdul[1].data))] = value
    else:
        extension = rng.choice(["SCI", "SCI", "ERR"])
        pixels = hdul[extension, 1].data
        if pixels is None:
            extension, pixels = "SCI", hdul["SCI", 1].data
        step = rng.randrange(1, 200)
        pixels.reshape(-1)[rng.randrange(step) :: step] = value
    buffer = io.BytesIO()
    hdul.writeto(buffer)
    return buffer.getvalue()


def compare_run(args, path, oref, work, cls, record, steps="DQICORR"):
    cmd = [sys.executable, "-m", "stischeck.cli", "compare", str(path), "--oref", str(oref),
           "--calstis", args.calstis, "--steps", steps, "--no-html", "--steplocal", "never",
           "--timeout", "120", "--outdir", str(work / "cmp")]  # fmt: skip
    before = sha(path)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.limit + 120)
        code, err, hung = done.returncode, done.stderr, False
    except subprocess.TimeoutExpired as stop:
        code, err, hung = None, (stop.stderr or b"").decode(), True
    partials = (
        [str(p) for p in (work / "cmp").rglob("*.partial-*")] if (work / "cmp").exists() else []
    )
    if code == 0 and not (work / "cmp" / "summary.json").exists():
        partials.append("exit 0 without summary.json")
    outcome = classify(code, err, sha(path) != before, children(), partials, hung)
    if "non-finite" in cls and outcome in ("exit 0", "exit 1"):
        outcome = "FALSE AGREEMENT" if code == 0 else "FALSE DIFFERENCE"
    record("compare (live cs0.e)", cls, outcome, err.strip())


def report_runs(args, folder, out, record):
    """report on complete, truncated and interrupted compare folders."""
    work = out / "report"
    work.mkdir(exist_ok=True)
    raw = next(folder.glob("*_raw.fits*"))
    base = work / "base"
    code, err = run_in_process(
        ["compare", str(raw), "--oref", str(folder / "oref"), "--truth", str(folder),
         "--no-calstis", "--steps", "DQICORR", "--no-html", "--outdir", str(base)]
    )  # fmt: skip
    if code != 0:
        record("report", "setup", f"compare exit {code}", err)
        return
    rng = random.Random(args.seed + 1)
    for k in range(args.report_n):
        folder_k = work / f"r{k}"
        shutil.copytree(base, folder_k)
        table = rng.choice(["verdicts.csv", "runs.csv", "statistics.csv", "summary.json"])
        text = (folder_k / table).read_bytes()
        (folder_k / table).write_bytes(text[: rng.randrange(len(text))])
        code, err = run_in_process(["report", str(folder_k)])
        outcome = classify(code, err, False, children(), [], False)
        if code == 0:
            outcome = "TRUNCATED FOLDER REPORTED"
        record("report", f"truncated {table}", outcome, err.strip())
        shutil.rmtree(folder_k)


def signal_runs(args, folder, out, record):
    """compare with a hanging cs0.e, then each signal; everything must end at once."""
    import psutil

    raw = next(folder.glob("*_raw.fits*"))
    fake = out / "hang" / "cs0.e"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(600)\n")
    fake.chmod(0o755)
    for sig in ("SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"):
        for k in range(args.signals):
            outdir = out / "hang" / f"{sig}-{k}"
            proc = subprocess.Popen(
                [sys.executable, "-m", "stischeck.cli", "compare", str(raw), "--oref",
                 str(folder / "oref"), "--calstis", str(fake), "--no-html",
                 "--outdir", str(outdir)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            kids = []
            while time.monotonic() < deadline:
                try:
                    kids = psutil.Process(proc.pid).children(recursive=True)
                except psutil.NoSuchProcess:
                    break
                if any("cs0.e" in " ".join(c.cmdline()) for c in kids if c.is_running()):
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            kids = psutil.Process(proc.pid).children(recursive=True)
            # The semaphores this run holds: mapped by stischeck or one of its children.
            shm = set()
            for pid in [proc.pid, *(c.pid for c in kids)]:
                with contextlib.suppress(OSError):
                    text = Path(f"/proc/{pid}/maps").read_text()
                    shm |= {ln.rsplit("/", 1)[-1] for ln in text.splitlines() if "/dev/shm/" in ln}
            signum = getattr(signal, sig)
            t = time.monotonic()
            if sig == "SIGINT":
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)
            try:
                _, err = proc.communicate(timeout=30)
                hung = False
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                hung = True
            waited = time.monotonic() - t
            time.sleep(1.0)
            time.sleep(1.0)
            left_sems = sorted(n for n in shm if (Path("/dev/shm") / n).exists())
            left = [c.pid for c in kids if c.is_running() and c.status() != "zombie"]
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            err = err.decode()
            marker = outdir / ".stischeck-outdir.json"
            status = json.loads(marker.read_text())["status"] if marker.exists() else "none"
            if hung:
                outcome = "HANG"
            elif left_sems:
                outcome = "SEMAPHORE LEFT"
            elif left:
                outcome = "PROCESS LEFT"
            elif "Traceback" in err:
                outcome = "TRACEBACK"
            elif (outdir / "summary.json").exists():
                outcome = "SUMMARY WRITTEN"
            elif sig != "SIGKILL" and err.strip() != "stischeck: interrupted" + (
                "" if sig == "SIGINT" else f" ({sig})"
            ):
                outcome = "other words"
            else:
                outcome = f"stopped, children gone, marker {status}"
            record("compare + signal", sig, outcome, f"{waited:.1f} s; {err.strip()}")


def full_disk_runs(args, folder, out, record):
    """reference, compare and diff --csv into a 4 MiB tmpfs with little room left (root only)."""
    mnt = out / "full"
    mnt.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        record("full disk", "mount", "NOT RUN", done.stderr.strip())
        return
    try:
        raw = next(folder.glob("*_raw.fits*"))
        flt = next((folder / "FLATCORR").glob("*_flt.fits*"))
        other = next((folder / "DQICORR").glob("*_flt.fits*"))
        room = [2_000, 20_000, 60_000, 150_000, 300_000, 600_000, 1_000_000, 1_500_000, 3_000_000]
        for k in range(args.full_disk):
            free = room[k % len(room)]
            cases = {
                "reference": ["reference", str(raw), "--oref", str(folder / "oref"),
                              "--outroot", f"{mnt}/ref/"],
                "compare": ["compare", str(raw), "--oref", str(folder / "oref"), "--truth",
                            str(folder), "--no-calstis", "--steps", "DQICORR", "--outdir",
                            str(mnt / "cmp")],
                "diff --csv": ["diff", str(flt), str(other), "--csv", str(mnt / "t.csv")],
            }  # fmt: skip
            for what, argv in cases.items():
                (mnt / "ref").mkdir(exist_ok=True)
                filler = mnt / "filler"
                stat = os.statvfs(mnt)
                filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - free))
                code, err = run_in_process(argv)
                partials = [str(p) for p in mnt.rglob("*.partial-*")]
                outcome = classify(code, err, False, children(), partials, False)
                if code == 0 and what == "compare" and not (mnt / "cmp" / "summary.json").exists():
                    outcome = "SUCCESS WITHOUT SUMMARY"
                if code == 2 and what == "reference" and any((mnt / "ref").iterdir()):
                    outcome = "PRODUCT LEFT ON EXIT 2"
                if code == 2 and what == "diff --csv" and (mnt / "t.csv").exists():
                    outcome = "CSV LEFT ON EXIT 2"
                summary = mnt / "cmp" / "summary.json"
                if what == "compare" and summary.exists():
                    verdict = json.loads(summary.read_text())["verdict"]
                    if (verdict == "agree") != (code == 0):
                        outcome = f"SUMMARY SAYS {verdict} ON EXIT {code}"
                record("full disk", f"{what} ({free // 1000} kB free)", outcome, err.strip())
                for p in mnt.iterdir():
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def print_table(table, examples, out, rows, shm_left):
    import csv

    outcomes = sorted({o for c in table.values() for o in c})
    with (out / "campaign.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["command", "cls", "outcome", "detail"])
        writer.writeheader()
        writer.writerows(rows)
    print("| command | class | " + " | ".join(outcomes) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in outcomes) + " |")
    for (command, cls), counts in sorted(table.items()):
        cells = " | ".join(str(counts.get(o, "")) for o in outcomes)
        print(f"| {command} | {cls} | {cells} |")
    total = Counter()
    for counts in table.values():
        total.update(counts)
    print(f"\ntotal runs {sum(total.values())}: " + ", ".join(f"{o} {n}" for o, n in total.items()))
    print(f"new /dev/shm entries no process maps (leaked): {len(shm_left)} {shm_left[:5]}")
    for key, detail in sorted(examples.items()):
        print(f"  example {key}: {detail}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--out", default="/tmp/stischeck-campaign")
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "calstis-corpus"))
    parser.add_argument("--calstis")
    parser.add_argument("--compare-every", type=int, default=10)
    parser.add_argument("--report-n", type=int, default=50)
    parser.add_argument("--signals", type=int, default=0)
    parser.add_argument("--full-disk", type=int, default=0, metavar="N")
    parser.add_argument("--limit", type=float, default=120.0, help="a run longer is a hang")
    parser.add_argument("--seed", type=int, default=21)
    campaign(parser.parse_args())
