"""Partner and charity names as a member sees them, in their language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from network.db.schema import parties


@dataclass(frozen=True)
class PartyName:
    id: int
    kind: str
    code: str
    name: str
    name_fa: str | None

    def display(self, language: str) -> str:
        return self.name_fa if language == "fa" and self.name_fa else self.name


def load(conn: Connection, ids: Iterable[int | None]) -> dict[int, PartyName]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(
        select(parties.c.id, parties.c.kind, parties.c.code, parties.c.name, parties.c.name_fa)
        .where(parties.c.id.in_(wanted))
    ).all()
    return {r.id: PartyName(r.id, r.kind, r.code, r.name, r.name_fa) for r in rows}


def charities(conn: Connection) -> list[PartyName]:
    rows = conn.execute(
        select(parties.c.id, parties.c.kind, parties.c.code, parties.c.name, parties.c.name_fa)
        .where(parties.c.kind == "charity").order_by(parties.c.name, parties.c.id)
    ).all()
    return [PartyName(r.id, r.kind, r.code, r.name, r.name_fa) for r in rows]


def charity(conn: Connection, charity_id: int) -> PartyName | None:
    found = load(conn, [charity_id]).get(charity_id)
    return found if found is not None and found.kind == "charity" else None
