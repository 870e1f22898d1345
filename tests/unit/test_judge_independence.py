"""The judge shares no code with the contestant: no reference_impl import in the comparator."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "stischeck"
JUDGE = [
    *sorted((ROOT / "diff").glob("*.py")),
    *sorted((ROOT / "report").glob("*.py")),
    ROOT / "runners" / "outcome.py",
    ROOT / "fitsopen.py",
    ROOT / "dqbits.py",
]


def _imports(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", JUDGE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_comparator_and_report_import_nothing_from_reference_impl(path):
    found = sorted(n for n in _imports(path) if n.split(".")[0] == "reference_impl")
    assert not found, f"{path.name} imports {found}"
