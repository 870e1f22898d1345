"""The pytest plugin as another project's suite sees it (pytester), and its assertion helper."""

import gzip
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from stischeck.pytest_plugin import assert_products_agree

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent
PRODUCT = "img_ampB_g1_sub1060x48_cr1/DQICORR/oxdmpg010_flt.fits.gz"

MARKED = """
import pytest

@pytest.mark.calstis
def test_needs_calstis(stischeck_calstis_path):
    print("CALSTIS", stischeck_calstis_path)

@pytest.mark.corpus
def test_needs_corpus(stischeck_truth_dir):
    print("TRUTH", stischeck_truth_dir)

def test_plain():
    pass
"""


@pytest.fixture
def nothing_found(monkeypatch, tmp_path):
    """An environment with no cs0.e and no corpus."""
    monkeypatch.delenv("STISCHECK_CALSTIS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("STISCHECK_CORPUS", str(tmp_path / "no-corpus"))


def fake_cs0(tmp_path) -> Path:
    path = tmp_path / "bin" / "cs0.e"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_plugin_is_loaded_through_its_entry_point(pytester):
    config = pytester.parseconfig()
    plugin = config.pluginmanager.get_plugin("stischeck")
    assert plugin is not None and plugin.__name__ == "stischeck.pytest_plugin"
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--stischeck-calstis=PATH" in help_text and "--stischeck-truth=DIR" in help_text


def test_markers_skip_with_one_line_reasons(pytester, nothing_found):
    pytester.makepyfile(MARKED)
    result = pytester.runpytest("-rs", "--strict-markers")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] *: cs0.e not found (PATH, STISCHECK_CALSTIS)",
            "SKIPPED [[]1[]] *: calstis corpus not found (../shared/calstis-corpus, "
            "STISCHECK_CORPUS)",
        ]
    )
    result.stdout.fnmatch_lines(["stischeck: cs0.e none; truth none"])


def test_options_point_the_markers_at_a_calstis_and_a_truth(pytester, nothing_found, tmp_path):
    cs0 = fake_cs0(tmp_path)
    truth = tmp_path / "truth"
    truth.mkdir()
    pytester.makepyfile(MARKED)
    result = pytester.runpytest(
        "-s", "--stischeck-calstis", str(cs0), "--stischeck-truth", str(truth)
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"*CALSTIS {cs0}*", f"*TRUTH {truth}*"])
    result.stdout.fnmatch_lines([f"stischeck: cs0.e {cs0} (--stischeck-calstis); truth {truth}"])


def test_environment_variable_still_finds_calstis(pytester, nothing_found, tmp_path, monkeypatch):
    cs0 = fake_cs0(tmp_path)
    monkeypatch.setenv("STISCHECK_CALSTIS", str(cs0))
    pytester.makepyfile(MARKED)
    pytester.runpytest("-s").stdout.fnmatch_lines([f"*CALSTIS {cs0}*"])


@pytest.mark.parametrize(
    "option, message",
    [
        ("--stischeck-calstis", "--stischeck-calstis {p}: not an executable file"),
        ("--stischeck-truth", "--stischeck-truth {p}: not a directory"),
    ],
)
def test_a_wrong_option_value_is_a_usage_error(pytester, tmp_path, option, message):
    missing = tmp_path / "missing"
    pytester.makepyfile(MARKED)
    result = pytester.runpytest(option, str(missing))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message.format(p=missing)}*"])


@pytest.mark.corpus
def test_readme_example_suite_runs(pytester, corpus_dir):
    """The README's example file, run as another project would run it."""
    from stischeck.environment import find_calstis

    pytester.makepyfile(test_example=(HERE / "example_test_stischeck_plugin.py").read_text())
    result = pytester.runpytest("-rs", "--stischeck-truth", str(corpus_dir))
    if find_calstis()[0] is None:
        result.assert_outcomes(passed=1, skipped=2)
    else:
        result.assert_outcomes(passed=3)


@pytest.mark.corpus
def test_a_failing_comparison_reports_the_diff_summary(pytester, corpus_dir, tmp_path):
    a = tmp_path / "a_flt.fits"
    with gzip.open(corpus_dir / PRODUCT) as src, a.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    b = tmp_path / "b_flt.fits"
    with fits.open(a) as hdul:
        hdul["SCI", 1].data[3, 5] += np.float32(2.0)
        hdul.writeto(b)
    pytester.makepyfile(
        f"""
        from stischeck.pytest_plugin import assert_products_agree

        def test_products():
            assert_products_agree({str(a)!r}, {str(b)!r})
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "stischeck diff: DIFFER" in out
    assert "SCI" in out and "[6, 4]" in out  # FITS 1-based [x, y] of numpy (3, 5)


@pytest.mark.corpus
def test_assert_products_agree_accepts_files_and_product_sets(corpus_dir, tmp_path):
    product = corpus_dir / PRODUCT
    assert_products_agree(product, product)
    assert_products_agree({"flt": product}, {"flt": product}, policy=None)
    with pytest.raises(AssertionError, match="A has crj, flt, B has flt"):
        assert_products_agree({"flt": product, "crj": product}, {"flt": product})


@pytest.mark.corpus
def test_compare_fixture_returns_the_summary(pytester, corpus_dir):
    case = corpus_dir / "img_ampB_g1_sub1060x48_cr1"
    pytester.makepyfile(
        f"""
        from pathlib import Path

        def test_compare(stischeck_compare):
            case = Path({str(case)!r})
            result = stischeck_compare(
                case / "oxdmpg010_raw.fits.gz", truth=case, calstis=False, steps=["DQICORR"]
            )
            assert result.agree and result.summary["exit_code"] == 0, result.text
            assert result.summary["primary_comparison"] == "reference-vs-truth"
            assert (result.outdir / "verdicts.csv").is_file()
            assert {{r["verdict"] for r in result.rows}} == {{"identical"}}
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


#: A stand-in cs0.e played by the reference (products named as calstis names them).
_REFERENCE_AS_CALSTIS = (
    "from stischeck.cli import main\n"
    "sys.exit(main(['reference', sys.argv[1], '--oref', os.environ['oref'], "
    "'--outroot', sys.argv[2]]))"
)


@pytest.mark.corpus
def test_two_builds_fixture_passes_on_one_build_and_names_where_two_differ(
    pytester, corpus_dir, tmp_path
):
    from tests.support.standins import fake_calstis

    case = corpus_dir / "img_ampB_g1_sub1060x48_cr1"
    good = fake_calstis(tmp_path / "a", _REFERENCE_AS_CALSTIS)
    wrong = fake_calstis(
        tmp_path / "b",
        _REFERENCE_AS_CALSTIS.replace("sys.exit(main(", "code = (main(")
        + "\nfrom astropy.io import fits\nimport glob\n"
        "for n in glob.glob(sys.argv[2] + '*_flt.fits'):\n"
        "    with fits.open(n, mode='update') as h:\n"
        "        h[1].data[0, 0] += 1\n"
        "sys.exit(code)",
    )
    pytester.makepyfile(
        f"""
        from pathlib import Path
        from stischeck.pytest_plugin import assert_builds_identical

        RAW = Path({str(case)!r}) / "oxdmpg010_raw.fits.gz"

        def test_same_build(stischeck_two_builds):
            result = stischeck_two_builds(RAW, calstis={str(good)!r}, steps=["DQICORR"])
            assert result.two_builds["identical"], result.text
            assert_builds_identical(result)

        def test_wrong_build(stischeck_two_builds):
            result = stischeck_two_builds(RAW, calstis={str(wrong)!r}, steps=["DQICORR"])
            assert_builds_identical(result)
        """
    )
    result = pytester.runpytest("--stischeck-baseline-calstis", str(good))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*build B differs from build A, first at DQICORR*B moved away from the reference*",
            "*_flt SCI: 1 of *",
        ]  # fmt: skip
    )


def test_two_builds_fixture_skips_without_a_build_a(pytester, monkeypatch):
    monkeypatch.delenv("STISCHECK_BASELINE_CALSTIS", raising=False)
    pytester.makepyfile(
        """
        def test_ab(stischeck_two_builds):
            stischeck_two_builds("x_raw.fits")
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no build A: give --stischeck-baseline-calstis*"])
