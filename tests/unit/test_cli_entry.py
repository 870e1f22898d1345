"""The program entry: exit codes and complete output, with or without the interpreter's teardown."""

import subprocess
import sys

import numpy as np
from astropy.io import fits

from stischeck.cli import EXIT_WITHOUT_TEARDOWN


def _product(path, value):
    primary = fits.PrimaryHDU()
    sci = fits.ImageHDU(np.full((4, 5), value, np.float32), name="SCI", ver=1)
    fits.HDUList([primary, sci]).writeto(path)
    return path


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "stischeck.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_a_command_without_teardown_still_flushes_everything_and_exits_with_its_code(tmp_path):
    assert "diff" in EXIT_WITHOUT_TEARDOWN
    a, b = _product(tmp_path / "a_flt.fits", 1.0), _product(tmp_path / "b_flt.fits", 2.0)
    same = _run("diff", str(a), str(a))
    assert same.returncode == 0 and same.stdout.startswith("stischeck diff: IDENTICAL")
    differ = _run("diff", str(a), str(b), "--detail")
    assert differ.returncode == 1
    assert "SCI imset 1: 20 of 20 pixels differ" in differ.stdout  # the whole text, flushed
    missing = _run("diff", str(a), str(tmp_path / "nope.fits"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("file not found")
    assert "Traceback" not in missing.stderr


def test_other_commands_exit_normally_with_their_code():
    assert "batch" not in EXIT_WITHOUT_TEARDOWN
    result = _run("info", "--no-such-option")
    assert result.returncode == 2 and "usage" in result.stderr
