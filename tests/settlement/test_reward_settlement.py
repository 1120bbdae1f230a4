"""Rewards settle with no settlement code of their own: a coupon bought at the shop with the
café's points is a redemption consumption with sink = the shop, so the monthly run bills the
café for the shop; a refund in the same month cancels it, and the control totals reconcile."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from network import ledger
from network.config import Settings
from network.db.engine import Database
from network.ledger.verify import verify
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardSpec
from partners.registry import create_partner
from partners.terms import Terms
from settlement import run
from settlement import store as settlement_store
from tests.support.ledger_world import SECRET, key, member

SEPT = datetime(2026, 9, 1, tzinfo=UTC)
OCT = datetime(2026, 10, 2, tzinfo=UTC)
LATER = datetime(2026, 11, 15, tzinfo=UTC)
TERMS = Terms(earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("1.00"),
              network_fee_bps=0)


def test_a_bought_coupon_is_billed_to_the_issuer_for_the_honouring_partner(
        db: Database, settings: Settings) -> None:
    cafe = db.write(lambda c: create_partner(c, code="cafe", name="Cafe", terms=TERMS,
                                             now=SEPT).id)
    shop = db.write(lambda c: create_partner(c, code="shop", name="Shop", terms=TERMS,
                                             now=SEPT).id)
    ann, bob = member(db, now=SEPT), member(db, now=SEPT)
    for m in (ann, bob):
        ledger.earn(db, scope=f"partner:{cafe}", idempotency_key=key(), issuer_id=cafe,
                    member_id=m, points=1000, now=SEPT)
    reward = rewards_store.create(db, partner_id=shop, spec=RewardSpec(
        kind="coupon", name_en="Tote bag", name_fa="کیف", price_points=400), scope="staff",
        idempotency_key=key(), now=SEPT)
    rewards_store.set_status(db, partner_id=shop, reward_id=reward.id, status="active",
                             scope="staff", idempotency_key=key(), now=SEPT)
    kept = rewards_buy.buy(db, member_id=ann, reward_id=reward.id, idempotency_key="a",
                           secret=SECRET, now=OCT)
    given_back = rewards_buy.buy(db, member_id=bob, reward_id=reward.id, idempotency_key="b",
                                 secret=SECRET, now=OCT)
    rewards_buy.redeem_coupon(db, partner_id=shop, code=kept.code, scope="till",
                              idempotency_key=key(), now=OCT)
    rewards_buy.refund_coupon(db, partner_id=shop, code=given_back.code, scope="till",
                              idempotency_key=key(), now=OCT)
    assert verify(db) == []

    preview = run.preview(db, settings, "2026-10", now=LATER)
    assert preview.run.summary["controls"]["discrepancies"] == []
    lines = {}
    for line in db.read(settlement_store.load_lines, preview.run.id):
        if line.amount_minor:
            k = (line.payer_party_id, line.payee_party_id, line.kind)
            lines[k] = lines.get(k, 0) + line.amount_minor
    # 800 points redeemed at the shop, 400 of them given back: the café owes the shop 400.
    assert sum(v for (payer, payee, _), v in lines.items() if (payer, payee) == (cafe, shop)) \
        == 400
    closed = run.close(db, settings, "2026-10", now=LATER)
    nets = {p.party_id: p.net_minor
            for p in db.read(settlement_store.load_positions, closed.run.id) if p.net_minor}
    assert nets == {cafe: -400, shop: 400}
