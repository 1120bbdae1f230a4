"""Stored contract versions: writing them, reading the one in force, and the one mapper from a
`contracts` row to `Terms` (the earn and settlement both read terms through it).

The rules themselves (what a purchase earns, which version applies when) are pure, in
`partners/terms.py`; the table is `partners/contracts_schema.py`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from network.clock import as_utc
from network.programme import fact_awards
from partners.contracts_schema import contracts
from partners.terms import NoContract, Terms, pick


def add_contract(conn: Connection, party_id: int, terms: Terms, *, effective_from: datetime,
                 now: datetime) -> int:
    terms.validate()
    return conn.execute(
        insert(contracts)
        .values(
            party_id=party_id,
            # In UTC: SQLite keeps a datetime's wall-clock time and drops its zone.
            effective_from=as_utc(effective_from),
            earn_points_per_unit=terms.earn_points_per_unit,
            allow_explicit_points=terms.allow_explicit_points,
            pending_days=terms.pending_days,
            validity_months=terms.validity_months,
            clearing_price_per_point=terms.clearing_price_per_point,
            network_fee_bps=terms.network_fee_bps,
            donation_value_per_point=terms.donation_value_per_point,
            breakage_price_per_point=terms.breakage_price_per_point,
            own_redemption_fee_per_point=terms.own_redemption_fee_per_point,
            created_at=now,
        )
        .returning(contracts.c.id)
    ).scalar_one()


def in_force(conn: Connection, party_id: int, at: datetime) -> Terms:
    row = conn.execute(
        select(contracts)
        .where(contracts.c.party_id == party_id, contracts.c.effective_from <= at)
        .order_by(contracts.c.effective_from.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NoContract("this partner has no contract in force; ask the network to set one up")
    return _terms(row)


# How a caller reads the terms in force: `in_force`, or a TermsCache's.
TermsLoader = Callable[[Connection, int, datetime], Terms]


class TermsCache:
    """Every contract version of a partner, kept for a few seconds per process.

    An earn reads its partner's terms on every request; versions are dated (`effective_from`),
    so a cached list still picks the right version as time passes. Only a version inserted with
    a start date already in the past is seen up to `ttl` seconds late.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._versions: dict[int, tuple[float, list[tuple[datetime, Terms]]]] = {}

    def fresh(self, party_id: int, at: datetime) -> Terms | None:
        """The terms in force at `at` if the cached versions are recent enough, else None."""
        cached = self._versions.get(party_id)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            return None
        return pick(cached[1], at)

    def in_force(self, conn: Connection, party_id: int, at: datetime) -> Terms:
        terms = self.fresh(party_id, at)
        if terms is not None:
            return terms
        found = versions(conn, party_id)
        self._versions[party_id] = (time.monotonic(), found)
        terms = pick(found, at)
        if terms is None:
            raise NoContract("this partner has no contract in force; ask the network to set "
                             "one up")
        return terms


def versions(conn: Connection, party_id: int) -> list[tuple[datetime, Terms]]:
    """Every version of a partner's contract with its start (UTC), latest first."""
    rows = conn.execute(select(contracts).where(contracts.c.party_id == party_id)
                        .order_by(contracts.c.effective_from.desc())).all()
    return [(as_utc(r.effective_from), _terms(r)) for r in rows]


def versions_before(conn: Connection, until: datetime) -> list[tuple[int, datetime, Terms]]:
    """(party id, start in UTC, terms) of every version of every partner that took effect before
    `until` (settlement: older ones are still needed when they are in force at a period's start)."""
    rows = conn.execute(select(contracts).where(contracts.c.effective_from < until))
    return [(r.party_id, as_utc(r.effective_from), _terms(r)) for r in rows]


def _terms(row: Any) -> Terms:
    """The one mapper from a stored version to `Terms`."""
    return Terms(
        earn_points_per_unit=Decimal(row.earn_points_per_unit),
        allow_explicit_points=bool(row.allow_explicit_points),
        pending_days=row.pending_days,
        validity_months=row.validity_months,
        clearing_price_per_point=Decimal(row.clearing_price_per_point),
        network_fee_bps=row.network_fee_bps,
        donation_value_per_point=Decimal(row.donation_value_per_point),
        breakage_price_per_point=Decimal(row.breakage_price_per_point),
        own_redemption_fee_per_point=Decimal(row.own_redemption_fee_per_point),
    )




def validity_months(conn: Connection, party_id: int, at: datetime) -> int | None:
    """The validity of the contract in force (None without one): how long the lots a partner
    funds through a campaign on a custom or lifecycle fact stay valid (network/programme/
    fact_awards.py, which reads it through this registration)."""
    try:
        return in_force(conn, party_id, at).validity_months
    except NoContract:
        return None


fact_awards.use_validity_source(validity_months)
