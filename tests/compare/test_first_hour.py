"""What a user meets in the first hour (issue 15): step-local runs that legitimately write
nothing, the headline's order, attribution of work that rides on another switch, --pixel
checked before anything runs, and the tables' small words."""

import dataclasses
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from stischeck import config as cfg
from stischeck.cli import main
from stischeck.compare import service
from stischeck.compare.engine import CompareSettings, run_compare
from stischeck.compare.tables import (
    ERR_INITIALISATION,
    STATISTICS_ONLY,
    headline,
    summarize,
    write_outputs,
)
from stischeck.diff.policy import default_policy
from tests.compare.test_compare import compare_cli
from tests.support.standins import fake_calstis

ONE_IMSET = "img_ampB_g1_sub1060x48_cr1"  # CRSPLIT=1, 1060x48 subarray, amp B
ONE_ROOT = "oxdmpg010"
FOUR_IMSETS = "img_ampC_g4_sub1060x40_cr4_f28x50lp_expscorr"  # 4 imsets, 1060x40
FOUR_ROOT = "onkqzf010"
STEPLOCAL = "steplocal-reference-vs-steplocal-calstis"


def _case(corpus_dir, name):
    case = corpus_dir / name
    raw = next(case.glob("*_raw.fits*"))
    return raw, case / "oref", case


#: cs0.e played by the reference itself: products as calstis names them, nothing written
#: when there is nothing to do (as cs0.e does, exit 0).
REFERENCE_AS_CALSTIS = """
from stischeck.cli import main
sys.exit(main(["reference", sys.argv[1], "--oref", os.environ["oref"], "--outroot", sys.argv[2]]))
"""


# --- 1. step-local runs that legitimately write nothing -------------------------------------


@pytest.mark.corpus
def test_steplocal_crcorr_on_one_imset_writing_nothing_on_both_sides_is_agreement(
    corpus_dir, tmp_path, capsys
):
    raw, oref, _ = _case(corpus_dir, ONE_IMSET)
    cs0 = fake_calstis(tmp_path, REFERENCE_AS_CALSTIS)
    out = tmp_path / "out"
    code, captured = compare_cli(capsys, raw, oref, cs0, out, "--steplocal", "always")
    text = captured.out
    assert code == 0, text
    assert "ERROR" not in text and "wrote no product" not in text
    verdicts = pd.read_csv(out / "verdicts.csv")
    row = verdicts[(verdicts.configuration == "CRCORR") & (verdicts.comparison == STEPLOCAL)]
    assert list(row.verdict) == ["empty"]
    assert "neither side wrote a product" in row.detail.iloc[0]
    assert "CRCORR" in row.detail.iloc[0]  # the reason, quoted from a side's own log
    summary = json.loads((out / "summary.json").read_text())
    assert summary["attribution"]["CRCORR"] == "agree"


#: The stand-in cs0.e writes a product where the reference has nothing to do: for the
#: step-local CRCORR run (a _flt input on one imset), a copy of its input marked SKIPPED.
WRITES_WHAT_THE_REFERENCE_DOES_NOT = """
from astropy.io import fits
from stischeck.cli import main
raw, outroot = sys.argv[1], sys.argv[2]
if "steplocal-input" in raw and fits.getval(raw, "CRCORR") == "PERFORM":
    with fits.open(raw) as hdul:
        hdul[0].header["CRCORR"] = "SKIPPED"
        hdul.writeto(outroot + os.path.basename(raw).replace("_raw", "_flt"))
    sys.exit(0)
sys.exit(main(["reference", raw, "--oref", os.environ["oref"], "--outroot", outroot]))
"""


@pytest.mark.corpus
def test_steplocal_product_on_one_side_only_is_a_difference_not_an_error(
    corpus_dir, tmp_path, capsys
):
    raw, oref, _ = _case(corpus_dir, ONE_IMSET)
    cs0 = fake_calstis(tmp_path, WRITES_WHAT_THE_REFERENCE_DOES_NOT)
    out = tmp_path / "out"
    steps = ("--steps", "BIASCORR,CRCORR")
    code, captured = compare_cli(capsys, raw, oref, cs0, out, "--steplocal", "always", *steps)
    text = captured.out
    assert code == 1, text
    verdicts = pd.read_csv(out / "verdicts.csv")
    row = verdicts[(verdicts.configuration == "CRCORR") & (verdicts.comparison == STEPLOCAL)]
    assert list(row.verdict) == ["differ"], row
    detail = row.detail.iloc[0]
    assert "_flt written by steplocal-calstis only" in detail
    assert "steplocal-reference wrote no product" in detail
    summary = json.loads((out / "summary.json").read_text())
    assert summary["attribution"]["CRCORR"] == "this step"


@pytest.mark.calstis
@pytest.mark.corpus
def test_unmodified_calstis_agrees_with_steplocal_always_on_every_corpus_case(
    corpus_dir, calstis_path, tmp_path, capsys
):
    cases = sorted(p for p in corpus_dir.iterdir() if (p / "manifest.json").exists())
    assert any(c.name == ONE_IMSET for c in cases)
    for case in cases:
        raw, oref, _ = _case(corpus_dir, case.name)
        out = tmp_path / case.name
        code = main(
            ["compare", str(raw), "--oref", str(oref), "--calstis", str(calstis_path),
             "--steplocal", "always", "--outdir", str(out), "--no-html"]
        )  # fmt: skip
        text = capsys.readouterr().out
        assert code == 0, (case.name, text)
        summary = json.loads((out / "summary.json").read_text())
        assert any(STEPLOCAL in e for e in summary["configurations"].values()), case.name


# --- 2 and 3, against the stored truth with a deliberately wrong reference ---------------------


def _compare_with_truth(corpus_dir, name, tmp_path):
    raw, oref, truth = _case(corpus_dir, name)
    plan = service.plan_comparison(raw, oref=oref, truth=truth)
    # In this process (reference_processes=0): the monkeypatched reference runs.
    outcome = service.compare_dataset(
        plan, tmp_path / "out", steplocal="never", reference_processes=0
    )
    return outcome.summary, outcome.text.splitlines()


def _noisier_err(monkeypatch):
    """The noise model with twice the read-noise variance (like the broken 'noise' build)."""
    import reference_impl.pipeline as pipeline

    real = pipeline.init_errors

    def wrong(science, **kw):
        return real(science, **dict(kw, readnoise_e=kw["readnoise_e"] * np.sqrt(2.0)))

    monkeypatch.setattr(pipeline, "init_errors", wrong)


def _wrong_snrmax(monkeypatch):
    """STATFLAG writing SNRMAX 1.5 times too large (like the broken 'statkey' build)."""
    import reference_impl.pipeline as pipeline

    real = pipeline.compute_statistics

    def wrong(science, **kw):
        stats = real(science, **kw)
        return dataclasses.replace(stats, snrmax=stats.snrmax * 1.5)

    monkeypatch.setattr(pipeline, "compute_statistics", wrong)


def _brighter_flat(monkeypatch):
    """FLATCORR dividing by a flat 0.1 % too small."""
    import reference_impl.pipeline as pipeline
    from reference_impl.imset import Imset

    real = pipeline.apply_flat

    def wrong(science, flat):
        out = real(science, flat)
        return Imset(out.sci * np.float32(1.001), out.err, out.dq)

    monkeypatch.setattr(pipeline, "apply_flat", wrong)


@pytest.mark.corpus
def test_headline_leads_with_the_extension_with_most_differing_pixels_in_all_imsets(
    corpus_dir, tmp_path, monkeypatch
):
    _noisier_err(monkeypatch)
    summary, text = _compare_with_truth(corpus_dir, FOUR_IMSETS, tmp_path)
    assert summary["exit_code"] == 1 and summary["first_divergent"] == "DQICORR"
    lines = summary["headline"]
    # ERR: every good pixel of every imset; SCI pixels agree; the keywords follow.
    assert lines[0].startswith("_flt ERR: ") and "pixels differ in all 4 imsets" in lines[0]
    assert all(not line.startswith("_flt SCI:") for line in lines)
    assert any("statistics keywords _flt SCI: " in line and "SNRMEAN" in line for line in lines)
    assert all(line.startswith("then ") for line in lines[1:])
    # The text summary shows the same lines right under the first divergent configuration.
    at = next(k for k, line in enumerate(text) if "first divergent configuration" in line)
    assert text[at + 1].strip() == lines[0]


@pytest.mark.corpus
def test_headline_puts_the_pixels_before_the_statistics_keywords(corpus_dir, tmp_path, monkeypatch):
    _brighter_flat(monkeypatch)
    summary, _ = _compare_with_truth(corpus_dir, FOUR_IMSETS, tmp_path)
    assert summary["first_divergent"] == "FLATCORR"
    lines = summary["headline"]
    # EXPSCORR: the four-imset _flt has more differing pixels than the one-imset _crj.
    assert lines[0].startswith("_flt SCI: 163,840 of 163,840 pixels differ in all 4 imsets")
    assert lines[1].startswith("_crj SCI: ") and "in the only imset" in lines[1], lines
    stats = [k for k, line in enumerate(lines) if "GOODMEAN" in line or "SNRMEAN" in line]
    assert stats and min(stats) > 0, lines


@pytest.mark.corpus
def test_an_err_only_difference_at_the_first_rung_is_named_err_initialisation(
    corpus_dir, tmp_path, monkeypatch
):
    _noisier_err(monkeypatch)
    summary, text = _compare_with_truth(corpus_dir, ONE_IMSET, tmp_path)
    assert summary["first_divergent"] == "DQICORR"
    assert summary["attribution"]["DQICORR"] == ERR_INITIALISATION
    assert f"first divergent configuration: DQICORR: {ERR_INITIALISATION}" in "\n".join(text)
    assert "the only imset" in summary["headline"][0]


@pytest.mark.corpus
def test_a_statistics_keyword_difference_is_named_statistics_keywords_only(
    corpus_dir, tmp_path, monkeypatch
):
    _wrong_snrmax(monkeypatch)
    summary, _ = _compare_with_truth(corpus_dir, ONE_IMSET, tmp_path)
    assert summary["first_divergent"] == "DQICORR"
    for name in cfg.LADDER:
        assert summary["attribution"][name] == STATISTICS_ONLY, (name, summary["attribution"])
    assert summary["headline"] == ["then statistics keywords _flt SCI: SNRMAX in the only imset"], (
        summary["headline"]
    )


def _fake_run(rows, *, calstis=True):
    configurations = cfg.cumulative_sequence(fits.Header())
    return SimpleNamespace(
        settings=SimpleNamespace(calstis="cs0.e" if calstis else None, truth=None),
        configurations=configurations,
        rows=rows,
        runs={},
    )


def _row(config, comparison, extname, imset, verdict="identical", **extra):
    base = dict(configuration=config, comparison=comparison, product="flt", extname=extname,
                imset=imset, verdict=verdict, n_differ=0, n_pixels=100, max_ulp=0,
                max_abs_diff=0.0, dq_bits="", keywords_differ=0, worst_x=None, worst_y=None,
                detail="", keywords=[])  # fmt: skip
    base.update(extra)
    return base


def test_a_statflag_bug_is_not_blamed_on_every_later_step():
    """Step-local runs differ only in statistics keywords: STATFLAG, not "this step"."""
    rows = [_row("RAW", "reference-vs-calstis", "", None, "empty", product="")]
    for name in cfg.LADDER:
        comparisons = ["reference-vs-calstis"] + ([STEPLOCAL] if name != "DQICORR" else [])
        for comparison in comparisons:
            for ext in ("SCI", "ERR", "DQ"):
                differ = ext == "SCI"
                rows.append(
                    _row(name, comparison, ext, 1, "differ" if differ else "identical",
                         keywords_differ=int(differ), keywords=["SNRMAX"] if differ else [])
                )  # fmt: skip
    summary = summarize(_fake_run(rows))
    assert summary["first_divergent"] == "DQICORR"
    assert set(summary["attribution"].values()) == {"agree", STATISTICS_ONLY}
    assert summary["attribution"]["RAW"] == "agree"


def test_headline_ranks_extensions_by_differing_pixels_summed_over_imsets():
    c = "reference-vs-calstis"
    rows = [
        _row("DQICORR", c, "SCI", 1, "differ", n_differ=3, max_abs_diff=1.0, max_ulp=9,
             worst_x=5, worst_y=6, keywords=["GOODMEAN"], keywords_differ=1),
        _row("DQICORR", c, "SCI", 2),
        _row("DQICORR", c, "ERR", 1, "differ", n_differ=60, max_abs_diff=0.5, max_ulp=4,
             worst_x=1, worst_y=2),
        _row("DQICORR", c, "ERR", 2, "differ", n_differ=50, max_abs_diff=0.7, max_ulp=5,
             worst_x=3, worst_y=4),
        _row("DQICORR", c, "DQ", 1, "differ", n_differ=7, dq_bits="2:DATALOST", worst_x=1,
             worst_y=1),
        _row("DQICORR", c, "DQ", 2),
        _row("DQICORR", c, "PRIMARY", 0, "differ", keywords=["MEANBLEV"], keywords_differ=1),
    ]  # fmt: skip
    lines = headline(rows)
    assert lines[0] == (
        "_flt ERR: 110 of 200 pixels differ in all 2 imsets (max |Δ| 0.7 DN, max 5 ulp), "
        "worst at [3, 4] imset 2"
    )
    assert lines[1].startswith("_flt DQ: 7 of 100 pixels differ in imset 1 of 2 (DQ bits 2:")
    assert lines[2].startswith("_flt SCI: 3 of 100 pixels differ in imset 1 of 2")
    assert lines[3] == "then keywords _flt primary header: MEANBLEV"
    assert lines[4] == "then statistics keywords _flt SCI: GOODMEAN in imset 1 of 2"
    # Equal counts: SCI before the ERR and DQ derived from it.
    tied = [
        dict(r, n_differ=5 if r["extname"] == "ERR" else 10) if r["n_differ"] else r for r in rows
    ]  # 10 pixels in each extension
    assert [line.split(":")[0] for line in headline(tied)[:3]] == [
        "_flt SCI",
        "_flt ERR",
        "_flt DQ",
    ]


# --- 6. --pixel is checked before anything runs ------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("pixel", ["5000,10", "1025,10", "10,49"])
def test_a_pixel_outside_the_final_product_is_one_line_exit_2_before_anything_runs(
    pixel, corpus_dir, tmp_path, capsys, monkeypatch
):
    raw, oref, truth = _case(corpus_dir, ONE_IMSET)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    code = main(
        ["compare", str(raw), "--oref", str(oref), "--truth", str(truth), "--no-calstis",
         "--pixel", pixel, "--outdir", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(f"stischeck: --pixel {pixel}: outside the final product, 1024 x 48")
    assert not out.exists()  # nothing ran


@pytest.mark.corpus
def test_final_shape_from_the_raw_file_is_the_shape_of_every_corpus_final_product(corpus_dir):
    from stischeck.commands.compare import final_shape
    from stischeck.inputs import read_raw_header

    cases = sorted(p for p in corpus_dir.iterdir() if (p / "manifest.json").exists())
    assert len(cases) >= 6
    for case in cases:
        raw, _, truth = _case(corpus_dir, case.name)
        header = read_raw_header(raw)
        configurations = cfg.configurations_for(header, truth=truth)
        nx, ny, _ = final_shape(raw, configurations)
        final = next((truth / "FLATCORR").glob("*_[cf][rl][jt].fits*"))
        crj = sorted((truth / "FLATCORR").glob("*_crj.fits*"))
        final = crj[0] if crj else final
        assert fits.getheader(final, 1)["NAXIS1"] == nx, case.name
        assert fits.getheader(final, 1)["NAXIS2"] == ny, case.name
        untrimmed = cfg.configurations_for(header, steps=["DQICORR"])
        assert final_shape(raw, untrimmed)[:2] == (
            fits.getheader(raw, 1)["NAXIS1"],
            fits.getheader(raw, 1)["NAXIS2"],
        )


# --- rough edges: runs.csv return codes, RAW said once -----------------------------------------


@pytest.mark.corpus
def test_runs_csv_return_codes_are_integers_and_raw_is_said_once(corpus_dir, tmp_path, capsys):
    raw, oref, truth = _case(corpus_dir, ONE_IMSET)
    cs0 = fake_calstis(tmp_path, REFERENCE_AS_CALSTIS)
    out = tmp_path / "out"
    code = main(
        ["compare", str(raw), "--oref", str(oref), "--calstis", str(cs0), "--truth", str(truth),
         "--steps", "RAW,DQICORR", "--outdir", str(out), "--no-html"]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    lines = (out / "runs.csv").read_text().splitlines()
    calstis = [line for line in lines if ",calstis," in line]
    assert calstis and all(",0," in line and ",0.0," not in line for line in calstis), lines
    (raw_line,) = [line for line in text.splitlines() if line.strip().startswith("RAW ")]
    assert raw_line.count("empty") == 1, raw_line
    assert "3 comparisons" in raw_line


@pytest.mark.corpus
def test_report_first_screen_leads_with_the_headline_and_says_raw_empty_once(
    corpus_dir, tmp_path, monkeypatch
):
    """Reference with the noise bug (in this process) vs cs0.e played by the true reference
    (a subprocess) vs the stored truth: three comparisons, step-local runs included."""
    import re

    from stischeck.report import write_report

    raw, oref, truth = _case(corpus_dir, FOUR_IMSETS)
    _noisier_err(monkeypatch)
    settings = CompareSettings(
        raw=raw,
        oref=oref,
        outdir=tmp_path / "out",
        calstis=fake_calstis(tmp_path, REFERENCE_AS_CALSTIS),
        truth=truth,
        policy=default_policy(),
        jobs=1,
        steplocal="auto",
        reference_processes=0,
    )
    header = fits.getheader(raw)
    run = run_compare(settings, cfg.configurations_for(header, truth=truth), FOUR_ROOT)
    summary = write_outputs(run)
    assert summary["exit_code"] == 1 and summary["first_divergent"] == "DQICORR"
    assert summary["attribution"]["DQICORR"] == ERR_INITIALISATION
    assert summary["attribution"]["BLEVCORR"] == "inherited"  # the step itself agrees
    page = write_report(tmp_path / "out").read_text()
    callout = page[page.index("First divergent step") :]
    callout = callout[: callout.index("</div>")]
    assert "ERR initialisation" in callout
    lines = re.sub(r"<[^>]+>", "\n", callout.replace("<br>", "\n")).split("\n")
    lines = [line.strip() for line in lines if line.strip().startswith(("_flt", "_crj", "then"))]
    assert lines[0].startswith("_flt ERR: ") and "all 4 imsets" in lines[0], lines
    ladder = page[page.index('class="ladder"') : page.index('href="#cfg-DQICORR"')]
    assert ladder.count("v-empty") == 1, ladder


#: Deliberately broken cs0.e builds (one small edit each, built outside the project):
#: ``$STISCHECK_BROKEN_BUILDS/<name>/cs0.e``. name -> (first divergent step, attribution).
BROKEN = {
    "overscan": ("BLEVCORR", "this step"),
    "dqflag": ("DQICORR", "this step"),
    "noise": ("DQICORR", ERR_INITIALISATION),
}


@pytest.mark.calstis
@pytest.mark.corpus
@pytest.mark.parametrize("case_name", [ONE_IMSET, "img_ampD_g1_bin4x4_cr2"])  # CRSPLIT 1, 2
@pytest.mark.parametrize("build", list(BROKEN))
def test_a_broken_calstis_is_found_at_its_step_with_the_largest_extension_first(
    build, case_name, corpus_dir, tmp_path, capsys
):
    builds = os.environ.get("STISCHECK_BROKEN_BUILDS")
    cs0 = Path(builds or "/nonexistent") / build / "cs0.e"
    if not cs0.is_file():
        pytest.skip(f"no broken build {build}: set STISCHECK_BROKEN_BUILDS to their folder")
    raw, oref, _ = _case(corpus_dir, case_name)
    out = tmp_path / "out"
    code = main(
        ["compare", str(raw), "--oref", str(oref), "--calstis", str(cs0), "--outdir", str(out),
         "--no-html"]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 1, text
    step, attribution = BROKEN[build]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["first_divergent"] == step, text
    assert summary["attribution"][step] == attribution, text
    verdicts = pd.read_csv(out / "verdicts.csv")
    first = verdicts[
        (verdicts.configuration == step) & (verdicts.comparison == "reference-vs-calstis")
    ]
    most = first.groupby(["product", "extname"]).n_differ.sum().idxmax()
    assert summary["headline"][0].startswith(f"_{most[0]} {most[1]}: "), (most, text)


@pytest.mark.corpus
def test_batch_index_worst_finding_is_the_headline_not_the_first_row(
    corpus_dir, tmp_path, monkeypatch
):
    from stischeck.batch.aggregate import _headline_text, _read_verdicts, _worst_text

    _noisier_err(monkeypatch)
    summary, _ = _compare_with_truth(corpus_dir, ONE_IMSET, tmp_path)
    frame = _read_verdicts(tmp_path / "out")
    assert "_flt SCI" in _worst_text(frame, summary["primary_comparison"])  # SNR keywords
    assert _headline_text(summary).startswith("DQICORR: _flt ERR: 50,880 of 50,880 pixels")


def test_an_err_only_difference_without_step_local_runs_is_err_initialisation_only_on_rung_one():
    """Without step-local runs an ERR-only difference at BIASCORR may be BIASCORR's own."""
    c = "reference-vs-truth"
    rows = [_row("RAW", c, "", None, "empty", product="")]
    for name in cfg.LADDER:
        rows.append(_row(name, c, "SCI", 1))
        differ = name in ("BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")
        rows.append(_row(name, c, "ERR", 1, "differ" if differ else "identical",
                         n_differ=50 if differ else 0))  # fmt: skip
    summary = summarize(_fake_run(rows, calstis=False))
    assert summary["first_divergent"] == "BIASCORR"
    assert summary["attribution"]["BIASCORR"] == "this step"
    # The same difference on the first rung can only come from the noise model.
    first_rung = [dict(r, verdict="differ", n_differ=50) if r["extname"] == "ERR" else r
                  for r in rows]  # fmt: skip
    summary = summarize(_fake_run(first_rung, calstis=False))
    assert summary["attribution"]["DQICORR"] == ERR_INITIALISATION
    assert summary["attribution"]["BLEVCORR"] == "unknown"
