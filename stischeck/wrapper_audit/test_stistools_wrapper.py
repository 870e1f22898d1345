"""The stistools wrappers build the cs0.e / cs1.e / cs2.e command lines their options promise.

Run with ``pytest --pyargs stischeck.wrapper_audit`` (stischeck's own suite
runs it through ``tests/plugin/test_wrapper_audit.py``). Each case calls the
wrapper against a recording fake executable first on PATH; the known
stistools 1.4 findings are strict xfails, so a fixed stistools shows up as an
XPASS failure, and documented behaviour a caller must know about is asserted
as it is.
"""

import pytest

from stischeck.wrapper_audit.cases import CASES, check, run_case


def _param(case):
    marks = ()
    if case.finding:
        marks = pytest.mark.xfail(strict=True, reason=case.finding, raises=case.raises)
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_wrapper_builds_the_command_line_its_options_give(case, tmp_path):
    """The recorded command line means to hstcal what the keyword arguments say."""
    returned, calls = run_case(case, tmp_path)
    check(case, returned, calls)


def _case(case_id):
    return next(c for c in CASES if c.id == case_id)


@pytest.mark.parametrize("exit_code", ["1", "3", "SIGSEGV", "SIGKILL"])
def test_calstis_returns_1_for_any_cs0_failure_a_crash_included(exit_code, tmp_path):
    """Documented ("1 ... if cs0.e returned a non-zero status"): exit status and signal are lost.

    A caller of the wrapper cannot tell a crash from an error (stischeck's
    stistools runner reads cs0.e's real status by observing the call).
    """
    returned, calls = run_case(_case("calstis-default"), tmp_path, exit_code=exit_code)
    assert len(calls) == 1
    assert returned == 1


def test_calstis_print_version_returns_0_even_when_cs0_fails(tmp_path):
    """print_version returns 0 whatever cs0.e --version does."""
    returned, calls = run_case(_case("calstis-print-version"), tmp_path, exit_code="2")
    assert calls == [["cs0.e", "--version"]]
    assert returned == 0


def test_calstis_appends_to_an_existing_trailer(tmp_path):
    """Documented: a rerun with the same trailer appends (the caller must remove it first)."""
    from dataclasses import replace

    case = replace(
        _case("calstis-default"), kwargs={"input": "o8aud1010_raw.fits", "trailer": "t.trl"}
    )
    (tmp_path / "t.trl").write_text("earlier run\n")
    run_case(case, tmp_path)
    assert (tmp_path / "t.trl").read_text().startswith("earlier run\n")


def test_basic2d_drops_darkscale_zero_which_cs1_ignores_anyway(tmp_path):
    """``if darkscale:`` drops 0; harmless, cs1.e uses a darkscale only when it is > 0.

    (Except with every switch omit, where ``-dscl 0`` would have counted as a
    switch option: see basic2d-all-omit.)
    """
    from dataclasses import replace

    case = replace(_case("basic2d-default"), kwargs={"input": "o8aud1010_raw.fits", "darkscale": 0})
    _, calls = run_case(case, tmp_path)
    assert "-dscl" not in calls[0]


def test_every_finding_passes_the_check_once_the_wrapper_builds_the_right_line():
    """A fixed stistools flips each strict xfail: the check accepts the intended command line."""
    from stischeck.wrapper_audit.cases import PROGRAMS

    for case in CASES:
        if case.should is None or isinstance(case.should, dict):
            continue
        check(case, 0, [[PROGRAMS[case.wrapper], *case.should]])


def test_the_check_rejects_a_dropped_option():
    """The check is not vacuous: the crradius=0 line without ``-radius 0`` fails it."""
    case = _case("ocrreject-crradius-zero")
    with pytest.raises(AssertionError, match="-radius"):
        check(case, 0, [["cs2.e", *case.should[:2]]])


# --- the findings that need cs1.e itself, confirmed with the real program


@pytest.fixture
def cs1_path(request):
    """cs1.e: ``$STISCHECK_CS1``, beside the session's cs0.e, or on PATH; else skip."""
    import os
    import shutil
    from pathlib import Path

    given = os.environ.get("STISCHECK_CS1")
    if given:
        return Path(given)
    for candidate in _beside_cs0(request):
        if candidate.is_file():
            return candidate
    found = shutil.which("cs1.e")
    if found:
        return Path(found)
    pytest.skip("cs1.e not found (STISCHECK_CS1, beside cs0.e, PATH)")


def _beside_cs0(request):
    from stischeck.environment import find_calstis

    cs0, _ = find_calstis(request.config.getoption("--stischeck-calstis", default=None))
    return [cs0.resolve().parent / "cs1.e"] if cs0 is not None else []


def _demo_raw(folder):
    """The bundled demo raw file, uncompressed into ``folder``, and its oref folder."""
    import gzip
    import shutil
    from pathlib import Path

    demo = Path(__file__).resolve().parent.parent / "data" / "demo"
    raw = next(demo.glob("*_raw.fits.gz"))
    local = Path(folder) / raw.name[:-3]
    with gzip.open(raw) as src, local.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return local, demo / "oref"


def _run_basic2d_live(cs1, folder, monkeypatch, **kwargs):
    """basic2d on the demo raw file with the real cs1.e first on PATH; (returned, raw copy)."""
    import os

    from stischeck.wrapper_audit.cases import wrapper_function

    raw, oref = _demo_raw(folder)
    bindir = folder / "_bin"
    bindir.mkdir()
    (bindir / "cs1.e").symlink_to(cs1.resolve())
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("oref", f"{oref}/")
    monkeypatch.chdir(folder)
    basic2d = wrapper_function("basic2d")
    return basic2d(raw.name, trailer="b2d.trl", **kwargs), raw


def test_basic2d_outblev_without_output_crashes_the_real_cs1(cs1_path, tmp_path, monkeypatch):
    """basic2d-outblev-without-output, live: cs1.e takes blev.txt as the output and crashes."""
    returned, raw = _run_basic2d_live(cs1_path, tmp_path, monkeypatch, outblev="blev.txt")
    assert returned == 1
    assert not (tmp_path / raw.name.replace("_raw", "_flt")).exists()
    assert not (tmp_path / "blev.txt").exists()


def test_basic2d_with_every_switch_omit_still_performs_the_defaults(
    cs1_path, tmp_path, monkeypatch
):
    """basic2d-all-omit, live: cs1.e sets out to do PHOTCORR although photcorr='omit'.

    The demo data set has no IMPHTTAB (stischeck never performs PHOTCORR), so a
    cs1.e that performs its default switches stops on the missing table.
    """
    omit = dict.fromkeys(
        "dqicorr blevcorr doppcorr lorscorr glincorr lflgcorr biascorr darkcorr flatcorr "
        "photcorr".split(),
        "omit",
    )
    returned, _ = _run_basic2d_live(cs1_path, tmp_path, monkeypatch, statflag=False, **omit)
    assert returned == 1
    assert "IMPHTTAB" in (tmp_path / "b2d.trl").read_text()
    # The same call with one switch on runs that switch only, and succeeds.
    (tmp_path / "_bin").rename(tmp_path / "_bin_first")
    omit["dqicorr"] = "perform"
    returned, _ = _run_basic2d_live(cs1_path, tmp_path, monkeypatch, statflag=False, **omit)
    assert returned == 0
