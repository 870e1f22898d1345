"""Live-calstis truth cases for CR rejection on synthetic data (marker: calstis; issue 4).

Each named case is one synthetic data set run over the cumulative ladder
(RAW, +DQICORR ... +FLATCORR) through cs0.e and the reference; every product
must agree exactly (DQ identical, SCI/ERR 0 ulp, keywords equal). The
synthetic CRREJTAB has three rows per CRSPLIT (MEANEXP 60 s: INITGUES
minimum, sigmas 5,4; 600 s: median, 6,5,4; above: median, 5,4, BADINPDQ 256),
so the three full-frame CRSPLIT cases pick one row each; the case checks the
row through the ``_crj`` header calstis wrote. The figures of every case
(n_differ, max ulp per product and extension) go to ``crcorr_cases.csv`` in a
temporary folder, or in ``$STISCHECK_TEST_REPORTS`` to keep them.
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck.synth import SynthParams
from tests.differential.synthetic_runs import compare_dataset, reports_dir, save_reproducer

pytestmark = pytest.mark.calstis

#: name -> (parameters, expected (INITGUES, CRSIGMAS) of the CRREJTAB row calstis picks).
CASES = {
    "full_cr2_minimum": (
        SynthParams(seed=201, amp="D", subarray=None, crsplit=2, exptime_s=100.0),
        ("minimum", "5,4"),
    ),
    "full_cr4_median": (
        SynthParams(seed=202, amp="A", gain=4, subarray=None, crsplit=4, exptime_s=1200.0),
        ("median", "6,5,4"),
    ),
    "full_cr8_median_badinpdq": (
        SynthParams(seed=203, amp="C", subarray=None, crsplit=8, exptime_s=8000.0, n_saturated=3),
        ("median", "5,4"),
    ),
    "cr_rate_x10": (
        SynthParams(seed=204, amp="B", subarray=None, crsplit=2, exptime_s=1000.0, cr_rate=12.0),
        ("median", "6,5,4"),
    ),
    "saturated_bleeding_stars": (
        SynthParams(
            seed=205, gain=4, subarray=None, crsplit=3, exptime_s=1800.0, n_saturated=25
        ),
        ("median", "6,5,4"),
    ),
    "spectroscopy_52x2": (
        SynthParams(
            seed=206, obstype="SPECTROSCOPIC", subarray=None, crsplit=3, exptime_s=1500.0,
            n_saturated=2,
        ),
        ("median", "6,5,4"),
    ),
    "binned_2x2": (
        SynthParams(seed=207, amp="A", gain=4, binning=(2, 2), subarray=None, crsplit=4,
                    exptime_s=2000.0),
        ("median", "6,5,4"),
    ),
    "binned_4x4_side1": (
        SynthParams(seed=208, binning=(4, 4), subarray=None, crsplit=3, exptime_s=3600.0,
                    expstart_mjd=51650.4, occdhtav_c=None, dropouts=2),
        ("median", "5,4"),
    ),
    "subarray_rows_201_100": (
        SynthParams(seed=209, amp="C", subarray=(201, 100), crsplit=4, exptime_s=2000.0,
                    aperture="F28X50LP"),
        ("median", "6,5,4"),
    ),
    "expscorr_full": (
        SynthParams(seed=210, subarray=None, crsplit=2, exptime_s=600.0, expscorr=True),
        ("median", "6,5,4"),
    ),
    "repeats_nrptexp4": (
        SynthParams(seed=211, amp="B", subarray=(400, 64), crsplit=1, nrptexp=4, exptime_s=400.0),
        ("median", "6,5,4"),
    ),
}  # fmt: skip


def _figures(name, result) -> list[dict]:
    rows = []
    for r in result.run.rows:
        if r["comparison"] != "reference-vs-calstis" or not r.get("extname"):
            continue
        rows.append(
            dict(
                case=name,
                configuration=r["configuration"],
                product=r["product"],
                extname=r["extname"],
                imset=r["imset"],
                verdict=r["verdict"],
                n_differ=r.get("n_differ", 0),
                max_ulp=r.get("max_ulp", 0),
                keywords_differ=r.get("keywords_differ", 0),
            )
        )
    return rows


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return reports_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def figures_file(reports):
    rows: list[dict] = []
    yield rows
    if rows:
        write_figures(rows, reports)


def write_figures(rows: list, reports: Path) -> Path:
    """Write the cases' figures to ``<reports>/crcorr_cases.csv``; return its path."""
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "crcorr_cases.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_crcorr_case_reference_equals_live_calstis(
    name, calstis_path, tmp_path, figures_file, reports
):
    params, (initgues, sigmas) = CASES[name]
    result = compare_dataset(params, calstis_path, tmp_path / name)
    figures_file.extend(_figures(name, result))
    crj_run = result.run.runs["CRCORR", "calstis"]
    if params.n_imsets >= 2:
        with fits.open(crj_run.products["crj"]) as crj:
            h = crj[0].header
            assert (h["INITGUES"].strip(), h["CRSIGMAS"].strip()) == (initgues, sigmas)
            assert h["REJ_RATE"] > 0 or params.cr_rate == 0
    final = result.run.runs["FLATCORR", "calstis"]
    product = "crj" if params.n_imsets >= 2 else "flt"
    # EXPSCORR is never updated by calstis (spec §1.6): it stays PERFORM.
    switches = {k: v for k, v in final.header_switches[product].items() if k != "EXPSCORR"}
    assert all(v in ("COMPLETE", "SKIPPED") for v in switches.values()), switches
    if params.expscorr:
        # The per-imset _flt keeps CRCORR = PERFORM and carries the CR flags (spec §1.6).
        assert final.header_switches["flt"]["CRCORR"] == "PERFORM"
        with fits.open(final.products["flt"]) as flt:
            assert any(np.count_nonzero(flt["DQ", k].data & 8192) for k in (1, 2))
    if not result.agree:
        bundle = save_reproducer(f"crcorr_{name}", result, calstis_path, reports)
        pytest.fail(f"{name}: reference and cs0.e differ\n{result.summary()}\nreproducer: {bundle}")
