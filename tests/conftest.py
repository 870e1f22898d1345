"""Markers -> skips, corpus and calstis discovery, hypothesis profiles."""

import os

import pytest
from hypothesis import HealthCheck, settings

from stischeck import environment

settings.register_profile(
    "ci",
    derandomize=True,
    print_blob=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    corpus = environment.find_corpus()
    calstis, calstis_why = environment.find_calstis()
    skips = {
        "corpus": None
        if corpus
        else pytest.mark.skip(
            reason="calstis corpus not found (../shared/calstis-corpus, STISCHECK_CORPUS)"
        ),
        "calstis": None if calstis else pytest.mark.skip(reason=f"cs0.e {calstis_why}"),
        "slow": None if config.getoption("--slow") else pytest.mark.skip(reason="needs --slow"),
    }
    for item in items:
        for marker, skip in skips.items():
            if skip is not None and marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_dir():
    path = environment.find_corpus()
    if path is None:
        pytest.skip("calstis corpus not found (../shared/calstis-corpus, STISCHECK_CORPUS)")
    return path


@pytest.fixture(scope="session")
def calstis_path():
    path, why = environment.find_calstis()
    if path is None:
        pytest.skip(f"cs0.e {why}")
    return path
