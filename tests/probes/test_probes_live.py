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


def test_the_221_reproducer_reaches_the_rejection_with_null_dq(calstis_path, tmp_path):
    # The premise of cr_flags_null_dq: the part-a output of its input (BLEVCORR only,
    # what calstis2 reads) has null DQ extensions; else the probe tests nothing.
    from astropy.io import fits

    from stischeck.config import explicit
    from stischeck.probes.catalog import PROBES
    from stischeck.runners.calstis import execute_calstis
    from stischeck.runners.outcome import prepare_input

    probe = next(p for p in PROBES if p.name == "cr_flags_null_dq")
    inp = probe.build(tmp_path / "probe")
    raw = prepare_input(inp.raw, tmp_path / "blev", explicit(["BLEVCORR"]).switch_dict)
    outcome = execute_calstis(calstis_path, raw, inp.oref, tmp_path / "blev")
    assert outcome.ok, outcome.message
    with fits.open(outcome.products["flt"]) as hdul:
        dq = [h.header["NAXIS"] for h in hdul[1:] if h.header["EXTNAME"] == "DQ"]
    assert dq == [0, 0]
