"""Trailers of live cs0.e runs compared (marker: calstis).

The deliberately broken builds under /opt/broken (one-line edits of calstis
3.5.0, outside the project; /opt/broken/README.txt) are used where present:
the overscan build's changed bias level shows in BLEVCORR's trailer lines;
the darkscale and statkey builds change products but print nothing different,
and the trailers honestly say "same".
"""

import gzip
import json
import os
from pathlib import Path

import pytest

from stischeck.config import cumulative_sequence
from stischeck.runners.calstis import execute_calstis
from stischeck.runners.outcome import prepare_input
from stischeck.synth import SynthParams, write_dataset
from stischeck.trailers import diff_trailers, format_diff, parse_trailer, read_trailer

pytestmark = pytest.mark.calstis

BROKEN = Path("/opt/broken")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(SynthParams(seed=18, crsplit=2), tmp_path_factory.mktemp("trl") / "d")


def run_trailer(cs0, dataset, workdir):
    from astropy.io import fits

    config = cumulative_sequence(fits.getheader(dataset.raw))[-1]  # every 2-D step
    raw = prepare_input(dataset.raw, workdir, config.switch_dict)
    outcome = execute_calstis(Path(cs0), raw, dataset.oref, workdir)
    assert outcome.ok, outcome.message
    return read_trailer(outcome.trailer)


def broken(name):
    path = BROKEN / name / "cs0.e"
    if not path.exists():
        pytest.skip(f"{path} not found (deliberately broken builds, /opt/broken/README.txt)")
    return path


def test_the_same_build_twice_gives_the_same_trailer(calstis_path, dataset, tmp_path):
    a = run_trailer(calstis_path, dataset, tmp_path / "one")
    b = run_trailer(calstis_path, dataset, tmp_path / "elsewhere" / "two")
    diff = diff_trailers(a, b)
    assert diff.same, format_diff(diff)


def test_a_one_column_overscan_change_shows_as_changed_bias_levels(calstis_path, dataset, tmp_path):
    a = run_trailer(calstis_path, dataset, tmp_path / "a")
    b = run_trailer(broken("overscan"), dataset, tmp_path / "b")
    diff = diff_trailers(a, b)
    assert [s.name for s in diff.steps] == ["CALSTIS-1 BLEVCORR"], format_diff(diff)
    kinds = {c.kind for c in diff.steps[0].changes}
    assert kinds == {"changed numbers"}
    assert all("mean of bias levels subtracted" in c.a for c in diff.steps[0].changes)


@pytest.mark.parametrize("name", ["darkscale", "statkey"])
def test_changes_calstis_does_not_print_leave_the_trailers_the_same(
    name, calstis_path, dataset, tmp_path
):
    a = run_trailer(calstis_path, dataset, tmp_path / "a")
    b = run_trailer(broken(name), dataset, tmp_path / "b")
    assert diff_trailers(a, b).same


@pytest.mark.corpus
@pytest.mark.parametrize("step", ["DQICORR", "CRCORR", "FLATCORR"])
def test_a_fresh_verbose_run_matches_the_corpus_trailer(step, calstis_path, corpus_dir, tmp_path):
    # The corpus ran cs0.e with -v (its CR parameters and dark factor are verbose lines).
    from stischeck.runners.process import run_measured

    case = corpus_dir / "img_ampD_g1_full_cr2"
    manifest = json.loads((case / "manifest.json").read_text())
    switches = next(s["switches"] for s in manifest["steps"] if s["step"] == step)
    raw = prepare_input(next(case.glob("*_raw.fits.gz")), tmp_path, switches)
    (tmp_path / "out").mkdir()
    env = dict(os.environ, oref=str(case / "oref") + "/")
    log = tmp_path / "cs0.trl"
    run = run_measured([str(calstis_path), "-v", raw.name, "out/"], cwd=tmp_path, env=env,
                       log=log, timeout_s=600)  # fmt: skip
    assert run.returncode == 0
    stored = next((case / step).glob("*.trl.gz"))
    diff = diff_trailers(parse_trailer(gzip.decompress(stored.read_bytes()).decode()),
                         read_trailer(log))  # fmt: skip
    assert diff.same, format_diff(diff)
