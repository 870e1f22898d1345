"""The program's malloc settings: applied on glibc, left alone where the user tunes malloc."""

import platform
import subprocess
import sys

import pytest

from stischeck.allocator import USER_SETTINGS, keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_glibc_accepts_the_thresholds():
    assert keep_freed_memory() is True


@pytest.mark.parametrize("name", USER_SETTINGS)
def test_a_users_own_malloc_setting_wins(monkeypatch, name):
    monkeypatch.setenv(name, "glibc.malloc.trim_threshold=0" if name == "GLIBC_TUNABLES" else "0")
    assert keep_freed_memory() is False


@pytest.mark.skipif(not GLIBC, reason="page-fault counts of glibc's malloc")
def test_freed_frames_are_reused_instead_of_faulted_in_again():
    # Ten rounds of four live 8 MiB float64 temporaries (a step's working set):
    # by default the 32 MiB freed after each round is trimmed off the heap and
    # faulted in again (2048 pages an array); kept, the pages are used again.
    script = (
        "import resource, sys, numpy as np\n"
        "from stischeck.allocator import keep_freed_memory\n"
        "if sys.argv[1] == 'keep': keep_freed_memory()\n"
        "x = np.ones((1024, 1024))\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(10): ys = [x * 2.0 for _ in range(4)]; del ys\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    faults = {
        mode: int(subprocess.run([sys.executable, "-c", script, mode], capture_output=True,
                                 text=True, check=True, env={"PATH": ""}).stdout)
        for mode in ("keep", "default")
    }  # fmt: skip
    assert faults["default"] > 4 * faults["keep"]
