"""The reference on real STIS raw headers: bit for bit with stored cs0.e 3.5.0 truth (runs in CI).

``tests/data/realheaders/<case>/`` holds, per case, a raw file wearing the
primary and SCI/ERR/DQ headers of a real STIS raw file (every card, in order;
tests/data/tastis), its reference files laid out as CRDS serves them (two cases
with a tile-compressed bias and dark), and cs0.e's products for the full
reduction (``stischeck record --steps FLATCORR``). See tests/data/PROVENANCE.md.
Criteria: the same products, SCI/ERR 0 ulp, DQ identical, every keyword equal
(``stischeck diff``, exact policy) and every card calstis writes, bar DATE (the
day of writing), HISTORY included, byte for byte in the same order.
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
from tests.unit.test_product_writer import header_cards

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = sorted(p for p in (DATA / "realheaders").iterdir() if (p / "manifest.json").is_file())
#: Real ACQ raw files (tastis) with DQICORR and BLEVCORR: imsets of 100x100/104x104 and
#: 30x30 with null ERR/DQ, or one 1022x32 imset and a PEAKUP table (NEXTEND = 4).
ACQ_CASES = sorted(p for p in (DATA / "realacq").iterdir() if (p / "manifest.json").is_file())


def test_the_real_header_set_has_at_least_twenty_cases():
    assert len(CASES) >= 20 and len(ACQ_CASES) >= 3


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    """Run the reference once per case: (manifest, {suffix: (ours, truth)})."""
    cache = {}

    def run(case_dir: Path):
        if case_dir.name not in cache:
            manifest = json.loads((case_dir / "manifest.json").read_text())
            (step,) = manifest["steps"]
            work = tmp_path_factory.mktemp(case_dir.name)
            raw_path = work / f"{manifest['rootname']}_raw.fits"
            with fits.open(case_dir / manifest["raw"]["file"]) as hdul:
                for key, value in step["switches"].items():
                    hdul[0].header[key] = value
                hdul.writeto(raw_path)
            raw = read_raw(raw_path)
            result = calibrate(raw, oref_dir=case_dir / "oref")
            truth = {
                Path(p["file"]).name.split(".")[0].rsplit("_", 1)[1]: case_dir / p["file"]
                for p in step["products"]
            }
            ours = {
                p.suffix: write_product(
                    p, raw.primary_header, product_path(raw_path, f"{work}/out/", p.suffix)
                )
                for p in result.products
            }
            assert sorted(ours) == sorted(truth)
            cache[case_dir.name] = {s: (ours[s], truth[s]) for s in truth}
        return cache[case_dir.name]

    return run


@pytest.mark.parametrize("case_dir", CASES + ACQ_CASES, ids=[c.name for c in CASES + ACQ_CASES])
def test_real_header_products_are_bit_identical_to_calstis(case_dir, products):
    for suffix, (ours, truth) in products(case_dir).items():
        result = diff_products(ours, truth)
        assert result.verdict == "identical", f"_{suffix}: " + format_summary(result)


@pytest.mark.parametrize("case_dir", CASES + ACQ_CASES, ids=[c.name for c in CASES + ACQ_CASES])
def test_real_header_products_have_calstis_cards_in_calstis_order(case_dir, products):
    for suffix, (ours, truth) in products(case_dir).items():
        assert header_cards(ours) == header_cards(truth), suffix
