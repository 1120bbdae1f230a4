"""The replica rule, kept by construction: only read-model code is handed a ReadDatabase
(network/db/read_database.py). A module outside this list that names one, or reaches for a
context's or site's `.reads`, fails here, so a write path cannot start reading the replica
without someone deciding, in review, that it is no write decision."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_MODELS = {
    "network/db/read_database.py",  # the router itself
    "network/gql/context.py",  # carries it (primary-only for mutations)
    "network/gql/me.py", "network/gql/me_types.py",  # the member's wallet read model
    "network/wallet/reads.py", "network/wallet/pages/site.py",
    "network/wallet/pages/wallet_pages.py",  # the wallet pages' read model
    "settlement/run.py", "settlement/cli.py",  # settlement preview's aggregation
    "infra/app.py", "infra/graphql_endpoint.py",  # composition: build it, hand it out
    "infra/metrics.py",  # where reads go, for the scrape
    "network/backoffice/site.py", "settlement/web/dashboard_pages.py",  # dashboards' rollups
}


@functools.cache
def users() -> frozenset[str]:
    found = set()
    for package in ("network", "partners", "settlement", "infra"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Name) and node.id == "ReadDatabase") or (
                        isinstance(node, ast.Attribute) and node.attr == "reads") or (
                        isinstance(node, ast.alias) and node.name == "ReadDatabase"):
                    found.add(str(path.relative_to(ROOT)))
    return frozenset(found)


def test_only_read_models_touch_the_read_database() -> None:
    assert users() - READ_MODELS == set()


def test_the_check_sees_the_read_models() -> None:
    assert {"network/gql/me.py", "network/wallet/pages/wallet_pages.py",
            "settlement/run.py"} <= users()
