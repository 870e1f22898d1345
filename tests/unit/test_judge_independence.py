"""The judge shares no code with the contestant: no reference_impl import in the comparator."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "stischeck"
JUDGE = [
    *sorted((ROOT / "diff").glob("*.py")),
    *sorted((ROOT / "report").glob("*.py")),
    *sorted((ROOT / "fits").glob("*.py")),
    ROOT / "runners" / "outcome.py",
    ROOT / "vocabulary.py",
    ROOT / "dqbits.py",
    ROOT / "batch" / "index.py",
]
#: Front ends that run the reference through the compare service (so they reach it), but
#: use none of its code themselves: ``--pixel``'s bounds come from the harness's own rule.
FRONT_ENDS = [ROOT / "commands" / "compare.py"]


def _imports(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", JUDGE + FRONT_ENDS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_comparator_and_report_import_nothing_from_reference_impl(path):
    found = sorted(n for n in _imports(path) if n.split(".")[0] == "reference_impl")
    assert not found, f"{path.name} imports {found}"


def _module_path(name: str) -> Path | None:
    """The file of a ``stischeck.*`` module (a package's ``__init__.py``), or None."""
    parts = name.split(".")
    if parts[0] != "stischeck":
        return None
    base = ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _reaches_reference_impl(start: Path) -> list:
    """The chain of stischeck modules by which ``start`` imports reference_impl, or []."""
    seen, stack = {start}, [(start, [start.name])]
    while stack:
        path, chain = stack.pop()
        for name in _imports(path):
            if name.split(".")[0] == "reference_impl":
                return [*chain, name]
            target = _module_path(name)
            if target is not None and target not in seen:
                seen.add(target)
                stack.append((target, [*chain, str(target.relative_to(ROOT))]))
    return []


@pytest.mark.parametrize("path", JUDGE, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_the_comparator_imports_imports_reference_impl_either(path):
    chain = _reaches_reference_impl(path)
    assert not chain, " -> ".join(chain)
