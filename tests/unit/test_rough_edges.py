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
