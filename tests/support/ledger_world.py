"""Small builders for ledger tests: partners, charities and members with no ceremony."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import func, select

from network import members, parties
from network.db.engine import Database
from network.db.schema import metadata

SECRET = "test-secret"
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


def partner(db: Database, code: str) -> int:
    return db.write(lambda c: parties.create(c, kind="partner", code=code, name=code.title()))


def charity(db: Database, code: str) -> int:
    return db.write(lambda c: parties.create(c, kind="charity", code=code, name=code.title()))


def member(db: Database, enrolled_by: int | None = None, now: datetime | None = None) -> int:
    return members.enrol(db, secret=SECRET, scope="system", idempotency_key=key("enrol"),
                         enrolled_by=enrolled_by, now=now).id


def row_counts(db: Database) -> dict[str, int]:
    """Rows per table: 'nothing written' means this does not change."""
    def count(conn):  # type: ignore[no-untyped-def]
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}
    return db.read(count)
