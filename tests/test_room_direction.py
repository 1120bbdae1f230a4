"""Rooms inside `network` depend one way too: web <- signin <- wallet, and the programme's tier
rules need none of them.

The shared web parts must not learn about sign-in or the wallet, so the back office can use
them; sign-in must not reach into the wallet, so staff and partner users can sign in without it.
There is no exception: the error sign-in and the wallet both raise lives with the web parts
(network/web/errors.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# room -> modules (dotted prefixes) it must not import
FORBIDDEN = {
    "network/web": ("network.signin", "network.wallet", "network.gql", "network.programme"),
    "network/signin": ("network.wallet", "network.gql", "network.programme"),
    "network/programme": ("network.web", "network.signin", "network.wallet", "network.gql"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _violations(room: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for line, name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_rooms_import_one_way(room: str) -> None:
    assert (ROOT / room).is_dir()
    assert _violations(room, FORBIDDEN[room]) == []


def test_the_check_sees_a_wrong_way_import(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "network" / "web").mkdir(parents=True)
    (tmp_path / "network" / "web" / "x.py").write_text(
        "from network.wallet import view\nfrom network.wallet.errors import WalletError\n"
        "def f():\n    import network.signin.sessions\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _violations("network/web", FORBIDDEN["network/web"]) == [
        "network/web/x.py:1 imports network.wallet.view",
        "network/web/x.py:2 imports network.wallet.errors.WalletError",
        "network/web/x.py:4 imports network.signin.sessions"]
