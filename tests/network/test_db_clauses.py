"""`in_codes`: a fixed list of kinds written into the SQL, compiled once; nothing else gets in."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from network.db.clauses import in_codes
from network.db.schema import journal_entries as je


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])
def test_codes_are_written_into_the_statement_not_bound(dialect) -> None:  # type: ignore[no-untyped-def]
    compiled = select(je.c.id).where(in_codes(je.c.kind, ("earn", "reverse_earn"))).compile(
        dialect=dialect)
    assert "journal_entries.kind IN ('earn', 'reverse_earn')" in str(compiled)
    assert compiled.params == {}  # no expanding parameter left to render on each execution


@pytest.mark.parametrize("bad", ["earn'", "Earn", "earn or 1=1", ""])
def test_anything_but_a_code_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a code"):
        in_codes(je.c.kind, ("earn", bad))
