"""The hand-computed scenario (scenario.py) booked through the real ledger operations.

Members earn in September (nothing to settle), spend, donate and let points expire in October,
and one redemption is partly reversed in November. Contracts are inserted as reference rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert

from network import ledger
from network.db.engine import Database
from partners.contracts_schema import contracts
from settlement.terms import ContractTerms
from tests.settlement import scenario
from tests.support.ledger_world import charity, key, member, partner

SEPT = datetime(2026, 9, 10, 12, tzinfo=UTC)
FAR = datetime(2028, 12, 31, tzinfo=UTC)


def at(day: int, month: int = 10, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class World:
    db: Database
    ids: dict[int, int]  # scenario symbol (A, B, ...) -> party id
    network_id: int
    october_redemption_a_at_b: int = 0

    def party(self, symbol: int) -> int:
        return self.ids[symbol]

    def nets(self, expected: dict[int, int]) -> dict[int, int]:
        return {self.ids[s]: v for s, v in expected.items()}


def add_contract(db: Database, party_id: int, t: ContractTerms) -> None:
    db.write(lambda c: c.execute(insert(contracts).values(
        party_id=party_id, effective_from=t.effective_from, earn_points_per_unit=Decimal(1),
        allow_explicit_points=True, pending_days=0, validity_months=24,
        clearing_price_per_point=t.clearing_price_per_point,
        network_fee_bps=t.network_fee_bps, donation_value_per_point=t.donation_value_per_point,
        breakage_price_per_point=t.breakage_price_per_point,
        own_redemption_fee_per_point=t.own_redemption_fee_per_point, created_at=SEPT)))


def build(db: Database, network_id: int, *, reversal: bool = True) -> World:
    S = scenario
    ids = {S.N: network_id, S.A: partner(db, "cafe"), S.B: partner(db, "telecom"),
           S.C: partner(db, "pharmacy"), S.K: charity(db, "kids-charity")}
    for t in S.TERMS:
        add_contract(db, ids[t.party_id], ContractTerms(ids[t.party_id], *_rest(t)))
    world = World(db, ids, network_id)
    wallets: dict[int, int] = {}
    for issuer in (S.A, S.B, S.C):
        wallets[issuer] = member(db, now=SEPT)
        ledger.earn(db, scope="system", idempotency_key=key(), issuer_id=ids[issuer],
                    member_id=wallets[issuer], points=100_000, expires_at=FAR, now=SEPT)
    day = 1
    for issuer, sink, kind, points in S.OCTOBER:
        day += 1
        if kind == "expiry":
            lapse = member(db, now=SEPT)
            ledger.earn(db, scope="system", idempotency_key=key(), issuer_id=ids[issuer],
                        member_id=lapse, points=points, expires_at=at(20), now=SEPT)
            continue
        op = ledger.redeem if kind == "redemption" else ledger.donate
        target = {"partner_id": ids[sink]} if kind == "redemption" else {"charity_id": ids[sink]}
        receipt = op(db, scope="system", idempotency_key=key(), member_id=wallets[issuer],
                     points=points, now=at(day), **target)
        if (issuer, sink, kind) == (S.A, S.B, "redemption"):
            world.october_redemption_a_at_b = receipt.entry_id
    ledger.expire_due(db, now=at(21))
    if reversal:
        ledger.reverse_redemption(db, scope="system", idempotency_key=key(),
                                  partner_id=ids[S.B], entry_id=world.october_redemption_a_at_b,
                                  points=1_000, now=at(5, month=11))
    return world


def _rest(t: ContractTerms) -> tuple:
    return (t.effective_from, t.clearing_price_per_point, t.network_fee_bps,
            t.donation_value_per_point, t.breakage_price_per_point,
            t.own_redemption_fee_per_point)
