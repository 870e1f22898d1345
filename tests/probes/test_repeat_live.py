"""Determinism of live cs0.e: the same configuration three times (marker: calstis)."""

import pytest
from astropy.io import fits

from stischeck.config import cumulative_sequence
from stischeck.repeat import repeat_calstis
from stischeck.synth import SynthParams, write_dataset

pytestmark = pytest.mark.calstis


@pytest.mark.parametrize("rung", ["DQICORR", "CRCORR", "FLATCORR"])
def test_three_runs_of_one_configuration_agree_bit_for_bit(rung, calstis_path, tmp_path):
    paths = write_dataset(SynthParams(seed=31, crsplit=2, expscorr=True), tmp_path / "d")
    config = next(c for c in cumulative_sequence(fits.getheader(paths.raw)) if c.name == rung)
    result = repeat_calstis(calstis_path, paths.raw, paths.oref, tmp_path / "w",
                            switches=config.switch_dict, n=3, config=rung)  # fmt: skip
    assert all(r.status == "ok" for r in result.runs), result.runs
    assert result.deterministic, result.text()
