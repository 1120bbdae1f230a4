"""Dependencies point one way: network <- partners <- settlement <- infra.

A module may import its own package and the packages to its left, never one to its right: the
ledger must not learn about partners, partners must not reach into settlement, and nothing but the
composition root (infra) may import infra. Every import statement counts, those inside functions
too, since a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["network", "partners", "settlement", "infra"]


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) for every absolute or relative import in the file."""
    package_parts = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's own package
                base = package_parts[:len(package_parts) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name.split(".")[0]))
    return found


def _violations(package: str) -> list[str]:
    allowed = set(ORDER[:ORDER.index(package) + 1])
    forbidden = set(ORDER) - allowed
    return [f"{path.relative_to(ROOT)}:{line} imports {target}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, target in _imported_packages(path) if target in forbidden]


@pytest.mark.parametrize("package", ORDER[:-1])
def test_imports_point_one_way(package: str) -> None:
    assert _violations(package) == []


def test_the_check_sees_a_backward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule is only worth something if it fires: plant a backward import and expect it named."""
    (tmp_path / "network" / "ledger").mkdir(parents=True)
    (tmp_path / "network" / "ledger" / "x.py").write_text(
        "def f():\n    from settlement import run\n    from ..clock import now\n", encoding="utf-8")
    (tmp_path / "partners").mkdir()
    (tmp_path / "partners" / "y.py").write_text("import infra.cli\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _violations("network") == ["network/ledger/x.py:2 imports settlement"]
    assert _violations("partners") == ["partners/y.py:1 imports infra"]
