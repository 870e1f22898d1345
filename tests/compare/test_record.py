"""stischeck record: live calstis products stored as truth in corpus layout, and read back."""

import gzip
import json
import shutil

import pandas as pd
import pytest
from astropy.io import fits

from stischeck.cli import main
from tests.compare.test_compare import ROOT, SMALL
from tests.support.standins import checksums, fake_calstis


@pytest.fixture
def small_case(corpus_dir):
    case = corpus_dir / SMALL
    return case / f"{ROOT}_raw.fits.gz", case / "oref"


def record(capsys, raw, oref, out, *extra):
    code = main(["record", str(raw), "--oref", str(oref), "--out", str(out), *map(str, extra)])
    return code, capsys.readouterr()


@pytest.mark.calstis
@pytest.mark.corpus
def test_recorded_truth_is_a_corpus_layout_the_comparison_agrees_with(
    small_case, calstis_path, tmp_path, capsys
):
    raw, oref = small_case
    before = checksums(raw, oref)
    truth = tmp_path / "truth"
    code, out = record(capsys, raw, oref, truth, "--calstis", calstis_path)
    assert code == 0, out.err
    manifest = json.loads((truth / "manifest.json").read_text())
    assert manifest["calstis"]["version"] == "3.5.0"
    assert [s["step"] for s in manifest["steps"]] == [
        "DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR"
    ]  # fmt: skip
    darkcorr = manifest["steps"][4]
    assert sorted(p["file"] for p in darkcorr["products"]) == [
        f"DARKCORR/{ROOT}_crj.fits.gz",
        f"DARKCORR/{ROOT}_flt.fits.gz",
    ]
    assert darkcorr["switches"]["EXPSCORR"] == "PERFORM"
    assert (truth / "oref").is_dir() and (truth / f"{ROOT}_raw.fits.gz").is_file()
    assert checksums(raw, oref) == before

    # The recorded folder is a complete truth: reference vs it, no calstis.
    code = main(
        ["compare", str(truth / f"{ROOT}_raw.fits.gz"), "--oref", str(truth / "oref"),
         "--truth", str(truth), "--no-calstis", "--outdir", str(tmp_path / "cmp"), "--no-html"]
    )  # fmt: skip
    assert code == 0
    configs = pd.read_csv(tmp_path / "cmp" / "configurations.csv")
    assert set(configs[configs.configuration != "RAW"].origin) == {"truth manifest"}


@pytest.mark.calstis
@pytest.mark.corpus
def test_record_refuses_to_overwrite_and_with_force_says_what_changed(
    small_case, calstis_path, tmp_path, capsys
):
    raw, oref = small_case
    truth = tmp_path / "truth"
    assert (
        record(capsys, raw, oref, truth, "--calstis", calstis_path, "--steps", "BIASCORR")[0] == 0
    )
    code, out = record(capsys, raw, oref, truth, "--calstis", calstis_path, "--steps", "BIASCORR")
    assert code == 2
    assert (
        out.err.strip()
        == f"stischeck: {truth}: truth folder already exists (use --force to replace it)"
    )

    # Tamper with the stored product: the forced re-record must name it.
    stored = truth / "BIASCORR" / f"{ROOT}_flt.fits.gz"
    with fits.open(stored) as hdul:
        hdul["SCI", 3].data[5, 7] += 2.0
        hdul.writeto(tmp_path / "tampered.fits")
    with (tmp_path / "tampered.fits").open("rb") as src, gzip.open(stored, "wb") as dst:
        shutil.copyfileobj(src, dst)
    code, out = record(
        capsys, raw, oref, truth, "--calstis", calstis_path, "--steps", "BIASCORR", "--force"
    )
    assert code == 0, out.err
    assert "changed against the replaced truth" in out.out
    assert "BIASCORR _flt: differ: SCI imset 3: 1 of 40960 pixels differ" in out.out
    assert "[8, 6]" in out.out  # FITS 1-based x, y of numpy [5, 7]


@pytest.mark.corpus
def test_record_with_a_failing_calstis_writes_nothing(small_case, tmp_path, capsys):
    raw, oref = small_case
    cs0 = fake_calstis(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")
    truth = tmp_path / "truth"
    code, out = record(capsys, raw, oref, truth, "--calstis", cs0, "--steps", "DQICORR")
    assert code == 2
    assert "crashed" in out.err and "SIGSEGV" in out.err and "nothing recorded" in out.err
    assert len(out.err.strip().splitlines()) == 1
    assert not truth.exists()
    assert not list(tmp_path.glob(".truth.record-*"))  # no staging folder left behind


def test_record_without_calstis_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("STISCHECK_CALSTIS", raising=False)
    from stischeck.synth import SynthParams, write_dataset

    raw = write_dataset(SynthParams(seed=1), tmp_path / "data").raw  # a valid raw file
    code = main(["record", str(raw), "--out", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert code == 2 and "cs0.e" in err and len(err.strip().splitlines()) == 1
