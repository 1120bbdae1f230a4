"""No two project modules import each other, directly or round a longer circle, not even from
inside a function.

An import made at use (inside a function) hides a circle from the interpreter, not from a reader:
the two modules still need each other, so neither can be understood, tested or moved alone. The
members <-> programme circle (enrolment records its fact through the programme's inbox, a static
segment looked cards up in `members`) was broken by giving the card lookups a room below both
(network/member_ids.py); this keeps new ones out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("network", "partners", "settlement", "infra")


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph(root: Path) -> dict[str, set[str]]:
    """module -> project modules it imports (`from a import b` names module a.b when it is one)."""
    paths = {_module_name(p, root): p for package in PACKAGES
             for p in sorted((root / package).rglob("*.py")) if "sdk" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}"
                            in paths else node.module for alias in node.names}
        # A package's __init__ is not an edge of its own modules' circles: importing
        # `network.ledger.rules` runs `network/ledger/__init__.py` whoever asks.
        graph[name] = {t for t in targets if t in paths and t != name
                       and not name.startswith(t + ".")}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_circles() -> None:
    graph = _graph(ROOT)
    assert len(graph) > 200  # the tree was read
    assert _circles(graph) == []


def test_the_check_sees_a_circle_made_at_use(tmp_path: Path) -> None:
    (tmp_path / "network" / "programme").mkdir(parents=True)
    (tmp_path / "network" / "members.py").write_text(
        "def enrol():\n    from network.programme import inbox\n", encoding="utf-8")
    (tmp_path / "network" / "programme" / "inbox.py").write_text(
        "from network.members import ids_by_card\n", encoding="utf-8")
    (tmp_path / "network" / "programme" / "__init__.py").write_text("", encoding="utf-8")
    assert _circles(_graph(tmp_path)) == [["network.members", "network.programme.inbox"]]
