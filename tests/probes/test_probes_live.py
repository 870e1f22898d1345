"""The known-issue probes on live cs0.e (marker: calstis).

The shipped module `stischeck.probes_pytest` runs here as other suites run it
(fixed passes, still present xfails). The controls check that each decision
can say the other thing too: the same input without the trigger.
"""

import pytest

from stischeck.probes import COULD_NOT_RUN, CRASHES, FAILS, run_probe
from stischeck.probes.catalog import CONTROLS
from stischeck.probes_pytest import test_known_calstis_issue  # noqa: F401 - collected here

pytestmark = pytest.mark.calstis


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_probe_control_gives_the_other_verdict(name, calstis_path, tmp_path):
    control, want = CONTROLS[name]
    result = run_probe(control, calstis_path, tmp_path)
    assert result.status == want, f"{control.name}: {result.status}: {result.verdict.detail}"


def test_every_probe_runs_to_a_verdict_on_the_build(calstis_path, tmp_path, capsys):
    from stischeck.cli import main

    code = main(["probes", "--calstis", str(calstis_path), "--outdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    for bad in (COULD_NOT_RUN, CRASHES, FAILS):
        assert f"  {bad}  " not in out, out
    assert (tmp_path / "probes.csv").exists() and (tmp_path / "probes.html").exists()
