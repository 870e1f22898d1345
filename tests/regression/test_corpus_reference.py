"""The reference reproduces the stored calstis 3.5.0 products bit for bit (marker: corpus).

Covered: DQICORR, BLEVCORR and BIASCORR of every case, and every step of the
CRSPLIT=1 case. Multi-imset CRCORR and what follows it need cosmic-ray
rejection (a separate issue).
"""

import numpy as np
import pytest

from reference_impl.io.products import product_path, write_product
from reference_impl.io.rawfile import read_raw
from reference_impl.pipeline import calibrate
from stischeck import environment
from tests.support.corpus import (
    read_imsets,
    steps_without_cr_rejection,
    ulp_distance,
    write_raw_with_switches,
)

_CORPUS = environment.find_corpus()
STEPS = steps_without_cr_rejection(_CORPUS) if _CORPUS else []

# Keywords the per-imset steps write; compared as float32 where they are floats.
SCI_KEYWORDS = (
    "MEANBLEV",
    "MEANDARK",
    "NGOODPIX",
    "GOODMIN",
    "GOODMAX",
    "GOODMEAN",
    "SNRMIN",
    "SNRMAX",
    "SNRMEAN",
    "LTV1",
    "LTV2",
    "CRPIX1",
    "CRPIX2",
)
ERR_KEYWORDS = ("NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "LTV1", "LTV2")
PRIMARY_KEYWORDS = (
    "DQICORR",
    "BLEVCORR",
    "BIASCORR",
    "CRCORR",
    "DARKCORR",
    "FLATCORR",
    "ATODGAIN",
    "READNSE",
    "PHOTMODE",
    "NEXTEND",
    "FILENAME",
    "CAL_VER",
)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return np.float32(a) == np.float32(b)
    if isinstance(a, str):
        return a.strip() == str(b).strip()
    return a == b


@pytest.fixture(scope="module")
def reference_products(tmp_path_factory):
    """Run the reference once per corpus step; map step id -> written product path."""
    cache = {}

    def run(step):
        if step.id not in cache:
            work = tmp_path_factory.mktemp(step.id)
            raw_path = write_raw_with_switches(step, work / "in")
            raw = read_raw(raw_path)
            result = calibrate(raw, oref_dir=step.case_dir / "oref")
            (product,) = result.products
            cache[step.id] = write_product(
                product, raw.primary_header, product_path(raw_path, f"{work}/out/", "flt")
            )
        return cache[step.id]

    return run


@pytest.mark.corpus
@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_reference_matches_corpus_pixels_bit_for_bit(step, reference_products):
    ours, ours_hdul = read_imsets(reference_products(step))
    truth, truth_hdul = read_imsets(step.products[0])
    with ours_hdul, truth_hdul:
        assert len(ours) == len(truth)
        report = []
        for k, (o, t) in enumerate(zip(ours, truth, strict=True), start=1):
            for name, a, b in zip(("SCI", "ERR", "DQ"), o, t, strict=True):
                assert a.shape == b.shape, f"[{name},{k}] shape {a.shape} != {b.shape}"
                if name == "DQ":
                    n_differ = int(np.count_nonzero(a != b))
                    report.append((name, k, n_differ, 0))
                else:
                    n_differ = int(np.count_nonzero(~((a == b) | (np.isnan(a) & np.isnan(b)))))
                    report.append((name, k, n_differ, ulp_distance(a, b)))
        bad = [r for r in report if r[2] or r[3]]
        assert not bad, f"(ext, imset, n_differ, max_ulp): {bad}"


@pytest.mark.corpus
@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_reference_writes_the_same_keywords_as_calstis(step, reference_products):
    _, ours = read_imsets(reference_products(step))
    _, truth = read_imsets(step.products[0])
    with ours, truth:
        mismatches = []
        for key in PRIMARY_KEYWORDS:
            if key in truth[0].header and not _same(ours[0].header.get(key), truth[0].header[key]):
                mismatches.append(
                    f"primary {key}: {ours[0].header.get(key)!r} != {truth[0].header[key]!r}"
                )
        for k in range(1, int(truth[0].header["NEXTEND"]) // 3 + 1):
            for ext, keys in (("SCI", SCI_KEYWORDS), ("ERR", ERR_KEYWORDS)):
                for key in keys:
                    if key not in truth[ext, k].header:
                        continue
                    got, want = ours[ext, k].header.get(key), truth[ext, k].header[key]
                    if got is None or not _same(got, want):
                        mismatches.append(f"[{ext},{k}] {key}: {got!r} != {want!r}")
        assert not mismatches, "; ".join(mismatches)


@pytest.mark.corpus
def test_reference_refuses_multi_imset_crcorr_instead_of_writing_a_wrong_product(tmp_path):
    from reference_impl.errors import NotImplementedStepError
    from tests.support.corpus import CorpusStep

    case = next(s for s in STEPS if s.manifest["raw"]["nimsets"] > 1)
    entry = next(e for e in case.manifest["steps"] if e["step"] == "CRCORR")
    step = CorpusStep(case.case, "CRCORR", case.case_dir, case.manifest, entry)
    raw = read_raw(write_raw_with_switches(step, tmp_path))
    with pytest.raises(NotImplementedStepError, match="CRCORR"):
        calibrate(raw, oref_dir=step.case_dir / "oref")
