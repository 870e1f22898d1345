"""The probes' decisions on fake products and fake cs0.e scripts (no calstis needed)."""

import csv
import dataclasses
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck.cli import main
from stischeck.probes import (
    COULD_NOT_RUN,
    CRASHES,
    FAILS,
    FIXED,
    PROBES,
    STILL_PRESENT,
    ProbeInput,
    RunFacts,
    catalog,
    judge,
    run_probe,
    select,
)
from stischeck.probes.html import render_probes_html
from stischeck.probes.model import Probe, ProbeResult, Verdict

PIXELS = [(4, 20), (8, 40), (12, 60), (16, 80)]


def probe(name):
    return next(p for p in PROBES if p.name == name)


def write_product(path, sci_list, dq_list=None, *, header=None):
    """A minimal _flt/_crj: primary + (SCI, ERR, DQ) per imset; DQ None is a null extension."""
    hdus = [fits.PrimaryHDU()]
    for k, sci in enumerate(sci_list, start=1):
        h = fits.Header({"EXTNAME": "SCI", "EXTVER": k, "LTV1": 0.0, "LTV2": 0.0})
        h.update(header or {})
        hdus.append(fits.ImageHDU(np.asarray(sci, np.float32), h))
        hdus.append(
            fits.ImageHDU(
                np.zeros_like(sci, np.float32), fits.Header({"EXTNAME": "ERR", "EXTVER": k})
            )
        )
        dq = None if dq_list is None else dq_list[k - 1]
        if dq is None:
            null = fits.ImageHDU(header=fits.Header({"EXTNAME": "DQ", "EXTVER": k}))
            null.header["NPIX1"], null.header["NPIX2"], null.header["PIXVALUE"] = (
                sci.shape[1], sci.shape[0], 0)  # fmt: skip
            hdus.append(null)
        else:
            hdus.append(
                fits.ImageHDU(np.asarray(dq, np.int16), fits.Header({"EXTNAME": "DQ", "EXTVER": k}))
            )
    fits.HDUList(hdus).writeto(path)
    return path


def frame(value=100.0, shape=(20, 100)):
    return np.full(shape, value, np.float32)


def with_excess(value, dn):
    a = frame(value)
    for y, x in PIXELS:
        a[y, x] += dn
    return a


def inp(**notes):
    return ProbeInput(
        Path("raw.fits"), Path("oref"), {"pixels": PIXELS, "raw_ltv": (0.0, 0.0), **notes}
    )


# ---------------------------------------------------------------- judge: signals, timeouts


def test_judge_calls_a_signal_a_crash_unless_the_crash_is_the_issue():
    facts = RunFacts(returncode=-11, signal="SIGSEGV")
    assert judge(probe("exptime_zero_imset"), facts, inp()).status == CRASHES
    verdict = judge(probe("null_dq_sky_crash"), facts, inp())
    assert verdict.status == STILL_PRESENT and "SIGSEGV" in verdict.detail


def test_judge_calls_a_hang_a_crash():
    verdict = judge(
        probe("null_dq_sky_crash"), RunFacts(returncode=None, message="timed out"), inp()
    )
    assert verdict.status == CRASHES and "hung" in verdict.detail


def test_judge_says_could_not_run_when_a_product_cannot_be_read(tmp_path):
    bad = tmp_path / "x_crj.fits"
    bad.write_bytes(b"not fits")
    verdict = judge(
        probe("exptime_zero_imset"),
        RunFacts(0, products={"crj": bad}),
        inp(zero_imset=2, n_imsets=3),
    )
    assert verdict.status == COULD_NOT_RUN and "could not read" in verdict.detail


def test_a_non_zero_exit_where_products_were_expected_fails():
    verdict = judge(
        probe("long_paths"), RunFacts(returncode=1, message="cs0.e failed"), inp(stem="s")
    )
    assert verdict == Verdict(FAILS, "cs0.e failed")


def test_verdict_rejects_an_unknown_status():
    with pytest.raises(ValueError, match="unknown probe status"):
        Verdict("maybe", "")


# ---------------------------------------------------------------- decisions on fake products


def test_cr_guess_probe_says_present_when_the_sources_are_lost(tmp_path):
    crj = write_product(tmp_path / "a_crj.fits", [with_excess(100.0, 5.0)])
    v = catalog.decide_cr_guess_ignores_dq(RunFacts(0, products={"crj": crj}), inp(source_dn=6000))
    assert v.status == STILL_PRESENT and "4 of 4 sources lost" in v.detail


def test_cr_guess_probe_says_fixed_when_the_sources_stay(tmp_path):
    crj = write_product(tmp_path / "a_crj.fits", [with_excess(100.0, 5900.0)])
    v = catalog.decide_cr_guess_ignores_dq(RunFacts(0, products={"crj": crj}), inp(source_dn=6000))
    assert v.status == FIXED


def test_cr_guess_probe_will_not_guess_on_a_half_and_half_result(tmp_path):
    sci = with_excess(100.0, 6000.0)
    sci[4, 20] = sci[8, 40] = 100.0
    crj = write_product(tmp_path / "a_crj.fits", [sci])
    v = catalog.decide_cr_guess_ignores_dq(RunFacts(0, products={"crj": crj}), inp(source_dn=6000))
    assert v.status == COULD_NOT_RUN


def test_cr_guess_probe_maps_raw_pixels_through_ltv(tmp_path):
    # The product starts 18 columns later than the raw array: pixels move 18 to the left.
    sci = frame(100.0)
    for y, x in PIXELS:
        sci[y, x - 18] += 6000.0
    crj = write_product(tmp_path / "a_crj.fits", [sci])
    notes = inp(source_dn=6000)
    moved = ProbeInput(notes.raw, notes.oref, notes.notes | {"raw_ltv": (0.0, 18.0)})
    assert (
        catalog.decide_cr_guess_ignores_dq(RunFacts(0, products={"crj": crj}), moved).status
        == FIXED
    )
    assert (
        catalog.decide_cr_guess_ignores_dq(RunFacts(0, products={"crj": crj}), notes).status
        == STILL_PRESENT
    )


def _cr_products(tmp_path, *, flagged, in_flt=True, rejected=True):
    flt1 = with_excess(100.0, 20000.0 if in_flt else 0.0)
    dq1 = np.zeros(flt1.shape, np.int16)
    if flagged:
        for y, x in PIXELS:
            dq1[y, x] = 8192
    flt = write_product(tmp_path / "a_flt.fits", [flt1, frame()], [dq1, None])
    crj = write_product(tmp_path / "a_crj.fits", [with_excess(200.0, 0.0 if rejected else 10000.0)])
    return RunFacts(0, products={"crj": crj, "flt": flt})


def test_null_dq_cr_flag_probe_says_present_when_the_flt_lost_the_flags(tmp_path):
    v = catalog.decide_cr_flags_null_dq(_cr_products(tmp_path, flagged=False), inp())
    assert v.status == STILL_PRESENT and "0 of 4 flagged 8192" in v.detail


def test_null_dq_cr_flag_probe_says_fixed_when_the_flt_has_the_flags(tmp_path):
    assert (
        catalog.decide_cr_flags_null_dq(_cr_products(tmp_path, flagged=True), inp()).status == FIXED
    )


def test_null_dq_cr_flag_probe_needs_a_rejected_cosmic_ray(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    none_in = catalog.decide_cr_flags_null_dq(
        _cr_products(tmp_path / "a", flagged=False, in_flt=False), inp()
    )
    kept = catalog.decide_cr_flags_null_dq(
        _cr_products(tmp_path / "b", flagged=False, rejected=False), inp()
    )
    assert none_in.status == COULD_NOT_RUN and "no test" in none_in.detail
    assert kept.status == COULD_NOT_RUN and "stayed in the _crj" in kept.detail


def test_null_dq_cr_flag_probe_fails_without_the_flt(tmp_path):
    crj = write_product(tmp_path / "a_crj.fits", [frame()])
    v = catalog.decide_cr_flags_null_dq(RunFacts(0, products={"crj": crj}), inp())
    assert v.status == FAILS and "_flt" in v.detail


def test_exptime_zero_probe_wants_the_warning_the_exclusion_and_finite_pixels(tmp_path):
    notes = inp(zero_imset=2, n_imsets=3)
    warning = "Warning  imset 2 flagged as bad because exptime = 0\n"
    good = write_product(tmp_path / "g_crj.fits", [frame()], header={"NCOMBINE": 2})
    assert (
        catalog.decide_exptime_zero(
            RunFacts(0, products={"crj": good}, trailer=warning), notes
        ).status
        == FIXED
    )
    assert (
        catalog.decide_exptime_zero(RunFacts(0, products={"crj": good}, trailer=""), notes).status
        == STILL_PRESENT
    )
    nan = frame()
    nan[3, 3] = np.nan
    bad = write_product(tmp_path / "b_crj.fits", [nan], header={"NCOMBINE": 2})
    v = catalog.decide_exptime_zero(RunFacts(0, products={"crj": bad}, trailer=warning), notes)
    assert v.status == STILL_PRESENT and "non-finite _crj pixels: 1" in v.detail
    three = write_product(tmp_path / "t_crj.fits", [frame()], header={"NCOMBINE": 3})
    assert (
        catalog.decide_exptime_zero(
            RunFacts(0, products={"crj": three}, trailer=warning), notes
        ).status
        == STILL_PRESENT
    )


def test_sizes_probe_wants_a_clean_refusal(tmp_path):
    said = "ERROR    file 'x[2][sci]' does not have the same size as the first image"
    assert catalog.decide_sizes_differ(RunFacts(2, trailer=said), inp()).status == FIXED
    assert (
        catalog.decide_sizes_differ(RunFacts(2, trailer="ERROR something"), inp()).status
        == STILL_PRESENT
    )
    crj = write_product(tmp_path / "a_crj.fits", [frame()])
    v = catalog.decide_sizes_differ(RunFacts(0, products={"crj": crj}), inp())
    assert v.status == STILL_PRESENT and "combined" in v.detail


def test_long_path_probe_wants_the_full_name_in_products_and_trailer(tmp_path):
    stem = "o" + "long_" * 10
    path = f"{'d' * 60}/{stem}_raw.fits"
    crj = write_product(tmp_path / f"{stem}_crj.fits", [frame()])
    notes = inp(stem=stem, path=path)
    good = RunFacts(0, products={"crj": crj}, trailer=f"Input    {path}\n")
    assert catalog.decide_long_paths(good, notes).status == FIXED
    cut = RunFacts(0, products={"crj": crj}, trailer=f"Input    {path[:80]}\n")
    v = catalog.decide_long_paths(cut, notes)
    assert v.status == STILL_PRESENT and "input path in the trailer: no" in v.detail
    short = write_product(tmp_path / "o_crj.fits", [frame()])
    v = catalog.decide_long_paths(RunFacts(0, products={"crj": short}, trailer=path), notes)
    assert v.status == STILL_PRESENT and "name: no" in v.detail


def test_read_dq_expands_null_extensions(tmp_path):
    dq = np.zeros((20, 100), np.int16)
    dq[1, 2] = 8192
    path = write_product(tmp_path / "a_flt.fits", [frame(), frame()], [None, dq])
    a, b = catalog.read_dq(path)
    assert a.shape == (20, 100) and not a.any() and b[1, 2] == 8192


def test_select_names_the_unknown_probe():
    from stischeck.errors import UsageError

    assert select(()) == PROBES
    assert [p.name for p in select(["long_paths"])] == ["long_paths"]
    with pytest.raises(UsageError, match="unknown probe nope"):
        select(["nope"])


# ---------------------------------------------------------------- fake cs0.e scripts


def fake_cs0(tmp_path, body: str) -> Path:
    """A cs0.e stand-in: a Python script run as ``cs0.e RAW out/`` in the work folder."""
    path = tmp_path / "bin" / "cs0.e"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\nimport os, sys, signal, pathlib, shutil\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def tiny_probe(decide=None) -> Probe:
    """A probe whose reproducer is a stub file (the fake cs0.e does not read it)."""

    def build(workdir):
        run = Path(workdir) / "run"
        run.mkdir(parents=True)
        (run / "o_raw.fits").write_bytes(b"")
        return ProbeInput(run / "o_raw.fits", Path(workdir), {})

    return Probe("tiny", "t", "i", "e", "p", build, decide or (lambda f, i: Verdict(FIXED, "ok")))


def test_run_probe_reports_a_segfaulting_build_as_a_crash(tmp_path):
    cs0 = fake_cs0(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")
    result = run_probe(tiny_probe(), cs0, tmp_path / "w")
    assert result.status == CRASHES and result.verdict.detail == "killed by SIGSEGV"
    assert result.returncode == -11


def test_run_probe_passes_a_clean_run_to_the_decision_with_its_products(tmp_path):
    seen = {}

    def decide(facts, _inp):
        seen.update(rc=facts.returncode, products=sorted(facts.products), trailer=facts.trailer)
        return Verdict(FIXED, "ok")

    cs0 = fake_cs0(
        tmp_path, "print('hello from cs0'); pathlib.Path('out/o_crj.fits').write_bytes(b'')"
    )
    result = run_probe(tiny_probe(decide), cs0, tmp_path / "w")
    assert result.status == FIXED
    assert seen == {"rc": 0, "products": ["crj"], "trailer": "hello from cs0\n"}


def test_run_probe_finds_products_a_failing_run_left_behind(tmp_path):
    seen = {}

    def decide(facts, _inp):
        seen.update(rc=facts.returncode, products=sorted(facts.products))
        return Verdict(FAILS, facts.message)

    cs0 = fake_cs0(tmp_path, "pathlib.Path('out/o_crj.fits').write_bytes(b''); sys.exit(2)")
    run_probe(tiny_probe(decide), cs0, tmp_path / "w")
    assert seen == {"rc": 2, "products": ["crj"]}


def test_run_probe_kills_a_hung_build_at_the_timeout(tmp_path):
    cs0 = fake_cs0(tmp_path, "import time; time.sleep(60)")
    result = run_probe(tiny_probe(), cs0, tmp_path / "w", timeout_s=0.5)
    assert result.status == CRASHES and "hung" in result.verdict.detail and result.wall_s < 30


def test_run_probe_says_could_not_run_when_cs0_cannot_start(tmp_path):
    result = run_probe(tiny_probe(), tmp_path / "missing" / "cs0.e", tmp_path / "w")
    assert result.status == COULD_NOT_RUN and "could not start" in result.verdict.detail


def test_run_probe_says_could_not_run_when_the_reproducer_cannot_be_built(tmp_path):
    def build(_workdir):
        raise OSError("disk full")

    broken = dataclasses.replace(tiny_probe(), build=build)
    result = run_probe(broken, fake_cs0(tmp_path, "pass"), tmp_path / "w")
    assert result.status == COULD_NOT_RUN and "disk full" in result.verdict.detail


def test_a_real_reproducer_reaches_a_fake_build(tmp_path):
    # The whole path with a real synthetic input: a build that refuses everything.
    cs0 = fake_cs0(
        tmp_path,
        "pathlib.Path('args.txt').write_text(' '.join(sys.argv[1:]))\n"
        "print('ERROR no'); sys.exit(1)",
    )
    result = run_probe(probe("long_paths"), cs0, tmp_path / "w")
    assert result.status == FAILS and "exit status 1" in result.verdict.detail
    # cs0.e was given the long relative path: the fake records its arguments.
    (args,) = [p.read_text() for p in (tmp_path / "w").rglob("args.txt")]
    assert len(args.split()[0]) == 231 and args.split()[1] == "out/"


# ---------------------------------------------------------------- command, CSV, HTML


def test_probes_command_writes_the_table_csv_and_html(tmp_path, capsys):
    cs0 = fake_cs0(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")
    code = main(["probes", "--calstis", str(cs0), "--probe", "null_dq_sky_crash",
                 "--probe", "exptime_zero_imset", "--outdir", str(tmp_path / "out")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "null_dq_sky_crash" in out and "still present" in out and "crashes" in out
    rows = list(csv.DictReader((tmp_path / "out" / "probes.csv").read_text().splitlines()))
    assert [(r["probe"], r["status"]) for r in rows] == [
        ("null_dq_sky_crash", STILL_PRESENT),
        ("exptime_zero_imset", CRASHES),
    ]
    page = (tmp_path / "out" / "probes.html").read_text()
    assert "<script" not in page and "still present" in page and str(cs0) in page


def test_probes_command_reruns_into_the_same_outdir(tmp_path, capsys):
    cs0 = fake_cs0(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")
    args = ["probes", "--calstis", str(cs0), "--probe", "exptime_zero_imset",
            "--outdir", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 0
    assert "could not run" not in capsys.readouterr().out


def test_probes_command_exits_2_when_a_probe_could_not_run(tmp_path, capsys):
    cs0 = fake_cs0(tmp_path, "sys.exit(0)")  # exits 0 and writes nothing: no test of #221
    code = main(["probes", "--calstis", str(cs0), "--probe", "cr_flags_null_dq"])
    assert code == 0  # "fails" (no product): the probe ran
    code = main(["probes", "--calstis", str(tmp_path / "nothere")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cs0.e not found" in err


def test_probes_command_exit_code_follows_could_not_run(tmp_path, monkeypatch, capsys):
    import stischeck.probes as probes_pkg

    def fake_run(probes, builds, outdir, **kw):
        return [ProbeResult(probes[0], builds[0], Verdict(COULD_NOT_RUN, "no data"))]

    monkeypatch.setattr(probes_pkg, "run_probes", fake_run)
    code = main(["probes", "--calstis", str(fake_cs0(tmp_path, "pass")), "--probe", "long_paths"])
    assert code == 2 and "could not run" in capsys.readouterr().out


def test_probes_command_names_an_unknown_probe(tmp_path, capsys):
    code = main(["probes", "--calstis", str(fake_cs0(tmp_path, "pass")), "--probe", "nope"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown probe nope" in err and err.count("\n") == 1


def test_probe_html_escapes_what_it_shows():
    p = dataclasses.replace(PROBES[0], title="<b>x</b>")
    page = render_probes_html([ProbeResult(p, Path("/a<b>/cs0.e"), Verdict(FIXED, "<script>"))])
    assert "<script>" not in page.split("</style>")[1]
    assert "&lt;script&gt;" in page and "/a&lt;b&gt;/cs0.e" in page
