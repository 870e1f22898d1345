"""Checking a cs0.e build from another project's suite with stischeck's pytest plugin.

Installing stischeck is all it takes (the plugin loads through its ``pytest11``
entry point). Run, for instance from hstcal's test folder::

    pytest --stischeck-calstis ../build/bin/cs0.e --stischeck-truth /data/calstis-corpus

Without a cs0.e the ``calstis`` tests skip ("cs0.e not found (PATH,
STISCHECK_CALSTIS)"); without the corpus the ``corpus`` tests skip.
"""

import pytest

from stischeck.pytest_plugin import assert_products_agree

CASE = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"  # 1060x40 subarray, CR-SPLIT 4, EXPSCORR
RAW = "onkqzf010_raw.fits.gz"


@pytest.fixture
def case(stischeck_truth_dir):
    return stischeck_truth_dir / CASE


@pytest.mark.corpus
def test_ladder_agrees_with_the_stored_truth(case, stischeck_compare):
    # Reference vs stored truth, and vs this session's cs0.e when there is one.
    result = stischeck_compare(case / RAW, truth=case, steps=["DQICORR", "BLEVCORR", "BIASCORR"])
    assert result.agree, result.text


@pytest.mark.calstis
@pytest.mark.corpus
@pytest.mark.parametrize("step", ["BIASCORR", "CRCORR"])
def test_calstis_products_match_the_reference(case, step, stischeck_calstis, stischeck_reference):
    live = stischeck_calstis(case / RAW, config=step)
    assert live.ok, live.message
    ref = stischeck_reference(case / RAW, config=step)
    assert ref.ok, ref.message
    assert_products_agree(live.products, ref.products, step=step)
