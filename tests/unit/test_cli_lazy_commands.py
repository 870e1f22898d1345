"""A subcommand's run registers only its own parser (issue 17: start-up time)."""

import subprocess
import sys

_PROBE = """
import sys
from stischeck.cli import main
try:
    main(["reference"])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith(("stischeck.synth", "pandas", "matplotlib"))))
"""


def test_reference_command_line_imports_no_other_subcommands_generator_or_tables():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
