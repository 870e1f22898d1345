"""stischeck demo: the bundled example runs without calstis or corpus, and stays reproducible."""

import json

import pytest

from stischeck.cli import main
from stischeck.commands.demo import demo_dir
from stischeck.inputs import sha256_uncompressed
from tests.support.standins import checksums

#: The command in stischeck/data/demo/PROVENANCE.md that wrote the bundled raw file and oref/.
SYNTH_ARGS = ["--seed", "2026", "--rows", "489:48", "--saturated", "2", "--stars", "150"]


@pytest.fixture
def no_calstis_no_corpus(monkeypatch, tmp_path):
    monkeypatch.delenv("STISCHECK_CALSTIS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    monkeypatch.setenv("STISCHECK_CORPUS", str(tmp_path / "no-corpus"))


def test_demo_agrees_with_its_stored_truth_without_calstis(no_calstis_no_corpus, tmp_path, capsys):
    before = checksums(demo_dir())
    code = main(["demo", "--outdir", str(tmp_path / "demo")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("stischeck compare owj6k3010: AGREE (reference-vs-truth")
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["verdict"] == "agree"
    identical = {
        name: entry["reference-vs-truth"]
        for name, entry in summary["configurations"].items()
        if name != "RAW"
    }
    assert set(identical.values()) == {"identical"}, identical
    assert (tmp_path / "demo" / "report.html").is_file()
    assert f"report: {tmp_path / 'demo' / 'report.html'}" in out
    assert checksums(demo_dir()) == before  # the package data are only read


def test_bundled_demo_data_are_what_stischeck_synth_writes(tmp_path, capsys):
    manifest = json.loads((demo_dir() / "manifest.json").read_text())
    assert main(["synth", "--out", str(tmp_path / "synth"), *SYNTH_ARGS]) == 0
    capsys.readouterr()
    raw = tmp_path / "synth" / "owj6k3010_raw.fits"
    assert sha256_uncompressed(raw) == manifest["raw"]["sha256_uncompressed"]
    for key, entry in manifest["reference_files"].items():
        written = tmp_path / "synth" / "oref" / entry["file"].split("/")[-1].removesuffix(".gz")
        assert sha256_uncompressed(written) == entry["sha256_uncompressed"], key


def test_demo_truth_was_recorded_by_calstis_3_5_0_for_every_step():
    manifest = json.loads((demo_dir() / "manifest.json").read_text())
    assert manifest["calstis"]["version"] == "3.5.0"
    assert [s["step"] for s in manifest["steps"]] == [
        "DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR"
    ]  # fmt: skip
    for step in manifest["steps"]:
        assert step["exit_status"] == 0 and step["products"], step["step"]
        for product in step["products"]:
            assert (
                sha256_uncompressed(demo_dir() / product["file"]) == product["sha256_uncompressed"]
            )
