"""The tests' own layout (CONTRIBUTING.md): every test module sits in a tier, and test modules
share helpers through tests/support/ only, never by importing a test module or a conftest."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
TIERS = {"unit", "integration", "e2e", "infra", "container"}


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_every_test_module_is_in_a_tier() -> None:
    misplaced = [
        str(path.relative_to(TESTS))
        for path in _test_modules()
        if path.relative_to(TESTS).parts[0] not in TIERS
    ]

    assert _test_modules(), "no test modules found"
    assert misplaced == []


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    offending = {
        str(path.relative_to(TESTS)): sorted(
            name
            for name in _imported(path)
            if name.startswith("tests.")
            and (name.rsplit(".", 1)[-1].startswith("test_") or name.endswith("conftest"))
        )
        for path in sorted(TESTS.rglob("*.py"))
    }

    assert {path: names for path, names in offending.items() if names} == {}
