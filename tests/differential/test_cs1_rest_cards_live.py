"""ATODCORR, SHADCORR, PHOTCORR: every header card but DATE as cs0.e writes it (marker: calstis).

The shipped policy does not compare HISTORY; this pins it anyway, with the
place calstis gives the photometry keywords a raw header lacks (set by
dophot.c before photHistory logs the step, so after the HISTORY before it)
and the ATODTAB row's PEDIGREE/DESCRIP in ATODCORR's HISTORY (rowpedigree.c).
"""

import os
import subprocess
import sys

import pytest
from astropy.io import fits

from stischeck.synth import SynthParams, write_dataset

pytestmark = pytest.mark.calstis

CASES = {
    "crsplit2_all_three": dict(crsplit=2, atodcorr="perform", shadcorr="perform", photcorr=True),
    "single_all_three": dict(crsplit=1, atodcorr="perform", shadcorr="perform", photcorr=True),
    "dummy_rows_no_tds": dict(
        crsplit=2,
        atodcorr="rowdummy",
        shadcorr="dummy",
        photcorr=True,
        imphttab="rowdummy",
        tdstab="notemp",
    ),
}


def _cards(path):
    with fits.open(path) as hdul:
        return [[c.image for c in h.header.cards if c.keyword != "DATE"] for h in hdul]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_card_but_date_is_what_cs0_writes(name, tmp_path, calstis_path):
    params = SynthParams(seed=11, subarray=(300, 40), **CASES[name])
    raw = write_dataset(params, tmp_path / "data").raw
    oref = f"{raw.parent / 'oref'}/"
    (tmp_path / "cs0").mkdir()
    (tmp_path / "ref").mkdir()
    env = dict(os.environ, oref=oref)
    done = subprocess.run(
        [str(calstis_path), str(raw), f"{tmp_path / 'cs0'}/"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    cli = [sys.executable, "-m", "stischeck.cli", "reference", str(raw)]
    cli += ["--oref", oref, "--outroot", f"{tmp_path / 'ref'}/"]
    ref = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    products = sorted(p.name for p in (tmp_path / "cs0").glob("*.fits"))
    assert products and products == sorted(p.name for p in (tmp_path / "ref").glob("*.fits"))
    for product in products:
        assert _cards(tmp_path / "ref" / product) == _cards(tmp_path / "cs0" / product), product
