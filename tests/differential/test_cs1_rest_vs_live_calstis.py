"""ATODCORR, SHADCORR and PHOTCORR: the reference against live cs0.e (marker: calstis).

`CASES` are synthetic data sets that together cover imaging and spectroscopy,
every amplifier and gain, binned, subarray and full-frame readouts, CR-SPLIT
and single exposures, every IMPHTTAB variant (MJD-interpolated, scalar rows,
extrapolated, outside the table, no matching row, a DUMMY row, a DUMMY
table), every TDSTAB variant and several temperatures (side 1, side 2 with
and without OCCDHTAV), and DUMMY-pedigree ATODTAB and SHADFILE. Each runs the
raw file's own switches (HEADER) and, for imaging, the PHOTCORR rung, under
the exact policy, and the photometry and switch cards must have the same
text on both sides. `test_hunt_*` draws such data sets with hypothesis
(``HYPOTHESIS_PROFILE=thorough``: 1000 examples; ``ci``: a few); with
``STISCHECK_HUNT_LOG=FILE`` each example appends a line to FILE, and
``STISCHECK_HUNT_EXAMPLES=N`` sets the number of examples.
"""

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from stischeck.synth import SynthParams
from stischeck.synth.photometry import IMPHTTAB_KINDS, TDSTAB_KINDS
from tests.differential.cs1_rest_runs import compare_cs1_rest
from tests.strategies import budget, cs1_dataset_params

pytestmark = pytest.mark.calstis

_READOUTS = [
    {"subarray": (497, 32)},
    {"binning": (2, 2), "subarray": None},
    {"subarray": (100, 16)},
    {"binning": (4, 4), "subarray": None},
    {"subarray": (900, 40)},
    {"binning": (1, 2), "subarray": None},
    {"binning": (4, 2), "subarray": None},
    {"subarray": (1, 8)},
]
_EPOCHS = [
    {},  # side 2, OCCDHTAV 19
    {"occdhtav_c": 23.9},
    {"expstart_mjd": 51650.4, "occdhtav_c": None},  # side 1: no temperature
    {"occdhtav_c": None},  # side 2 without OCCDHTAV
    {"occdhtav_c": 17.5, "expstart_mjd": 55000.7},
]
_IMPHTTAB = list(IMPHTTAB_KINDS)
_TDSTAB = list(TDSTAB_KINDS)


def _cases() -> list:
    cases = []
    for k in range(48):
        spectro = k % 6 == 5
        kw = dict(
            seed=1000 + k,
            amp="ABCD"[k % 4],
            gain=(1, 4)[(k // 4) % 2],
            crsplit=(1, 2, 3)[k % 3],
            expscorr=k % 5 == 0,
            photcorr=True,
            imphttab=_IMPHTTAB[k % len(_IMPHTTAB)],
            tdstab=_TDSTAB[(k // 2) % len(_TDSTAB)],
            atodcorr=(None, "perform", "perform", "rowdummy", "dummy")[k % 5],
            shadcorr=(None, "perform", "dummy")[k % 3],
            n_stars=40,
            **_READOUTS[k % len(_READOUTS)],
            **_EPOCHS[k % len(_EPOCHS)],
        )
        if spectro:
            kw["obstype"] = "SPECTROSCOPIC"
        cases.append(SynthParams(**kw))
    # An unbinned full frame of each kind.
    cases.append(SynthParams(seed=2001, subarray=None, crsplit=2, photcorr=True,
                             atodcorr="perform", shadcorr="perform", n_stars=40))  # fmt: skip
    cases.append(SynthParams(seed=2002, subarray=None, crsplit=1, obstype="SPECTROSCOPIC",
                             photcorr=True, atodcorr="perform", shadcorr="perform"))  # fmt: skip
    return cases


CASES = _cases()
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
#: ``STISCHECK_HUNT_EXAMPLES=N`` sets the hunt's example count in any profile.
_HUNT_BUDGET = (
    settings(max_examples=int(os.environ["STISCHECK_HUNT_EXAMPLES"]), suppress_health_check=_HEALTH)
    if os.environ.get("STISCHECK_HUNT_EXAMPLES")
    else budget(ci=3, suppress_health_check=_HEALTH)
)
_ROW_KEYS = ("configuration", "product", "extname", "imset", "verdict", "n_differ", "detail")


@pytest.mark.parametrize("params", CASES, ids=[p.name + "_" + p.imphttab for p in CASES])
def test_reference_equals_live_calstis_with_atod_shad_phot(params, calstis_path, tmp_path):
    bad, cards, switches = compare_cs1_rest(params, calstis_path, tmp_path / "w")
    assert not bad, [{k: r.get(k) for k in _ROW_KEYS} for r in bad[:10]]
    assert not cards, cards
    for product in switches["HEADER"].values():  # the steps ran as the data set asked
        for switch, variant in (("ATODCORR", params.atodcorr), ("SHADCORR", params.shadcorr)):
            if variant is not None:
                assert product[switch] == ("COMPLETE" if variant == "perform" else "SKIPPED")


def test_the_cases_cover_what_the_acceptance_asks():
    assert len(CASES) >= 40
    assert {p.obstype for p in CASES} == {"IMAGING", "SPECTROSCOPIC"}
    assert {p.amp for p in CASES} == set("ABCD") and {p.gain for p in CASES} == {1, 4}
    assert any(p.subarray is not None for p in CASES)
    assert any(p.binning != (1, 1) for p in CASES)
    assert {p.crsplit for p in CASES} >= {1, 2, 3}
    imaging = [p for p in CASES if p.obstype == "IMAGING"]
    assert {p.imphttab for p in imaging} == set(IMPHTTAB_KINDS)
    assert {p.tdstab for p in imaging} == set(TDSTAB_KINDS)
    assert {p.occdhtav_c for p in imaging} >= {None, 17.5, 19.0, 23.9}
    assert {p.atodcorr for p in CASES} >= {"perform", "rowdummy", "dummy"}
    assert {p.shadcorr for p in CASES} >= {"perform", "dummy"}


@_HUNT_BUDGET
@given(params=cs1_dataset_params())
def test_hunt_reference_equals_live_calstis_with_the_rest_of_calstis1(
    params, calstis_path, tmp_path_factory
):
    work = tmp_path_factory.mktemp("cs1rest", numbered=True)
    bad, cards, _ = compare_cs1_rest(params, calstis_path, work / "w", keep=True)
    log = os.environ.get("STISCHECK_HUNT_LOG")  # one line per example, for the figures
    if log:
        with Path(log).open("a") as f:
            line = {"params": params.to_dict(), "bad": len(bad), "cards": len(cards)}
            f.write(json.dumps(line, default=list) + "\n")
    if not bad and not cards:
        shutil.rmtree(work, ignore_errors=True)
        return
    summary = [
        {k: r.get(k) for k in ("configuration", "product", "extname", "verdict", "detail")}
        for r in bad[:10]
    ]
    raise AssertionError(
        f"{params.name} ({dataclasses.asdict(params)}): reference and cs0.e differ "
        f"{summary} {cards} (work folder {work})"
    )
