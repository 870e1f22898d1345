"""Run a synthetic data set through both sides and keep a reproducer when they disagree.

`compare_dataset` writes the data set (stischeck.synth), runs the cumulative
ladder (RAW, +DQICORR ... +FLATCORR) through live cs0.e and the in-process
reference (`run_both_sides`: the compare service, exact policy: SCI/ERR 0
ulp, DQ identical, keywords equal) and returns the rows that are not
identical. `save_reproducer` copies the raw file, ``oref/``, each
configuration's switches, both products and the exact commands into
``<reports>/repro/<test>-<hash>/``, where ``<reports>`` is `reports_dir`: a
temporary folder, or ``$STISCHECK_TEST_REPORTS`` when the figures are to be kept.
"""

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from astropy.io import fits

from stischeck.compare import service
from stischeck.config import cumulative_sequence
from stischeck.synth import SynthParams, write_dataset

#: Where the hunts' logs, figures and reproducers are kept (else a temporary folder).
KEEP_ENV = "STISCHECK_TEST_REPORTS"


def reports_dir(tmp_path_factory) -> Path:
    """``$STISCHECK_TEST_REPORTS`` if set (created), else a temporary folder of this session."""
    kept = os.environ.get(KEEP_ENV)
    if kept:
        path = Path(kept)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.getbasetemp() / "reports"


_KEEP = ("configuration", "product", "extname", "imset", "verdict", "n_differ", "max_ulp",
         "dq_bits", "detail")  # fmt: skip


@dataclass
class SyntheticComparison:
    """What one data set gave: the disagreeing rows and where everything is."""

    params: SynthParams
    workdir: Path
    raw: Path
    oref: Path
    run: object
    bad: list = field(default_factory=list)
    wall_s: float = 0.0
    #: Rows explained by a documented calstis crash (see `null_dq_crash_expected`).
    known: list = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return not self.bad

    def statuses(self) -> dict:
        """Configuration -> {product suffix: {switch: value}} of calstis's products."""
        out = {}
        for (config, side), outcome in self.run.runs.items():
            if side == "calstis":
                out[config] = outcome.header_switches
        return out

    def summary(self) -> str:
        lines = []
        for r in self.bad:
            lines.append(
                "  " + ", ".join(f"{k}={r.get(k)!r}" for k in _KEEP if r.get(k) not in (None, ""))
            )
        return "\n".join(lines)


def params_hash(params: SynthParams) -> str:
    text = json.dumps(params.to_dict(), sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def compare_dataset(params: SynthParams, calstis: Path, workdir: Path) -> SyntheticComparison:
    """Write ``params``'s data set into ``workdir`` and compare the two sides over the ladder."""
    t0 = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    paths = write_dataset(params, workdir / "data")
    run = run_both_sides(paths, calstis, workdir)
    bad = [
        {k: r.get(k) for k in _KEEP}
        for r in run.rows
        if r["comparison"] == "reference-vs-calstis" and r["verdict"] not in ("identical", "empty")
    ]
    known = []
    if null_dq_crash_expected(params, run):
        known = [r for r in bad if r["configuration"] in _CR_RUNGS and _segfault(r)]
        bad = [r for r in bad if r not in known]
        crashed = {r["configuration"] for r in known}
        for rung in sorted(set(_CR_RUNGS) - crashed):
            bad.append(
                dict.fromkeys(_KEEP)
                | {
                    "configuration": rung,
                    "verdict": "error",
                    "detail": "expected the null-DQ crash",
                }
            )
    return SyntheticComparison(
        params, workdir, paths.raw, paths.oref, run, bad, time.perf_counter() - t0, known
    )


def run_both_sides(paths, calstis: Path, workdir: Path, steps=None):
    """
    Compare the in-process reference with live cs0.e on a written data set.

    The one compare service (`stischeck.compare.service`) runs it, as the CLI
    does: the exact policy, no step-local runs, the reference in this process.

    Parameters
    ----------
    paths : DatasetPaths
        What `write_dataset` wrote (``raw``, ``oref``).
    calstis : Path
        cs0.e.
    workdir : Path
        The comparison goes into ``workdir/compare``.
    steps : list of str, optional
        Configurations as ``--steps`` names them; default the cumulative ladder.

    Returns
    -------
    CompareRun
        The engine's run: ``rows`` and ``runs`` (each side's products).
    """
    plan = service.plan_comparison(paths.raw, oref=paths.oref, selection={"steps": steps})
    outcome = service.compare_dataset(
        plan, workdir / "compare", calstis=calstis, steplocal="never", reference_processes=0
    )
    return outcome.run


#: Ladder rungs that run calstis2 (CR rejection).
_CR_RUNGS = ("CRCORR", "DARKCORR", "FLATCORR")


def _segfault(row) -> bool:
    return row["verdict"] == "error" and "SIGSEGV" in str(row.get("detail") or "")


def null_dq_crash_expected(params: SynthParams, run) -> bool:
    """
    True when cs0.e is known to crash in calstis2 on this data set.

    calstis2 reads each input imset's DQ through an hstio descriptor from
    ``openInputImage``, which never sets the descriptor's header; for a null
    DQ extension (an imset whose DQ is all 0, which calstis1 writes as
    ``NAXIS = 0`` + ``PIXVALUE``) ``getShortData`` looks PIXVALUE up with
    ``findKw(NULL, ...)`` and cs0.e dies with SIGSEGV. Only the sky
    computation reads the whole DQ that way (``crrej_sky``, SKYSUB = mode;
    spectroscopic data force SKYSUB none). hstcal ``pkg/stis/lib/cs2/crrej_sky.c``,
    ``crrej_check.c``; ``hstio/hstio.c`` (``openInputImage``, ``getShortData``).
    """
    if params.obstype != "IMAGING" or params.skysub != "mode" or params.n_imsets < 2:
        return False
    part_a = run.runs.get(("BIASCORR", "reference"))
    if part_a is None or "flt" not in part_a.products:
        return False
    with fits.open(part_a.products["flt"]) as hdul:
        return any(
            h.header.get("EXTNAME") == "DQ" and h.header["NAXIS"] == 0 and h.header["PIXVALUE"] == 0
            for h in hdul[1:]
        )


def log_example(test: str, result: SyntheticComparison, reports: Path) -> None:
    """Append one line per example to ``<reports>/differential/<test>.jsonl`` (the figures)."""
    log_dir = reports / "differential"
    log_dir.mkdir(parents=True, exist_ok=True)
    line = {
        "params": result.params.to_dict(),
        "hash": params_hash(result.params),
        "agree": result.agree,
        "n_bad_rows": len(result.bad),
        "known_calstis_crash": len(result.known),
        "bad": result.bad[:20],
        "wall_s": round(result.wall_s, 2),
    }
    with (log_dir / f"{test}.jsonl").open("a") as f:
        f.write(json.dumps(line, default=str) + "\n")


def save_reproducer(test: str, result: SyntheticComparison, calstis: Path, reports: Path) -> Path:
    """Copy everything needed to replay a disagreement into ``reports``; return the bundle."""
    bundle = reports / "repro" / f"{test}-{params_hash(result.params)}"
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    shutil.copy2(result.raw, bundle / result.raw.name)
    shutil.copytree(result.oref, bundle / "oref")
    (bundle / "params.json").write_text(json.dumps(result.params.to_dict(), indent=1) + "\n")
    (bundle / "differences.json").write_text(json.dumps(result.bad, indent=1, default=str) + "\n")
    commands = [
        "# Reproduce: the data set, then each configuration on both sides, then the diff.",
        "python -c 'import json; from stischeck.synth import SynthParams, write_dataset; "
        'write_dataset(SynthParams.from_dict(json.load(open("params.json"))), "data")\'',
    ]
    root = result.raw.name[: -len("_raw.fits")]
    for config in cumulative_sequence(fits.getheader(result.raw)):
        cdir = bundle / config.name
        for side in ("calstis", "reference"):
            src = result.workdir / "compare" / "runs" / config.name / side
            if src.exists():
                shutil.copytree(src, cdir / side)
        (cdir).mkdir(exist_ok=True)
        (cdir / "switches.json").write_text(json.dumps(config.switch_dict, indent=1) + "\n")
        suffixes = sorted(
            p.name.split("_")[-1][:3] for p in (cdir / "calstis" / "out").glob("*.fits")
        )
        commands += [
            "",
            f"# {config.name}: switches in {config.name}/switches.json",
            f"stischeck compare {result.raw.name} --oref oref --steps {config.name} "
            f"--outdir {config.name}/compare --calstis {calstis}",
            f"# or by hand: {config.name}/calstis/{root}_raw.fits carries those switches",
            f"(cd {config.name}/calstis && rm -rf out && mkdir out && oref=$PWD/../../oref/ "
            f"{calstis} {root}_raw.fits out/)",
            f"stischeck reference {config.name}/calstis/{root}_raw.fits --oref oref "
            f"--outroot {config.name}/reference/ --overwrite",
        ]
        commands += [
            f"stischeck diff {config.name}/reference/{root}_{sfx}.fits "
            f"{config.name}/calstis/out/{root}_{sfx}.fits"
            for sfx in suffixes
        ]
    (bundle / "COMMANDS.sh").write_text("\n".join(commands) + "\n")
    return bundle
