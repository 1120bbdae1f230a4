"""Onboarding a partner: the party row and its first contract, in one transaction, so a partner
never exists without terms to earn under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from network import parties
from network.db.schema import parties as parties_table
from partners.contracts import add_contract
from partners.terms import Terms


@dataclass(frozen=True)
class Partner:
    id: int
    code: str
    name: str


def create_partner(conn: Connection, *, code: str, name: str, terms: Terms, now: datetime,
                   name_fa: str | None = None) -> Partner:
    terms.validate()
    party_id = parties.create(conn, kind="partner", code=code, name=name, name_fa=name_fa, now=now)
    add_contract(conn, party_id, terms, effective_from=now, now=now)
    found = get_partner(conn, party_id)
    assert found is not None
    return found


def get_partner(conn: Connection, party_id: int) -> Partner | None:
    row = conn.execute(
        select(parties_table.c.id, parties_table.c.code, parties_table.c.name).where(
            parties_table.c.id == party_id, parties_table.c.kind == "partner"
        )
    ).first()
    return Partner(*row) if row else None


def list_partners(conn: Connection) -> list[Partner]:
    """Every partner, in the order they joined."""
    rows = conn.execute(
        select(parties_table.c.id, parties_table.c.code, parties_table.c.name)
        .where(parties_table.c.kind == "partner").order_by(parties_table.c.id)
    ).all()
    return [Partner(*row) for row in rows]


def find_partner(conn: Connection, code_or_id: str) -> Partner | None:
    """The CLI accepts either the partner's code or its numeric id."""
    party_id = int(code_or_id) if code_or_id.isdigit() else parties.by_code(conn, code_or_id)
    return get_partner(conn, party_id) if party_id is not None else None
