"""Compare folders to render: the bundled demo (no calstis, no corpus), a wrong step, a tiny one."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.support.standins import off_by_one_bias

ROOT = "tiny00010"


def demo_dir() -> Path:
    from stischeck.commands.demo import demo_dir as find

    path = find()
    if not (path / "manifest.json").is_file():
        pytest.skip(f"bundled demo data missing ({path})")
    return path


def run_compare_in_process(raw, oref, truth, outdir, *, calstis=None):
    """stischeck compare as the CLI runs it (the compare service), the reference in this process.

    ``reference_processes=0`` runs the reference in the calling process, so a
    monkeypatched ``reference_impl.pipeline`` takes effect; returns the summary.
    """
    from stischeck.compare.service import compare_dataset, plan_comparison

    plan = plan_comparison(raw, oref=oref, truth=truth)
    outcome = compare_dataset(plan, outdir, calstis=calstis, jobs=1, reference_processes=0)
    return outcome.summary


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory):
    """The bundled demo compared with its stored truth (reference vs truth), with report.html."""
    from stischeck.report import write_report

    data = demo_dir()
    raw = next(data.glob("*_raw.fits*"))
    out = tmp_path_factory.mktemp("demo")
    run_compare_in_process(raw, data / "oref", data, out)
    write_report(out)
    return out


@pytest.fixture(scope="session")
def wrong_step_folder(tmp_path_factory):
    """The demo with the reference's BIASCORR off by one DN, with report.html."""
    from stischeck.report import write_report

    data = demo_dir()
    raw = next(data.glob("*_raw.fits*"))
    out = tmp_path_factory.mktemp("wrong")
    with pytest.MonkeyPatch.context() as mp:
        off_by_one_bias(mp)
        summary = run_compare_in_process(raw, data / "oref", data, out)
    assert summary["first_divergent"] == "BIASCORR", summary
    write_report(out)
    return out


# --------------------------------------------------------------------------- a tiny folder


def _write_product(path: Path, imsets, *, ltv=(0.0, 0.0), primary=None, raw=False) -> None:
    from astropy.io import fits

    path.parent.mkdir(parents=True, exist_ok=True)
    hdus = [fits.PrimaryHDU()]
    hdus[0].header["NEXTEND"] = 3 * len(imsets)
    hdus[0].header["ROOTNAME"] = ROOT
    hdus[0].header["DETECTOR"] = "CCD"
    if not raw:
        hdus[0].header["ATODGAIN"] = 2.0
        hdus[0].header["READNSE"] = 6.0
    for key, value in (primary or {}).items():
        hdus[0].header[key] = value
    for k, (sci, err, dq) in enumerate(imsets, start=1):
        if raw:
            h = fits.ImageHDU(np.asarray(sci, np.uint16), name="SCI", ver=k)
        else:
            h = fits.ImageHDU(np.asarray(sci, np.float32), name="SCI", ver=k)
        h.header["LTV1"], h.header["LTV2"] = ltv
        h.header["EXPTIME"] = 100.0
        hdus.append(h)
        hdus.append(fits.ImageHDU(np.asarray(err, np.float32), name="ERR", ver=k))
        hdus.append(fits.ImageHDU(np.asarray(dq, np.int16), name="DQ", ver=k))
    fits.HDUList(hdus).writeto(path, overwrite=True)


def make_tiny_folder(root: Path, *, calstis_error: bool = False) -> Path:
    """
    A compare folder written by hand: RAW, DQICORR, BLEVCORR on a 24 x 16 frame with overscan.

    The raw is 32 x 16 with 4 overscan columns each side (LTV1 = 4); BLEVCORR
    trims them (LTV1 = 0) and subtracts 100 DN. The reference's BLEVCORR
    differs from calstis's by +0.5 DN at one pixel, FITS [3, 5].
    """
    import pandas as pd

    rng = np.random.default_rng(7)
    raw = np.round(100 + rng.normal(0, 3, (2, 16, 32))).clip(0)
    raw[:, 10, 12] = 5000.0
    zeros = np.zeros((16, 32))
    for side in ("calstis", "reference"):
        for config in ("RAW", "DQICORR", "BLEVCORR"):
            _write_product(
                root / "runs" / config / side / f"{ROOT}_raw.fits",
                [(r, zeros, zeros) for r in raw],
                ltv=(4.0, 0.0),
                raw=True,
            )
    products = {}
    for side in ("calstis", "reference"):
        base = root / "runs" / "DQICORR" / side / ("out" if side == "calstis" else "")
        dq = np.zeros((16, 32))
        dq[10, 12] = 256
        _write_product(
            base / f"{ROOT}_flt.fits", [(r, np.full_like(r, 3.0), dq) for r in raw], ltv=(4.0, 0.0)
        )
        trimmed = raw[:, :, 4:28] - 100.0
        if side == "reference":
            trimmed = trimmed.copy()
            trimmed[0, 4, 2] += 0.5
        base = root / "runs" / "BLEVCORR" / side / ("out" if side == "calstis" else "")
        if not (calstis_error and side == "calstis"):
            _write_product(
                base / f"{ROOT}_flt.fits",
                [(t, np.full_like(t, 3.0), dq[:, 4:28]) for t in trimmed],
            )
        products[side] = base
    for side in ("calstis", "reference"):
        (root / "runs" / "BLEVCORR" / side).mkdir(parents=True, exist_ok=True)
        name = "cs0.trl" if side == "calstis" else "reference.log"
        (root / "runs" / "BLEVCORR" / side / name).write_text(f"{side} trailer text\n")

    def rel(config, side):
        sub = "out/" if side == "calstis" else ""
        return f"runs/{config}/{side}/{sub}{ROOT}_flt.fits"

    runs = []
    for config in ("RAW", "DQICORR", "BLEVCORR"):
        for side in ("calstis", "reference"):
            error = calstis_error and side == "calstis" and config == "BLEVCORR"
            runs.append(
                dict(
                    configuration=config,
                    side=side,
                    status="empty" if config == "RAW" else ("error" if error else "ok"),
                    message="cs0.e crashed on tiny00010_raw.fits (killed by SIGSEGV)"
                    if error
                    else "",
                    returncode=0,
                    wall_s=0.1,
                    peak_rss_mib=50.0,
                    products="" if config == "RAW" or error else rel(config, side),
                    trailer=f"runs/{config}/{side}/"
                    + ("cs0.trl" if side == "calstis" else "reference.log")
                    if config == "BLEVCORR"
                    else "",
                )
            )
    pd.DataFrame(runs).to_csv(root / "runs.csv", index=False)
    switches = ("DQICORR", "BLEVCORR", "BIASCORR")
    pd.DataFrame(
        [
            dict(configuration="RAW", **{s: "OMIT" for s in switches}),
            dict(configuration="DQICORR", DQICORR="PERFORM", BLEVCORR="OMIT", BIASCORR="OMIT"),
            dict(configuration="BLEVCORR", DQICORR="PERFORM", BLEVCORR="PERFORM", BIASCORR="OMIT"),
        ]
    ).to_csv(root / "configurations.csv", index=False)
    base = dict(comparison="reference-vs-calstis", n_differ=0, max_ulp=0, max_abs_diff=0.0)
    verdicts = [
        dict(configuration="RAW", comparison="reference-vs-calstis", verdict="empty",
             detail="no switch on: neither side writes a product"),
    ]  # fmt: skip
    for ext in ("SCI", "ERR", "DQ"):
        for imset in (1, 2):
            verdicts.append(
                dict(base, configuration="DQICORR", product="flt", extname=ext, imset=imset,
                     verdict="identical")
            )  # fmt: skip
    if calstis_error:
        verdicts.append(
            dict(configuration="BLEVCORR", comparison="reference-vs-calstis", verdict="error",
                 detail="cs0.e crashed on tiny00010_raw.fits (killed by SIGSEGV)")
        )  # fmt: skip
    else:
        for ext in ("SCI", "ERR", "DQ"):
            for imset in (1, 2):
                row = dict(base, configuration="BLEVCORR", product="flt", extname=ext,
                           imset=imset, verdict="identical")  # fmt: skip
                if ext == "SCI" and imset == 1:
                    row.update(verdict="differ", n_differ=1, max_ulp=4194304, max_abs_diff=0.5,
                               worst_x=3, worst_y=5)  # fmt: skip
                verdicts.append(row)
    pd.DataFrame(verdicts).to_csv(root / "verdicts.csv", index=False)
    pd.DataFrame(
        [
            dict(configuration="DQICORR", comparison="reference-vs-calstis", product="flt",
                 extname="DQ", imset=k, statistic=stat, bit=256, bit_name="SATPIXEL",
                 value=value)
            for k in (1, 2)
            for stat, value in (("bit_only_a", 0), ("bit_only_b", 0), ("bit_both", 1))
        ]
    ).to_csv(root / "statistics.csv", index=False)  # fmt: skip
    first = None if calstis_error else "BLEVCORR"
    summary = dict(
        verdict="error" if calstis_error else "differ",
        exit_code=2 if calstis_error else 1,
        primary_comparison="reference-vs-calstis",
        configurations={
            "RAW": {"reference-vs-calstis": "empty"},
            "DQICORR": {"reference-vs-calstis": "identical"},
            "BLEVCORR": {"reference-vs-calstis": "error" if calstis_error else "differ"},
        },
        first_divergent="BLEVCORR" if calstis_error else first,
        attribution={"RAW": "agree", "DQICORR": "agree", "BLEVCORR": "this step"},
    )
    (root / "summary.json").write_text(json.dumps(summary))
    provenance = dict(
        stischeck="0.1.0",
        calstis=dict(path="/opt/hstcal/bin/cs0.e", version="3.5.0"),
        libraries=dict(stistools="1.4.9", numpy="2"),
        raw=dict(path=f"/nowhere/{ROOT}_raw.fits", sha256="ab" * 32, rootname=ROOT),
        policy=dict(label="exact v1", source="exact.toml"),
        reference_files={},
        wall_s=1.0,
    )
    (root / "provenance.json").write_text(json.dumps(provenance))
    (root / "summary.txt").write_text("tiny\n")
    return root


@pytest.fixture
def tiny_folder(tmp_path):
    return make_tiny_folder(tmp_path / "tiny")
