"""Campaign points settle with no settlement code of their own: each funder's points are its own
lot, so a real monthly run (preview, then close) bills the network for a network-funded campaign
and the café and the network half each for a co-funded one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from network import ledger, parties
from network.config import Settings
from network.db.engine import Database
from network.ledger.verify import verify
from network.programme import store
from network.programme.campaigns import (
    Campaign,
    Conditions,
    FixedPoints,
    Multiplier,
    Trigger,
    sole_funder,
    split_funder,
)
from partners.earning import AwardLine, award_points
from partners.registry import create_partner
from partners.terms import Terms
from settlement import run
from settlement import store as settlement_store
from tests.support.ledger_world import key, member

SEPT = datetime(2026, 9, 1, tzinfo=UTC)
LATER = datetime(2026, 11, 15, tzinfo=UTC)
TERMS = Terms(earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("1.00"),
              network_fee_bps=0)


def _activate(db: Database, campaign: Campaign, owner: int) -> None:
    db.write(store.create, campaign, owner_party_id=owner)
    db.write(store.set_status, campaign.code, "active")


def test_campaign_points_are_billed_to_their_funders(db: Database, settings: Settings) -> None:
    cafe = db.write(lambda c: create_partner(c, code="cafe", name="Cafe", terms=TERMS,
                                             now=SEPT).id)
    shop = db.write(lambda c: create_partner(c, code="shop", name="Shop", terms=TERMS,
                                             now=SEPT).id)
    network = db.read(parties.network_party_id)
    here = Conditions(partners=frozenset({cafe}))
    for code, effect, funder in (
            ("welcome", FixedPoints(100), sole_funder(network)),
            ("double", Multiplier(Decimal(2)), split_funder((cafe, 5000), (network, 5000)))):
        _activate(db, Campaign(id=0, code=code, name_en=code, name_fa=code,
                               trigger=Trigger("purchase"), effect=effect, funder=funder,
                               starts_at=SEPT, conditions=here), cafe)
    ann = member(db, now=SEPT)
    earned = award_points(db, partner_id=cafe, line=AwardLine(ann, 1000, "EUR"),
                          network_currency="EUR", scope=f"partner:{cafe}", idempotency_key="e1",
                          now=datetime(2026, 10, 2, tzinfo=UTC))
    assert earned.points == 100 + 100 + 100  # base, welcome (network), double (50/50)
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=key(), partner_id=shop,
                  member_id=ann, points=300, now=datetime(2026, 10, 3, tzinfo=UTC))
    assert verify(db) == []

    preview = run.preview(db, settings, "2026-10", now=LATER)
    assert preview.run.summary["controls"]["discrepancies"] == []
    lines = {(line.payer_party_id, line.payee_party_id, line.kind): line.amount_minor
             for line in db.read(settlement_store.load_lines, preview.run.id)
             if line.amount_minor}
    # The café funds its 100 base points and half the double (50); the network the welcome
    # (100) and the other half of the double (50). Both pay the shop 1 cent a point.
    assert lines == {(cafe, shop, "redemption"): 150, (network, shop, "redemption"): 150}
    closed = run.close(db, settings, "2026-10", now=LATER)
    assert closed.run.content_hash == preview.run.content_hash
    nets = {p.party_id: p.net_minor
            for p in db.read(settlement_store.load_positions, closed.run.id) if p.net_minor}
    assert nets == {cafe: -150, network: -150, shop: 300}
