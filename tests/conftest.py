"""The --slow option and its skips, fixture names of this suite, hypothesis profiles.

The calstis and corpus markers, their skips and the discovery of cs0.e and the
corpus belong to the stischeck pytest plugin (stischeck/pytest_plugin.py,
loaded through its pytest11 entry point), which other projects' suites use too.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    print_blob=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=1000,
    print_blob=True,
    # a thousand examples of array strategies and data-set builds are slow by design
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="needs --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_dir(stischeck_truth_dir):
    return stischeck_truth_dir


@pytest.fixture(scope="session")
def calstis_path(stischeck_calstis_path):
    return stischeck_calstis_path
