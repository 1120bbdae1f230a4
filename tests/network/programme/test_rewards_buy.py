"""Publishing, buying, using, refunding and expiring rewards, on SQLite and PostgreSQL; every
test ends with a clean `ledger verify`."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from network import ledger
from network.db.schema import consumptions, journal_entries, lots
from network.ledger.errors import InsufficientPoints
from network.ledger.verify import verify
from network.notifications.schema import notification_outbox
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardError, RewardRefused, RewardSpec
from tests.support import ledger_world as w

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def publish(db, partner: int, *, active: bool = True, **over) -> int:
    spec = RewardSpec(**({"kind": "coupon", "name_en": "Free coffee", "name_fa": "قهوه",
                          "price_points": 100} | over))
    r = rewards_store.create(db, partner_id=partner, spec=spec, scope="staff:1",
                             idempotency_key=w.key("create"), now=NOW)
    if active:
        rewards_store.set_status(db, partner_id=partner, reward_id=r.id, status="active",
                                 scope="staff:1", idempotency_key=w.key("status"), now=NOW)
    return r.id


def rich_member(db, issuer: int, points: int = 1000) -> int:
    m = w.member(db)
    ledger.earn(db, scope="p", idempotency_key=w.key("earn"), issuer_id=issuer, member_id=m,
                points=points, now=NOW - dt.timedelta(days=1))
    return m


def buy(db, member: int, reward: int, key: str | None = None, at=NOW):
    return rewards_buy.buy(db, member_id=member, reward_id=reward,
                           idempotency_key=key or w.key("buy"), secret=w.SECRET, now=at)


def code_of(fn, *args, **kw) -> str:
    with pytest.raises((RewardError, RewardRefused, InsufficientPoints)) as caught:
        fn(*args, **kw)
    return caught.value.code


@pytest.fixture
def world(db):
    cafe, pharmacy = w.partner(db, "cafe"), w.partner(db, "pharmacy")
    return db, cafe, pharmacy


def test_buying_consumes_points_with_the_honouring_partner_as_sink(world):
    db, cafe, pharmacy = world
    member = rich_member(db, cafe)
    reward = publish(db, pharmacy, price_points=300, stock=2)
    bought = buy(db, member, reward, key="b1")
    assert bought.status == "issued" and bought.points == 300
    assert len(bought.code.replace("-", "")) == 14
    assert bought.expires_at == NOW + dt.timedelta(days=30)
    rows = db.read(lambda c: c.execute(select(consumptions.c.kind, consumptions.c.issuer_party_id,
                                              consumptions.c.sink_party_id, consumptions.c.points)
                                       .where(consumptions.c.entry_id == bought.entry_id)).all())
    assert [tuple(r) for r in rows] == [("redemption", cafe, pharmacy, 300)]
    kind = db.read(lambda c: c.execute(select(journal_entries.c.kind).where(
        journal_entries.c.id == bought.entry_id)).scalar_one())
    assert kind == "reward"
    again = buy(db, member, reward, key="b1")  # a retry: the same purchase, nothing more
    assert again == bought
    assert db.read(rewards_store.get, reward).spec.stock == 1
    assert verify(db) == []


def test_the_member_is_told_the_code_through_the_outbox(world):
    db, cafe, _ = world
    m = w.member(db)
    from network import members
    members.update_contact(db, secret=w.SECRET, member_id=m, email="sara@example.com")
    ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=cafe, member_id=m, points=500,
                now=NOW - dt.timedelta(days=1))
    bought = buy(db, m, publish(db, cafe))
    sent = db.read(lambda c: c.execute(select(notification_outbox)).all())
    assert len(sent) == 1 and sent[0].recipient == "sara@example.com"
    assert bought.code in sent[0].body and "Free coffee" in sent[0].subject


def test_refusals_write_nothing(world):
    db, cafe, _ = world
    poor = rich_member(db, cafe, points=50)
    reward = publish(db, cafe, stock=1, per_member_limit=1)
    before = w.row_counts(db)
    assert code_of(buy, db, poor, reward) == "INSUFFICIENT_POINTS"
    assert code_of(buy, db, poor, 999) == "REWARD_NOT_FOUND"
    assert code_of(buy, db, poor, publish(db, cafe, active=False)) == "REWARD_NOT_AVAILABLE"
    before = w.row_counts(db)
    rich = rich_member(db, cafe)
    buy(db, rich, reward)
    assert code_of(buy, db, rich, reward) == "MEMBER_LIMIT_REACHED"
    other = rich_member(db, cafe)
    counts = w.row_counts(db)
    assert code_of(buy, db, other, reward) == "OUT_OF_STOCK"
    assert w.row_counts(db) == counts != before
    assert verify(db) == []


def test_a_pool_gives_each_code_once_and_runs_out(world):
    db, cafe, _ = world
    reward = publish(db, cafe, code_source="pool")
    member = rich_member(db, cafe)
    assert code_of(buy, db, member, reward) == "CODES_EXHAUSTED"
    _, added = rewards_store.upload_codes(db, partner_id=cafe, reward_id=reward,
                                          csv_text="code\nabc-111\nABC222\n", scope="partner:1",
                                          idempotency_key="u1", now=NOW)
    assert added == 2
    got = {buy(db, member, reward).code, buy(db, member, reward).code}
    assert got == {"ABC111", "ABC222"}
    assert code_of(buy, db, member, reward) == "CODES_EXHAUSTED"
    assert verify(db) == []


def test_a_bad_upload_imports_nothing_and_names_every_line(world):
    db, cafe, pharmacy = world
    reward = publish(db, cafe, code_source="pool")
    rewards_store.upload_codes(db, partner_id=cafe, reward_id=reward, csv_text="OLD-0001\n",
                               scope="partner:1", idempotency_key="u1", now=NOW)
    counts = w.row_counts(db)
    with pytest.raises(RewardRefused) as caught:
        rewards_store.upload_codes(db, partner_id=cafe, reward_id=reward,
                                   csv_text="NEW-0001\nold0001\nNEW-0001\n??\n",
                                   scope="partner:1", idempotency_key="u2", now=NOW)
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("csv.line2", "CODE_EXISTS"), ("csv.line3", "CODE_DUPLICATE_IN_FILE"),
        ("csv.line4", "CODE_MALFORMED")]
    assert w.row_counts(db) == counts
    assert code_of(rewards_store.upload_codes, db, partner_id=pharmacy, reward_id=reward,
                   csv_text="X-0001\n", scope="partner:2", idempotency_key="u3") == \
        "REWARD_NOT_FOUND"
    generated = publish(db, cafe)
    assert code_of(rewards_store.upload_codes, db, partner_id=cafe, reward_id=generated,
                   csv_text="X-0001\n", scope="partner:1", idempotency_key="u4") == \
        "CODE_SOURCE_NOT_POOL"


def redeem(db, partner, code, key=None, at=NOW):
    return rewards_buy.redeem_coupon(db, partner_id=partner, code=code, scope=f"partner:{partner}",
                                     idempotency_key=key or w.key("redeem"), now=at)


def test_at_the_till(world):
    db, cafe, pharmacy = world
    member = rich_member(db, cafe)
    reward = publish(db, pharmacy, coupon_days=10)
    coupon = buy(db, member, reward)
    assert code_of(redeem, db, cafe, coupon.code) == "COUPON_OTHER_PARTNER"
    assert code_of(redeem, db, pharmacy, "NOPE-NOPE") == "COUPON_UNKNOWN"
    typo = coupon.code[:-1] + ("0" if coupon.code[-1] != "0" else "1")
    assert code_of(redeem, db, pharmacy, typo) == "COUPON_MISTYPED"
    late = NOW + dt.timedelta(days=11)
    assert code_of(redeem, db, pharmacy, coupon.code, at=late) == "COUPON_EXPIRED"
    used = redeem(db, pharmacy, coupon.code.lower(), key="till-1")
    assert used.status == "used" and used.used_at == NOW
    assert redeem(db, pharmacy, coupon.code.lower(), key="till-1") == used  # a retry
    assert code_of(redeem, db, pharmacy, coupon.code) == "COUPON_ALREADY_USED"
    assert code_of(rewards_buy.refund_coupon, db, partner_id=pharmacy, code=coupon.code,
                   scope="p", idempotency_key="r") == "COUPON_NOT_REFUNDABLE"
    assert verify(db) == []


def lot_remaining(db, member):
    return db.read(lambda c: sorted(tuple(r) for r in c.execute(
        select(lots.c.id, lots.c.remaining).where(lots.c.member_id == member))))


def test_a_refund_returns_points_to_their_original_lots_and_the_stock(world):
    db, cafe, pharmacy = world
    member = w.member(db)
    for i, days in enumerate((30, 60)):
        ledger.earn(db, scope="p", idempotency_key=f"e{i}", issuer_id=cafe, member_id=member,
                    points=80, expires_at=NOW + dt.timedelta(days=days),
                    now=NOW - dt.timedelta(days=1))
    before = lot_remaining(db, member)
    reward = publish(db, pharmacy, stock=1)
    coupon = buy(db, member, reward)
    assert lot_remaining(db, member) != before
    refunded = rewards_buy.refund_coupon(db, partner_id=pharmacy, code=coupon.code,
                                         scope="partner:x", idempotency_key="r1", now=NOW)
    assert refunded.status == "refunded"
    assert lot_remaining(db, member) == before
    assert db.read(rewards_store.get, reward).spec.stock == 1
    assert code_of(redeem, db, pharmacy, coupon.code) == "COUPON_REFUNDED"
    assert code_of(rewards_buy.refund_coupon, db, partner_id=pharmacy, code=coupon.code,
                   scope="partner:x", idempotency_key="r2") == "COUPON_REFUNDED"
    assert verify(db) == []


def test_expiry_returns_points_or_not_as_the_reward_says(world):
    db, cafe, _ = world
    member = rich_member(db, cafe, points=1000)
    keep = publish(db, cafe, coupon_days=1)
    give = publish(db, cafe, coupon_days=1, refund_on_expiry=True)
    a, b = buy(db, member, keep), buy(db, member, give)
    assert rewards_buy.expire_due(db, NOW + dt.timedelta(hours=23)).expired == 0
    run = rewards_buy.expire_due(db, NOW + dt.timedelta(days=2), batch=1)  # two batches
    assert (run.expired, run.refunded) == (2, 1)
    assert rewards_buy.expire_due(db, NOW + dt.timedelta(days=3)).expired == 0
    assert db.read(rewards_buy.purchase, a.id).status == "expired"
    assert db.read(rewards_buy.purchase, b.id).status == "expired"
    from network.ledger import balances
    assert db.read(balances.summary, member, NOW).spendable == 900
    assert verify(db) == []


def test_a_charity_pledge_is_a_donation(world):
    db, cafe, _ = world
    charity = w.charity(db, "trees")
    member = rich_member(db, cafe)
    pledge = publish(db, cafe, kind="charity_pledge", code_source="none", charity_id=charity)
    bought = buy(db, member, pledge)
    assert bought.code is None
    rows = db.read(lambda c: c.execute(select(consumptions.c.kind, consumptions.c.sink_party_id)
                                       .where(consumptions.c.entry_id == bought.entry_id)).all())
    assert [tuple(r) for r in rows] == [("donation", charity)]
    assert verify(db) == []


def test_a_partner_changes_only_its_own_rewards(world):
    db, cafe, pharmacy = world
    reward = publish(db, cafe, active=False)
    assert code_of(rewards_store.update_reward, db, partner_id=pharmacy, reward_id=reward,
                   changes={"price_points": 5}, scope="p", idempotency_key="x") == \
        "REWARD_NOT_FOUND"
    changed = rewards_store.update_reward(db, partner_id=cafe, reward_id=reward,
                                          changes={"price_points": 150, "stock": 3},
                                          scope="p", idempotency_key="y", now=NOW)
    assert (changed.spec.price_points, changed.spec.stock) == (150, 3)
    assert code_of(rewards_store.update_reward, db, partner_id=cafe, reward_id=reward,
                   changes={"price_points": 0}, scope="p", idempotency_key="z") == \
        "PRICE_NOT_POSITIVE"


def test_the_honouring_partner_hears_of_a_coupon_bought_and_used(world, monkeypatch):
    """coupon.bought and coupon.used go to the partner's webhook endpoints, written in the
    purchase's and the till's own transactions (through the ledger's observers)."""
    import json

    from partners.webhooks import schema as hooks_schema
    from partners.webhooks import store as hooks

    db, cafe, pharmacy = world
    monkeypatch.setenv(hooks.ALLOW_LOCAL_ENV, "1")
    hooks.create_endpoint(db, scope=f"partner:{cafe}", idempotency_key=w.key("hook"),
                          partner_id=cafe, url="https://127.0.0.1:9/hooks",
                          events=["coupon.bought", "coupon.used"], signing_kind="hmac",
                          secret_key=w.SECRET, now=NOW)
    member = rich_member(db, pharmacy)
    bought = buy(db, member, publish(db, cafe))
    rewards_buy.redeem_coupon(db, partner_id=cafe, code=bought.code, scope=f"partner:{cafe}",
                              idempotency_key=w.key("use"), now=NOW)
    events = db.read(lambda c: c.execute(select(
        hooks_schema.webhook_events.c.type, hooks_schema.webhook_events.c.body)
        .order_by(hooks_schema.webhook_events.c.id)).all())
    assert [e.type for e in events] == ["coupon.bought", "coupon.used"]
    data = json.loads(events[0].body)["data"]
    assert data["points"] == 100 and set(data) == {"couponId", "rewardId", "memberId", "points",
                                                   "at"}
    assert bought.code not in events[0].body + events[1].body  # no code in a webhook
