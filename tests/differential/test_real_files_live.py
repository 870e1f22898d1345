"""Real STIS raw files and real-header cases against the live cs0.e (marker: calstis).

The eleven real target acquisitions (tests/data/tastis, OBSMODE ACQ and
ACQ/PEAK, imsets of 100x100, 100x100 and 30x30 or one 32x32/1022x32 imset and a
PEAKUP table): with their own switches (all OMIT) cs0.e writes nothing and exits
0 ("No calibration switch was set to PERFORM"); with DQICORR or BLEVCORR set to
PERFORM it calibrates them like any CCD exposure. The reference must do the same,
bit for bit, headers included. The real-header set (tests/data/realheaders) is
rerun on the live cs0.e, tile-compressed references included.
"""

import json
from pathlib import Path

import pytest
from astropy.io import fits

from reference_impl.io.products import product_path, write_product
from reference_impl.io.rawfile import read_raw
from reference_impl.pipeline import calibrate
from stischeck.diff import diff_products
from stischeck.diff.summary import format_summary
from stischeck.runners.calstis import run_calstis
from tests.support.realheaders import TASTIS, acq_oref
from tests.unit.test_product_writer import header_cards

ACQ = sorted(TASTIS.glob("*_raw.fits"))
REALHEADERS = Path(__file__).resolve().parents[1] / "data" / "realheaders"
CASES = sorted(p for p in REALHEADERS.iterdir() if (p / "manifest.json").is_file())


def _with_switches(src: Path, dest: Path, switches: dict) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with fits.open(src) as hdul:
        for key, value in switches.items():
            hdul[0].header[key] = value
        hdul.writeto(dest)
    return dest


def _assert_same_products(raw: Path, oref: Path, live, tmp_path: Path, step: str) -> None:
    exposure = read_raw(raw)
    result = calibrate(exposure, oref_dir=oref)
    assert sorted(p.suffix for p in result.products) == sorted(live.products)
    for product in result.products:
        ours = write_product(
            product, exposure.primary_header, product_path(raw, f"{tmp_path}/ref/", product.suffix)
        )
        theirs = live.products[product.suffix]
        verdict = diff_products(ours, theirs, step=step)
        assert verdict.verdict == "identical", format_summary(verdict)
        assert header_cards(ours) == header_cards(theirs)
        with fits.open(ours) as a, fits.open(theirs) as b:
            assert a[0].header["BITPIX"] == b[0].header["BITPIX"] == 16


@pytest.mark.calstis
@pytest.mark.parametrize("raw", ACQ, ids=[p.name[:9] for p in ACQ])
def test_acquisitions_with_their_own_switches_give_nothing_on_both_sides(
    raw, calstis_path, tmp_path
):
    oref = acq_oref(tmp_path / "oref")
    live = run_calstis(calstis_path, raw, oref, tmp_path / "calstis", expect_products=False)
    assert live.products == {}
    result = calibrate(read_raw(raw), oref_dir=oref)
    assert result.products == [] and "No calibration switch" in result.nothing_to_do


@pytest.mark.calstis
@pytest.mark.parametrize("switch", ["DQICORR", "BLEVCORR"])
@pytest.mark.parametrize("raw", ACQ, ids=[p.name[:9] for p in ACQ])
def test_acquisitions_calibrated_match_live_calstis(raw, switch, calstis_path, tmp_path):
    oref = acq_oref(tmp_path / "oref")
    cfg = _with_switches(raw, tmp_path / "in" / raw.name, {switch: "PERFORM"})
    live = run_calstis(calstis_path, cfg, oref, tmp_path / "calstis", expect_products=False)
    _assert_same_products(cfg, oref, live, tmp_path, switch)


@pytest.mark.calstis
@pytest.mark.parametrize("case_dir", CASES, ids=[c.name for c in CASES])
def test_real_header_cases_match_live_calstis(case_dir, calstis_path, tmp_path):
    import gzip
    import shutil

    manifest = json.loads((case_dir / "manifest.json").read_text())
    (step,) = manifest["steps"]
    oref = tmp_path / "oref"
    oref.mkdir()
    for path in (case_dir / "oref").iterdir():  # cs0.e is given plain .fits, as CRDS serves them
        with gzip.open(path) as src, (oref / path.name.removesuffix(".gz")).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    raw = tmp_path / "in" / f"{manifest['rootname']}_raw.fits"
    raw.parent.mkdir()
    with gzip.open(case_dir / manifest["raw"]["file"]) as src, raw.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    cfg = _with_switches(raw, tmp_path / "cfg" / raw.name, step["switches"])
    live = run_calstis(calstis_path, cfg, oref, tmp_path / "calstis")
    _assert_same_products(cfg, oref, live, tmp_path, step["step"])
