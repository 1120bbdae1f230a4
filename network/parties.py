"""Parties: the partners, charities and the network itself, the small reference table of the ledger.

Parties are never deleted, so what a party is (its kind) can be cached in-process for good.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from network.clock import utcnow
from network.db.schema import parties
from network.ledger.errors import InvalidInput, PartyNotFound

PARTY_KINDS = ("partner", "charity", "network")
NETWORK_CODE = "network"

_kind_cache: dict[tuple[str, int], str] = {}
MAX_NAME = 200  # the column's width
_STRIPE_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{1,59}")


@dataclass(frozen=True)
class Party:
    id: int
    kind: str
    code: str
    name: str
    name_fa: str | None
    stripe_account_id: str | None


def _check_details(name: str | None, name_fa: str | None, stripe_account_id: str | None) -> None:
    """What members read (both languages) and where payouts go, checked before anything is
    written: PostgreSQL would refuse an over-long name with a driver error, SQLite keep it."""
    if name is not None and not name.strip():
        raise InvalidInput("a name cannot be empty", field="name")
    for field, value in (("name", name), ("nameFa", name_fa)):
        if value is not None and len(value.strip()) > MAX_NAME:
            raise InvalidInput(f"{field} is at most {MAX_NAME} characters, got {len(value)}",
                               field=field)
    if stripe_account_id and not _STRIPE_ACCOUNT.fullmatch(stripe_account_id):
        raise InvalidInput(f"a Stripe connected account id looks like acct_…, got "
                           f"{stripe_account_id!r}", field="stripeAccountId")


def create(conn: Connection, *, kind: str, code: str, name: str, name_fa: str | None = None,
           stripe_account_id: str | None = None, stripe_customer_id: str | None = None,
           now: datetime | None = None) -> int:
    if kind not in ("partner", "charity"):
        raise InvalidInput(f"party kind must be partner or charity, not {kind!r}", field="kind")
    _check_details(name if name.strip() else None, name_fa, stripe_account_id)
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


_PARTY_COLUMNS = (parties.c.id, parties.c.kind, parties.c.code, parties.c.name,
                  parties.c.name_fa, parties.c.stripe_account_id)


def list_parties(conn: Connection, kind: str, *, by_name: bool = False) -> list[Party]:
    """Every party of one kind, in the order they were created (or by name)."""
    order = parties.c.name if by_name else parties.c.id
    rows = conn.execute(select(*_PARTY_COLUMNS).where(parties.c.kind == kind)
                        .order_by(order)).all()
    return [Party(*row) for row in rows]


def get(conn: Connection, party_id: int, kind: str) -> Party | None:
    """The party with this id, if it is of this kind."""
    row = conn.execute(select(*_PARTY_COLUMNS).where(parties.c.id == party_id,
                                                     parties.c.kind == kind)).first()
    return Party(*row) if row else None


def edit(conn: Connection, code: str, kind: str, *, name: str | None = None,
         name_fa: str | None = None, stripe_account_id: str | None = None) -> Party:
    """Change a party's names or payout account; None leaves a value as it is, "" clears the
    Persian name or the account. The code and kind never change: postings and settlement runs
    name the party by id and statements by code."""
    _check_details(name, name_fa, stripe_account_id)
    found = next((p for p in list_parties(conn, kind) if p.code == code), None)
    if found is None:
        raise PartyNotFound(f"no {kind} with code {code!r}", field="code",
                            code=f"{kind.upper()}_NOT_FOUND")
    values: dict[str, str | None] = {}
    if name is not None:
        values["name"] = name.strip()
    if name_fa is not None:
        values["name_fa"] = name_fa.strip() or None
    if stripe_account_id is not None:
        values["stripe_account_id"] = stripe_account_id or None
    if values:
        conn.execute(update(parties).where(parties.c.id == found.id).values(**values))
    return next(p for p in list_parties(conn, kind) if p.id == found.id)
