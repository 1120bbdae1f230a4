"""A bonus a custom event earns is billed to its funder by a real monthly run (preview, then
close), with no settlement code of its own: the funder is the issuer of the bonus's lot."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from network import ledger
from network.config import Settings
from network.db.engine import Database
from network.ledger.verify import verify
from network.programme import event_types, events, store
from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    Conditions,
    FixedPoints,
    Trigger,
    sole_funder,
)
from partners.registry import create_partner
from partners.terms import Terms
from settlement import run
from settlement import store as settlement_store
from tests.support.ledger_world import key, member

SEPT = datetime(2026, 9, 1, tzinfo=UTC)
OCT = datetime(2026, 10, 2, tzinfo=UTC)
LATER = datetime(2026, 11, 15, tzinfo=UTC)
TERMS = Terms(earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("1.00"),
              network_fee_bps=0)


def test_a_review_bonus_is_billed_to_the_partner_that_funds_it(db: Database,
                                                               settings: Settings) -> None:
    cafe = db.write(lambda c: create_partner(c, code="cafe", name="Cafe", terms=TERMS,
                                             now=SEPT).id)
    shop = db.write(lambda c: create_partner(c, code="shop", name="Shop", terms=TERMS,
                                             now=SEPT).id)
    db.write(lambda c: event_types.install_standard(c, SEPT))
    db.write(store.create, Campaign(
        id=0, code="reviews", name_en="Reviews", name_fa="نظرها",
        trigger=Trigger("event", "review"),
        effect=FixedPoints(100), funder=sole_funder(cafe), starts_at=SEPT,
        conditions=Conditions(attributes=(AttributeCondition("rating", at_least=Decimal(4)),))),
        owner_party_id=cafe)
    db.write(store.set_status, "reviews", "active")
    ann = member(db, now=SEPT)
    recorded = events.record_event(db, scope=f"partner:{cafe}", idempotency_key="review-1",
                                   partner_id=cafe, member_id=ann, member_field="memberId",
                                   type="review", attributes={"rating": 5}, occurred_at=None,
                                   now=OCT)
    assert recorded.award is not None and recorded.award.points == 100
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=key(), partner_id=shop,
                  member_id=ann, points=100, now=datetime(2026, 10, 3, tzinfo=UTC))
    assert verify(db) == []

    preview = run.preview(db, settings, "2026-10", now=LATER)
    assert preview.run.summary["controls"]["discrepancies"] == []
    lines = {(line.payer_party_id, line.payee_party_id, line.kind): line.amount_minor
             for line in db.read(settlement_store.load_lines, preview.run.id)
             if line.amount_minor}
    # The café funds the bonus and pays the shop 1 cent a point for redeeming it.
    assert lines == {(cafe, shop, "redemption"): 100}
    closed = run.close(db, settings, "2026-10", now=LATER)
    nets = {p.party_id: p.net_minor
            for p in db.read(settlement_store.load_positions, closed.run.id) if p.net_minor}
    assert nets == {cafe: -100, shop: 100}
