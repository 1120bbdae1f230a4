"""The GraphQL modules read through the domains' functions: no table or query of their own."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GQL_MODULES = sorted(p for package in ("network", "partners", "settlement")
                     for p in (ROOT / package / "gql").glob("*.py"))
# A table definition, a query builder, or a statement run by hand.
READS_TABLES = re.compile(r"\.db\.schema import|settlement\.schema import|\bselect\(|"
                          r"\b(conn|c|connection)\.execute\(|\bpg_statement\(")


def test_graphql_modules_hold_no_sql() -> None:
    assert len(GQL_MODULES) > 20  # the three slices were found
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in GQL_MODULES
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if READS_TABLES.search(line)]
    assert offenders == []
