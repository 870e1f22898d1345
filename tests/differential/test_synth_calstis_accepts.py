"""cs0.e accepts synthetic data sets and runs all six 2-D steps on them (marker: calstis).

Sixty parameter draws (a seeded ``random.Random``, so the list is fixed and
each case has a stable id) cover every `stischeck synth` option: amplifier,
gain, every binning, full frames and subarrays, imaging and spectroscopy,
CRSPLIT and NRPTEXP, exposure times that select each CRREJTAB row, side-1 and
side-2 epochs, OCCDHTAV present or not, cosmic-ray rates, saturation, raw
drop-outs, zero flat pixels, EXPSCORR. Each raw file is run once as written
(DQICORR, BLEVCORR, BIASCORR, CRCORR, DARKCORR, FLATCORR = PERFORM): cs0.e must
exit 0 and its products must say COMPLETE for every step (CRCORR SKIPPED for a
single imset, PERFORM in the EXPSCORR ``_flt``).
"""

import random

import pytest
from astropy.io import fits

from stischeck.runners.calstis import run_calstis
from stischeck.synth import APERTURES, SynthParams, write_dataset

pytestmark = pytest.mark.calstis

N_DRAWS = 60
STEPS = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")


def draws(n: int = N_DRAWS, seed: int = 8) -> list[SynthParams]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        obstype = rnd.choice(["IMAGING", "SPECTROSCOPIC"])
        apertures = [a for a, v in APERTURES.items() if v[1] == obstype]
        binning = (rnd.choice([1, 2, 4]), rnd.choice([1, 2, 4]))
        subarray = None
        if binning == (1, 1) and rnd.random() < 0.75:
            rows = rnd.choice([4, 16, 40, 100])
            subarray = (rnd.randint(1, 1025 - rows), rows)
        side1 = rnd.random() < 0.3
        out.append(
            SynthParams(
                seed=rnd.randint(0, 99_999),
                obstype=obstype,
                aperture=rnd.choice(apertures),
                amp=rnd.choice("ABCD"),
                gain=rnd.choice([1, 4]),
                binning=binning,
                subarray=subarray,
                crsplit=rnd.choice([1, 2, 2, 3, 4, 8]),
                nrptexp=rnd.choice([1, 1, 1, 2]),
                exptime_s=rnd.choice([60.0, 200.0, 900.0, 2400.0, 6000.0]),
                expstart_mjd=51650.4 if side1 else 58500.25,
                occdhtav_c=None if side1 or rnd.random() < 0.1 else round(rnd.uniform(17, 23), 2),
                cr_rate=rnd.choice([0.0, 1.2, 1.2, 12.0]),
                n_saturated=rnd.choice([0, 1, 3, 8]),
                dropouts=rnd.choice([0, 0, 2]),
                n_flat_zero=rnd.choice([0, 0, 30]),
                skysub=rnd.choice(["mode", "none"]),
                expscorr=rnd.random() < 0.3,
            )
        )
    return out


DRAWS = draws()


def test_the_draws_are_all_different():
    assert len({p.to_dict().__repr__() for p in DRAWS}) == N_DRAWS >= 50


@pytest.mark.parametrize("params", DRAWS, ids=[p.name for p in DRAWS])
def test_cs0_runs_all_six_steps_to_complete_on_a_synthetic_data_set(params, calstis_path, tmp_path):
    paths = write_dataset(params, tmp_path / "data")
    run = run_calstis(calstis_path, paths.raw, paths.oref, tmp_path / "calstis")
    assert run.returncode == 0
    expected = {s: "COMPLETE" for s in STEPS}
    if params.n_imsets == 1:
        expected["CRCORR"] = "SKIPPED"
    main = "crj" if params.n_imsets >= 2 else "flt"
    assert main in run.products, run.trailer[-1500:]
    with fits.open(run.products[main]) as hdul:
        assert {s: hdul[0].header[s].strip() for s in STEPS} == expected
    if params.expscorr and params.n_imsets >= 2:
        with fits.open(run.products["flt"]) as hdul:
            got = {s: hdul[0].header[s].strip() for s in STEPS}
        assert got == {**expected, "CRCORR": "PERFORM"}
