"""The rough edges of issue 15: option errors that name the option, help texts, information
said as information."""

import argparse
from pathlib import Path

import pytest

import stischeck
from stischeck.cli import build_parser, main

DEMO_RAW = Path(stischeck.__file__).parent / "data" / "demo" / "owj6k3010_raw.fits.gz"


@pytest.mark.parametrize("option", ["--only", "--switches"])
@pytest.mark.parametrize("command", ["compare", "record"])
def test_an_unknown_switch_names_the_option_and_the_valid_choices(
    command, option, tmp_path, capsys
):
    code = main([command, str(DEMO_RAW), option, "DARKCOR", "--outdir" if command == "compare"
                 else "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert f"{option}: unknown switch(es) DARKCOR" in err
    assert "choose from DQICORR" in err and "DARKCORR" in err.replace("DARKCOR;", "")
    assert not (tmp_path / "out").exists()


def _help(*command) -> str:
    parser = build_parser()
    if not command:
        return parser.format_help()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command[0]].format_help()


def _option_help(command, option) -> str:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if option in a.option_strings)
    return action.help or ""


def test_compare_jobs_is_described():
    assert "calstis runs" in _option_help("compare", "--jobs")


def test_compare_timeout_shows_its_default():
    assert "default %(default)g" in _option_help("compare", "--timeout")
    assert "(default 600)" in " ".join(_help("compare").split())


def test_info_has_a_description():
    text = " ".join(_help("info").split())
    assert "Print where cs0.e was found" in text


def test_reference_help_names_the_crj_it_writes_too():
    text = " ".join(_help("reference").split())
    assert "_crj" in text and "_flt" in text


def test_no_arguments_prints_the_help_and_exits_0(capsys):
    code = main([])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("usage: stischeck") and "compare" in out
    assert err == ""


DEMO_OREF = DEMO_RAW.parent / "oref"


@pytest.mark.parametrize("verbose", [False, True])
def test_reference_says_the_cr_rejection_count_as_information_not_a_warning(
    verbose, tmp_path, capsys
):
    argv = ["reference", str(DEMO_RAW), "--oref", f"{DEMO_OREF}/", "--outroot", f"{tmp_path}/"]
    code = main(argv + (["--verbose"] if verbose else []))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip().endswith("_crj.fits")
    assert "warning" not in err
    info = [line for line in err.splitlines() if "CR rejection:" in line]
    if verbose:
        assert len(info) == 1 and info[0].startswith("stischeck: info: CR rejection: ")
        assert "pixels rejected, sky" in info[0]
    else:
        assert info == [], err
