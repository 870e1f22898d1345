"""The hunts' logs, figures and reproducers go to a temporary folder, never into the
checkout, unless $STISCHECK_TEST_REPORTS asks to keep them there."""

from pathlib import Path

from stischeck.synth import SynthParams
from tests.differential.synthetic_runs import (
    KEEP_ENV,
    SyntheticComparison,
    log_example,
    reports_dir,
)
from tests.differential.test_crcorr_cases import write_figures

CHECKOUT = Path(__file__).resolve().parents[2]


def _result(tmp_path):
    return SyntheticComparison(SynthParams(seed=1), tmp_path, tmp_path / "x_raw.fits",
                               tmp_path / "oref", run=None)  # fmt: skip


def _inside_checkout(path: Path) -> bool:
    return path.resolve().is_relative_to(CHECKOUT)


def test_hunt_logs_and_figures_go_to_a_temporary_folder_by_default(
    tmp_path, tmp_path_factory, monkeypatch
):
    monkeypatch.delenv(KEEP_ENV, raising=False)
    before = sorted(CHECKOUT.glob("reports/**/*"))
    reports = reports_dir(tmp_path_factory)
    assert not _inside_checkout(reports)
    log_example("test_outputs_probe", _result(tmp_path), reports)
    figures = write_figures([{"case": "probe", "n_differ": 0}], reports)
    assert (reports / "differential" / "test_outputs_probe.jsonl").is_file()
    assert figures.is_file() and not _inside_checkout(figures)
    assert sorted(CHECKOUT.glob("reports/**/*")) == before


def test_hunt_outputs_are_kept_where_the_variable_says(tmp_path, tmp_path_factory, monkeypatch):
    keep = tmp_path / "kept"
    monkeypatch.setenv(KEEP_ENV, str(keep))
    reports = reports_dir(tmp_path_factory)
    assert reports == keep and keep.is_dir()
    log_example("test_outputs_probe", _result(tmp_path), reports)
    assert (keep / "differential" / "test_outputs_probe.jsonl").is_file()
    assert write_figures([{"case": "probe"}], reports) == keep / "crcorr_cases.csv"
