"""stischeck compare: verdicts, faults of calstis reported as what they are, localisation."""

import json

import pandas as pd
import pytest

from stischeck import config as cfg
from stischeck.cli import main
from stischeck.compare import service
from tests.support.standins import checksums, fake_calstis, off_by_one_bias

SMALL = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"  # 4 imsets, EXPSCORR, 1060x40
ROOT = "onkqzf010"


def run_cli(capsys, *args):
    code = main(["compare", *map(str, args)])
    return code, capsys.readouterr()


def compare_cli(capsys, raw, oref, calstis, outdir, *options):
    """``stischeck compare RAW --oref OREF --calstis CS0 --outdir OUT --no-html OPTIONS...``."""
    return run_cli(
        capsys, raw, "--oref", oref, "--calstis", calstis, "--outdir", outdir, "--no-html", *options
    )


@pytest.fixture
def small_case(corpus_dir):
    case = corpus_dir / SMALL
    return case / f"{ROOT}_raw.fits.gz", case / "oref", case


FAULTS = {
    "hangs": ("time.sleep(60)", "timed out after 2 s"),
    "segfaults": (
        "os.kill(os.getpid(), signal.SIGSEGV)",
        "crashed on onkqzf010_raw.fits (killed by SIGSEGV)",
    ),
    "writes-nothing": ("sys.exit(0)", "exited 0 on onkqzf010_raw.fits but wrote no product"),
    "writes-truncated-fits": (
        "open(sys.argv[2] + 'onkqzf010_flt.fits', 'wb')"
        ".write(b'SIMPLE  =                    T' + b' ' * 50)",
        "onkqzf010_flt.fits: unreadable product",
    ),
    "exits-2-with-a-message": (
        "print('ERROR:  Can not open reference file oref$nope_bia.fits'); sys.exit(2)",
        "failed on onkqzf010_raw.fits (exit status 2): ERROR: Can not open reference file",
    ),
}


@pytest.mark.corpus
@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_calstis_fault_is_reported_as_what_it_is(fault, small_case, tmp_path, capsys):
    raw, oref, _ = small_case
    body, expected = FAULTS[fault]
    cs0 = fake_calstis(tmp_path, body)
    code, out = compare_cli(
        capsys, raw, oref, cs0, tmp_path / "out", "--steps", "DQICORR", "--timeout", "2"
    )
    assert code == 2, out.out
    assert "ERROR" in out.out.splitlines()[0]
    assert expected in out.out
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    row = runs[(runs.configuration == "DQICORR") & (runs.side == "calstis")].iloc[0]
    assert row.status == "error" and expected in row.message
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert (
        not verdicts[verdicts.comparison == "reference-vs-calstis"]
        .verdict.isin(["identical", "agree"])
        .any()
    )


@pytest.mark.corpus
def test_three_way_agreement_with_the_corpus_as_truth(small_case, tmp_path, capsys):
    raw, oref, truth = small_case
    before = checksums(raw, oref)
    code, out = run_cli(
        capsys,
        raw,
        "--oref",
        oref,
        "--truth",
        truth,
        "--no-calstis",
        "--outdir",
        tmp_path / "out",
        "--no-html",
    )
    assert code == 0, out.out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["verdict"] == "agree" and summary["first_divergent"] is None
    assert set(summary["configurations"]) == {"RAW", *cfg.LADDER}
    assert checksums(raw, oref) == before  # inputs untouched


@pytest.mark.calstis
@pytest.mark.corpus
def test_every_corpus_case_agrees_three_ways_with_live_calstis(
    corpus_dir, calstis_path, tmp_path, capsys
):
    for case in sorted(p for p in corpus_dir.iterdir() if (p / "manifest.json").exists()):
        manifest = json.loads((case / "manifest.json").read_text())
        raw = case / manifest["raw"]["file"]
        before = checksums(raw, case / "oref")
        code = main(
            [
                "compare",
                str(raw),
                "--oref",
                str(case / "oref"),
                "--truth",
                str(case),
                "--calstis",
                str(calstis_path),
                "--outdir",
                str(tmp_path / case.name),
                "--no-html",
            ]
        )
        summary = json.loads((tmp_path / case.name / "summary.json").read_text())
        assert code == 0, (case.name, summary)
        headline = capsys.readouterr().out.splitlines()[0]
        assert "AGREE (reference-vs-calstis-vs-truth," in headline, headline
        for name, entry in summary["configurations"].items():
            assert set(entry) >= {"reference-vs-calstis", "reference-vs-truth", "calstis-vs-truth"}
            assert all(v in ("identical", "empty") for v in entry.values()), (
                case.name,
                name,
                entry,
            )
        assert checksums(raw, case / "oref") == before


@pytest.mark.calstis
@pytest.mark.corpus
def test_a_wrong_step_diverges_first_at_that_step_and_is_attributed_to_it(
    small_case, calstis_path, tmp_path, monkeypatch
):
    raw, oref, _ = small_case
    off_by_one_bias(monkeypatch)
    plan = service.plan_comparison(raw, oref=oref)
    outcome = service.compare_dataset(
        plan, tmp_path / "out", calstis=calstis_path, reference_processes=0
    )
    summary = outcome.summary
    assert summary["exit_code"] == 1
    assert summary["first_divergent"] == "BIASCORR"
    verdict = {n: e["reference-vs-calstis"] for n, e in summary["configurations"].items()}
    assert verdict["DQICORR"] == verdict["BLEVCORR"] == "identical"
    assert verdict["BIASCORR"] == "differ"
    # Step-local: each later step, given the same input, agrees; BIASCORR alone is to blame.
    assert summary["attribution"]["BIASCORR"] == "this step"
    for later in ("CRCORR", "DARKCORR", "FLATCORR"):
        assert summary["attribution"][later] == "inherited", (later, summary)
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    sci = verdicts[
        (verdicts.configuration == "BIASCORR")
        & (verdicts.extname == "SCI")
        & (verdicts.comparison == "reference-vs-calstis")
    ]
    assert (sci.verdict == "differ").all() and len(sci) == 4


@pytest.mark.corpus
def test_missing_raw_file_is_one_line_exit_2(tmp_path, capsys):
    code, out = run_cli(capsys, tmp_path / "nope_raw.fits", "--no-calstis", "--truth", tmp_path)
    assert code == 2
    assert out.err.strip() == f"stischeck: {tmp_path / 'nope_raw.fits'}: raw file not found"


def test_no_calstis_and_no_truth_is_a_usage_error(tmp_path, capsys, monkeypatch):

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("STISCHECK_CALSTIS", raising=False)
    from stischeck.synth import SynthParams, write_dataset

    raw = write_dataset(SynthParams(seed=1), tmp_path / "data").raw  # a valid raw file
    code, out = run_cli(capsys, raw)
    assert code == 2
    assert "cs0.e" in out.err and "--truth" in out.err
    assert len(out.err.strip().splitlines()) == 1


def test_configuration_ladder_is_cumulative_and_expscorr_follows_crcorr():
    from astropy.io import fits

    header = fits.Header([("EXPSCORR", "PERFORM")])
    ladder = cfg.cumulative_sequence(header)
    assert [c.name for c in ladder] == ["RAW", *cfg.LADDER]
    assert ladder[0].performed == () and not ladder[0].expects_products
    assert ladder[3].performed == ("DQICORR", "BLEVCORR", "BIASCORR")
    assert ladder[4].switch_dict["EXPSCORR"] == "PERFORM"
    assert ladder[3].switch_dict["EXPSCORR"] == "OMIT"
    assert [c.name for c in cfg.cumulative_sequence(header, ["biascorr", "FLATCORR"])] == [
        "BIASCORR",
        "FLATCORR",
    ]
    assert cfg.single("darkcorr").performed == ("DARKCORR",)
    with pytest.raises(Exception, match="unknown step"):
        cfg.cumulative_sequence(header, ["SHADCORR"])


@pytest.mark.calstis
@pytest.mark.corpus
def test_without_oref_both_sides_use_the_oref_environment_variable(
    small_case, calstis_path, tmp_path, capsys, monkeypatch
):
    raw, oref, _ = small_case
    monkeypatch.setenv("oref", f"{oref}/")
    code, out = run_cli(
        capsys, raw, "--calstis", calstis_path, "--outdir", tmp_path / "out",
        "--steps", "BIASCORR", "--no-html",
    )  # fmt: skip
    assert code == 0, out.out + out.err
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert set(verdicts.verdict) == {"identical"}
