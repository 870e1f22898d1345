"""Where astropy's FITSDiff answers "identical" and stischeck diff does not (measured).

Each test asserts both halves, so a change in astropy that fixes a case shows
up here as a failure to update the documentation rather than passing silently.
"""

import gzip
import shutil

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits import FITSDiff

from stischeck.diff import diff_products, load_policy

pytestmark = pytest.mark.corpus

PRODUCT = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr/DARKCORR/onkqzf010_flt.fits.gz"


@pytest.fixture
def base(corpus_dir, tmp_path):
    out = tmp_path / "base.fits"
    with gzip.open(corpus_dir / PRODUCT) as fin, out.open("wb") as fout:
        shutil.copyfileobj(fin, fout)
    return out


def variant(base, tmp_path, name, change):
    with fits.open(base) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    change(hdul)
    out = tmp_path / f"{name}.fits"
    hdul.writeto(out)
    return out


def pixel(ext, extver, value, y=5, x=7):
    def change(hdul):
        data = hdul[ext, extver].data.copy()
        data[y, x] = value
        hdul[ext, extver].data = data

    return change


@pytest.mark.parametrize(
    ("value_a", "value_b"),
    [(np.nan, np.inf), (np.inf, -np.inf)],
    ids=["nan-vs-plus-inf", "plus-inf-vs-minus-inf"],
)
def test_fitsdiff_calls_different_non_finite_values_identical(base, tmp_path, value_a, value_b):
    a = variant(base, tmp_path, "a", pixel("SCI", 1, value_a))
    b = variant(base, tmp_path, "b", pixel("SCI", 1, value_b))
    assert FITSDiff(str(a), str(b)).identical
    result = diff_products(a, b)
    assert result.verdict == "differ"
    assert result.extensions[0].comparison.nonfinite_mismatch == 1


def test_fitsdiff_data_tolerance_hides_a_header_change(base, tmp_path):
    """FITSDiff applies one rtol to headers and data; stischeck keeps them apart."""

    def bump_meanblev(hdul):
        hdul["SCI", 1].header["MEANBLEV"] *= 1.0005

    # Both written by astropy, so card comments match and only MEANBLEV differs.
    a = variant(base, tmp_path, "a", lambda hdul: None)
    b = variant(base, tmp_path, "b", bump_meanblev)
    assert FITSDiff(str(a), str(b), rtol=1e-3).identical
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(
        'schema_version = 1\nname = "data-rtol"\nversion = "1"\n'
        '[[data]]\nextension = "SCI"\nstatistic = "pixel"\nrtol = 1e-3\n'
        'reason = "test: a data tolerance only"\n'
    )
    result = diff_products(a, b, policy=load_policy(policy_file))
    assert result.verdict == "differ"
    assert [k.keyword for k in result.keywords] == ["MEANBLEV"]


def test_fitsdiff_relative_tolerance_is_one_sided_and_stischeck_is_symmetric(base, tmp_path):
    with fits.open(base) as hdul:
        value = float(hdul["SCI", 2].data[5, 7])
    rtol = 1e-3
    # b is chosen so that |a - b| <= rtol*|b| holds one way round but not the other.
    a = variant(base, tmp_path, "a", pixel("SCI", 2, np.float32(value)))
    b_value = np.float32(value * (1 + rtol * 1.0004))
    b = variant(base, tmp_path, "b", pixel("SCI", 2, b_value))
    assert (
        FITSDiff(str(a), str(b), rtol=rtol).identical
        != FITSDiff(str(b), str(a), rtol=rtol).identical
    )
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(
        'schema_version = 1\nname = "r"\nversion = "1"\n'
        f'[[data]]\nextension = "SCI"\nstatistic = "pixel"\nrtol = {rtol}\nreason = "test"\n'
    )
    policy = load_policy(policy_file)
    assert diff_products(a, b, policy=policy).verdict == diff_products(b, a, policy=policy).verdict
