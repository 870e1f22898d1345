"""Determinism with fake cs0.e scripts: identical runs, a changed pixel, a changed status."""

import stat
import sys
from pathlib import Path

import pytest

from stischeck.errors import UsageError
from stischeck.repeat import repeat_calstis
from stischeck.synth import SynthParams, write_dataset

SWITCHES = {"DQICORR": "PERFORM", "BLEVCORR": "OMIT"}

# A stand-in for cs0.e: writes out/<root>_flt.fits with DQICORR = COMPLETE. A counter
# file beside the script numbers the runs, so a fake can misbehave on chosen runs.
FAKE = """#!{python}
import pathlib, sys
import numpy as np
from astropy.io import fits
counter = pathlib.Path({counter!r})
k = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(k))
root = pathlib.Path(sys.argv[1]).name[: -len("_raw.fits")]
sci = np.zeros((4, 5), np.float32)
{tweak}
hdus = [fits.PrimaryHDU(), fits.ImageHDU(sci, name="SCI"),
        fits.ImageHDU(np.zeros_like(sci), name="ERR"),
        fits.ImageHDU(np.zeros((4, 5), np.int16), name="DQ")]
hdus[0].header["DQICORR"] = "COMPLETE"
fits.HDUList(hdus).writeto(pathlib.Path(sys.argv[2]) / f"{{root}}_flt.fits")
{exit}
"""


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return write_dataset(SynthParams(seed=2), tmp_path_factory.mktemp("rep") / "d").raw


def fake(tmp_path, tweak="", exit_line=""):
    path = tmp_path / "bin" / "cs0.e"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = FAKE.format(python=sys.executable, counter=str(tmp_path / "bin" / "count"),
                       tweak=tweak, exit=exit_line)  # fmt: skip
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_identical_runs_are_deterministic(raw, tmp_path):
    result = repeat_calstis(fake(tmp_path), raw, None, tmp_path / "w", switches=SWITCHES, n=3)
    assert result.deterministic and len(result.runs) == 3
    assert all(r.status == "ok" for r in result.runs)
    assert "3 runs, the same products as run 1 (exact policy)" in result.text()


def test_a_pixel_that_changes_on_one_run_names_that_run(raw, tmp_path):
    cs0 = fake(tmp_path, tweak="sci[2, 3] = 1.0 if k == 3 else 0.0")
    result = repeat_calstis(cs0, raw, None, tmp_path / "w", switches=SWITCHES, n=3)
    assert result.differing_runs == (3,)
    (d,) = result.differences
    assert (d.kind, d.suffix) == ("product differs", "flt")
    assert "[4, 3]" in d.detail  # FITS [x, y] of numpy (2, 3)
    assert "1 of 2 repeat(s) differ" in result.text()


def test_an_exit_status_that_changes_is_reported(raw, tmp_path):
    cs0 = fake(tmp_path, exit_line="sys.exit(1 if k == 2 else 0)")
    result = repeat_calstis(cs0, raw, None, tmp_path / "w", switches=SWITCHES, n=3)
    kinds = [(d.run, d.kind) for d in result.differences]
    assert (2, "exit status") in kinds and all(run == 2 for run, _ in kinds)
    assert "run 1: exit 0; run 2: exit 1" in result.text()


def test_repeat_needs_two_runs(raw, tmp_path):
    with pytest.raises(UsageError, match="at least 2"):
        repeat_calstis(Path("cs0.e"), raw, None, tmp_path, switches=SWITCHES, n=1)
