"""Known-issue probes as a pytest module for other suites (with the stischeck plugin).

Run it against a build with::

    pytest --pyargs stischeck.probes_pytest --stischeck-calstis ../build/bin/cs0.e

or import ``test_known_calstis_issue`` into a test module of your own. One test
per probe of `stischeck.probes.PROBES`: *fixed* passes, *still present* is an
expected failure (xfail, with the issue and what was seen), *crashes* and
*fails* fail, *could not run* skips with the reason. The ``calstis`` marker
skips every test, saying why, when no cs0.e is found.
"""

import pytest

from stischeck.probes import COULD_NOT_RUN, FIXED, PROBES, STILL_PRESENT, probe_names, run_probe

__all__ = ["test_known_calstis_issue"]


@pytest.mark.calstis
@pytest.mark.parametrize("probe", PROBES, ids=probe_names())
def test_known_calstis_issue(probe, stischeck_calstis_path, tmp_path):
    """The probe's verdict on the session's cs0.e (``stischeck_calstis_path``)."""
    result = run_probe(probe, stischeck_calstis_path, tmp_path)
    what = f"{probe.name} ({probe.issue}): {result.status}: {result.verdict.detail}"
    if result.status == COULD_NOT_RUN:
        pytest.skip(what)
    if result.status == STILL_PRESENT:
        pytest.xfail(what)
    assert result.status == FIXED, f"{what}; expected: {probe.expects}"
