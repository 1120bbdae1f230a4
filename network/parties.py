"""Parties: the partners, charities and the network itself, the small reference table of the ledger.

Parties are never deleted, so what a party is (its kind) can be cached in-process for good.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from network.clock import utcnow
from network.db.schema import parties
from network.ledger.errors import InvalidInput, PartyNotFound

PARTY_KINDS = ("partner", "charity", "network")
NETWORK_CODE = "network"

_kind_cache: dict[tuple[str, int], str] = {}


def create(conn: Connection, *, kind: str, code: str, name: str, name_fa: str | None = None,
           stripe_account_id: str | None = None, stripe_customer_id: str | None = None,
           now: datetime | None = None) -> int:
    if kind not in ("partner", "charity"):
        raise InvalidInput(f"party kind must be partner or charity, not {kind!r}", field="kind")
    code = code.strip()
    if not code or len(code) > 64 or not all(c.isalnum() or c in "-_." for c in code):
        raise InvalidInput("a party code is 1-64 letters, digits, '-', '_' or '.'", field="code")
    if conn.execute(select(parties.c.id).where(parties.c.code == code)).first():
        raise InvalidInput(f"a party with code {code!r} already exists", field="code",
                           code="DUPLICATE_CODE")
    return conn.execute(insert(parties).values(
        kind=kind, code=code, name=name.strip() or code, name_fa=name_fa,
        stripe_account_id=stripe_account_id, stripe_customer_id=stripe_customer_id,
        created_at=now or utcnow(),
    ).returning(parties.c.id)).scalar_one()


def kind_of(conn: Connection, party_id: int) -> str | None:
    cache_key = (str(conn.engine.url), party_id)
    if cache_key not in _kind_cache:
        kind = conn.execute(select(parties.c.kind).where(parties.c.id == party_id)).scalar()
        if kind is None:
            return None
        _kind_cache[cache_key] = kind
    return _kind_cache[cache_key]


def require(conn: Connection, party_id: int, *kinds: str, field: str = "partyId") -> None:
    if kind_of(conn, party_id) not in kinds:
        noun = " or ".join(kinds)
        code = "CHARITY_NOT_FOUND" if kinds == ("charity",) else PartyNotFound.code
        raise PartyNotFound(f"no {noun} with id {party_id}", field=field, code=code)


def network_party_id(conn: Connection) -> int:
    """The network's own party row, created by the first migration."""
    return conn.execute(select(parties.c.id).where(parties.c.code == NETWORK_CODE)).scalar_one()


def by_code(conn: Connection, code: str) -> int | None:
    return conn.execute(select(parties.c.id).where(parties.c.code == code)).scalar()


def forget_cache() -> None:
    """Tests drop and recreate databases with reused ids."""
    _kind_cache.clear()
