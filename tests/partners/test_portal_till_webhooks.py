"""The partner portal's till (check and use a coupon) and webhooks pages, and the console's
rewards page and tier history, over HTTP through the real ASGI app on PostgreSQL: each role
does what it may and the server refuses the rest, partner A cannot touch partner B's coupons or
endpoints whatever ids it sends, each refusal says which one, and every change is audited once."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from network import audit, ledger, parties
from network.db.engine import Database
from network.ledger.verify import verify
from network.programme import rewards_buy, rewards_store, tiers_store
from network.programme.rewards import RewardSpec
from network.programme.tiers_schema import tier_changes
from partners import webhooks
from partners.contracts import add_contract
from partners.terms import Terms
from partners.webhooks import store as wh_store
from partners.webhooks.schema import webhook_deliveries
from tests.network.backoffice import world as bw
from tests.support import ledger_world as w

with warnings.catch_warnings():
    warnings.simplefilter("ignore")

DAY = dt.timedelta(days=1)


Clock = bw.Clock


@pytest.fixture
def clock() -> bw.Clock:
    return bw.Clock()


@pytest.fixture
def app(pg_db: Database, clock: bw.Clock):  # type: ignore[no-untyped-def]
    return bw.hub(pg_db, clock)


def client(app, who: bw.Person, clock: bw.Clock, door: str = "/partner/signin",  # type: ignore[no-untyped-def]
           language: str = "en") -> bw.Client:
    return bw.signed_in(app, who, clock, door, language)


def _reward(db: Database, partner: int, name: str, *, coupon_days: int = 30) -> int:
    made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
        kind="coupon", name_en=name, name_fa=f"{name} فا", price_points=100,
        coupon_days=coupon_days), scope="t", idempotency_key=w.key())
    rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                             scope="t", idempotency_key=w.key())
    return made.id


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop", name="Shop"))
    for party in (cafe, shop):
        pg_db.write(lambda c, p=party: add_contract(
            c, p, Terms(Decimal(1), clearing_price_per_point=Decimal("0.5")),
            effective_from=now - 400 * DAY, now=now - 400 * DAY))
    anna = w.member(pg_db, enrolled_by=cafe, now=now - 10 * DAY)
    ledger.earn(pg_db, scope="t", idempotency_key="a1", issuer_id=cafe, member_id=anna,
                points=1000, vests_at=now - 9 * DAY, now=now - 9 * DAY)
    coffee = _reward(pg_db, cafe, "Coffee")
    tote = _reward(pg_db, shop, "Tote")
    short = _reward(pg_db, cafe, "Cake", coupon_days=1)

    def bought(reward: int, at: dt.datetime) -> rewards_buy.Purchase:
        return rewards_buy.buy(pg_db, member_id=anna, reward_id=reward,
                               idempotency_key=w.key(), secret=w.SECRET, now=at)

    return {"cafe": cafe, "shop": shop, "anna": anna, "coffee": coffee, "tote": tote,
            "coffee_code": bought(coffee, now).code, "tote_code": bought(tote, now).code,
            "old_code": bought(short, now - 3 * DAY).code}


def _status(db: Database, code: str) -> str:
    return db.read(lambda c: rewards_buy.find_coupon(c, None, code)).status



def test_a_cashier_checks_then_uses_a_coupon_once_audited_once(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    cashier = client(app, bw.person(pg_db, "cashier", "c@cafe.test", partner_id=world["cafe"]),
                     clock)
    code = world["coffee_code"]
    assert cashier.get("/partner/till").status_code == 200
    persian = code.lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    checked = cashier.post("/partner/till/check", {"code": persian})
    assert checked.status_code == 200 and 'data-testid="till-valid"' in checked.text
    assert "Coffee" in checked.text and _status(pg_db, code) == "issued"  # checking uses nothing
    key = re.search(r'name="key" value="([^"]+)"', checked.text).group(1)
    used = cashier.post("/partner/till/use", {"code": code, "key": key})
    assert used.status_code == 303 and used.headers["location"].startswith("/partner/till?used=")
    shown = cashier.get(used.headers["location"])
    assert 'data-testid="till-used"' in shown.text and "Coffee" in shown.text
    # The same form again (a double press, a resent form): the first answer, nothing twice.
    assert cashier.post("/partner/till/use", {"code": code, "key": key}).status_code == 303
    assert _status(pg_db, code) == "used"
    logged = pg_db.read(lambda c: audit.entries(c, action="coupon.redeem"))
    assert len(logged) == 1 and logged[0].actor_kind == "partner_user"
    assert logged[0].before == {"status": "issued"} and logged[0].after["status"] == "used"
    # A new form with the used code: refused, by name.
    again = cashier.post("/partner/till/check", {"code": code})
    assert again.status_code == 400 and 'data-code="COUPON_ALREADY_USED"' in again.text
    assert cashier.post("/partner/till/use", {"code": code, "key": "other"}).status_code == 409
    assert verify(pg_db) == []


@pytest.mark.parametrize(("typed", "expected"), [
    ("tote_code", "COUPON_OTHER_PARTNER"),
    ("old_code", "COUPON_EXPIRED"),
    ("NOPE-NOPE-NOPE", "COUPON_UNKNOWN"),
    ("", "CODE_REQUIRED"),
])
def test_each_refusal_at_the_till_names_itself(
        pg_db: Database, app, clock: Clock, world: dict, typed: str,  # type: ignore[no-untyped-def]
        expected: str) -> None:
    manager = client(app, bw.person(pg_db, "manager", "m@cafe.test", partner_id=world["cafe"]),
                     clock, language="fa")
    code = world.get(typed, typed)
    manager.get("/partner/till")
    checked = manager.post("/partner/till/check", {"code": code})
    assert checked.status_code == 400 and f'data-code="{expected}"' in checked.text
    assert 'dir="rtl"' in checked.text
    used = manager.post("/partner/till/use", {"code": code, "key": w.key()})
    assert used.status_code == 409 and f'data-code="{expected}"' in used.text
    if typed == "tote_code":  # the shop's coupon is untouched by the café's till
        assert _status(pg_db, code) == "issued"
    assert pg_db.read(lambda c: audit.entries(c, action="coupon.redeem")) == []


def test_a_mistyped_symbol_is_named(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                    world: dict) -> None:
    code = world["coffee_code"]
    last = code[-1]
    swapped = code[:-1] + ("A" if last != "A" else "B")
    cashier = client(app, bw.person(pg_db, "cashier", "c@cafe.test", partner_id=world["cafe"]),
                     clock)
    cashier.get("/partner/till")
    checked = cashier.post("/partner/till/check", {"code": swapped})
    assert checked.status_code == 400 and 'data-code="COUPON_MISTYPED"' in checked.text


def test_analysts_and_staff_do_not_work_the_till(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    analyst = client(app, bw.person(pg_db, "analyst", "a@cafe.test", partner_id=world["cafe"]),
                     clock)
    assert analyst.get("/partner/till").status_code == 403
    assert analyst.post("/partner/till/check", {"code": world["coffee_code"]}).status_code == 403
    assert analyst.post("/partner/till/use", {"code": world["coffee_code"],
                                              "key": "k"}).status_code == 403
    operator = client(app, bw.person(pg_db, "operator"), clock, "/console/signin")
    assert operator.get("/partner/till").status_code == 403
    assert _status(pg_db, world["coffee_code"]) == "issued"


HOOK = "https://hooks.example.com/pointsnet"


def test_a_manager_runs_webhooks_and_the_secret_shows_once(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    manager = client(app, bw.person(pg_db, "manager", "m@cafe.test", partner_id=world["cafe"]),
                     clock)
    page = manager.get("/partner/webhooks")
    assert page.status_code == 200 and 'data-testid="wh-none"' in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    bad = manager.post("/partner/webhooks", {"url": "http://10.0.0.1/x", "events": "coupon.used",
                                             "key": key})
    assert bad.status_code == 400 and 'data-code="INVALID_WEBHOOK_URL"' in bad.text
    none = manager.post("/partner/webhooks", {"url": HOOK, "key": key})
    assert none.status_code == 400 and 'data-code="UNKNOWN_WEBHOOK_EVENT"' in none.text
    form = {"url": HOOK, "events": ["coupon.used", "coupon.bought"], "signing": "hmac",
            "key": key}
    made = manager.post("/partner/webhooks", form)
    assert made.status_code == 201
    secret = re.search(r'data-testid="wh-secret-value">([^<]+)<', made.text).group(1)
    assert secret.startswith("whsec_")
    # The list never shows it again; the same form again makes no second endpoint.
    assert secret not in manager.get("/partner/webhooks").text
    manager.post("/partner/webhooks", form)
    [endpoint] = pg_db.read(wh_store.list_endpoints, world["cafe"])
    assert set(endpoint.events) == {"coupon.used", "coupon.bought"}
    pg_db.write(lambda c: webhooks.emit(c, world["cafe"], webhooks.COUPON_USED, {"x": 1}))
    listed = manager.get("/partner/webhooks")
    [delivery] = pg_db.read(lambda c: wh_store.list_deliveries(c, endpoint.id))
    assert f'data-delivery="{delivery.id}"' in listed.text
    # Rotate: a new secret, shown on that answer.
    rotated = manager.post(f"/partner/webhooks/{endpoint.id}/rotate", {"key": w.key()})
    new_secret = re.search(r'data-testid="wh-secret-value">([^<]+)<', rotated.text).group(1)
    assert rotated.status_code == 200 and new_secret != secret
    # Disable: pending deliveries cancelled, replay refused until enabled again.
    assert manager.post(f"/partner/webhooks/{endpoint.id}/disable",
                        {"key": w.key()}).status_code == 303
    assert not pg_db.read(wh_store.get_endpoint, endpoint.id).enabled
    refused = manager.post(f"/partner/webhooks/deliveries/{delivery.id}/replay",
                           {"key": w.key()})
    assert refused.status_code == 409 and 'data-code="WEBHOOK_ENDPOINT_DISABLED"' in refused.text
    assert manager.post(f"/partner/webhooks/{endpoint.id}/enable",
                        {"key": w.key()}).status_code == 303
    replay_key = w.key()
    for _ in range(2):  # a resent form replays once
        assert manager.post(f"/partner/webhooks/deliveries/{delivery.id}/replay",
                            {"key": replay_key}).status_code == 303
    replays = pg_db.read(lambda c: c.execute(select(func.count()).select_from(
        webhook_deliveries).where(webhook_deliveries.c.replay_of == delivery.id)).scalar_one())
    assert replays == 1
    actions = [e.action for e in pg_db.read(lambda c: audit.entries(c))
               if e.action.startswith("webhook_")]
    assert sorted(actions) == sorted(["webhook_endpoint.create", "webhook_endpoint.rotate",
                                      "webhook_endpoint.disable", "webhook_endpoint.enable",
                                      "webhook_delivery.replay"])
    assert all(secret not in str(e.after) and new_secret not in str(e.after)
               for e in pg_db.read(lambda c: audit.entries(c)))


def test_webhooks_are_the_partners_own_and_analysts_only_read(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    shop_hook = wh_store.create_endpoint(
        pg_db, scope="t", idempotency_key=w.key(), partner_id=world["shop"], url=HOOK,
        events=["coupon.used"], signing_kind="hmac", secret_key=bw.SECRET)
    pg_db.write(lambda c: webhooks.emit(c, world["shop"], webhooks.COUPON_USED, {"x": 1}))
    [shop_delivery] = pg_db.read(lambda c: wh_store.list_deliveries(c, shop_hook.id))
    manager = client(app, bw.person(pg_db, "manager", "m@cafe.test", partner_id=world["cafe"]),
                     clock)
    assert HOOK not in manager.get("/partner/webhooks").text
    for url in (f"/partner/webhooks/{shop_hook.id}/disable",
                f"/partner/webhooks/{shop_hook.id}/rotate",
                f"/partner/webhooks/deliveries/{shop_delivery.id}/replay"):
        assert manager.post(url, {"key": w.key()}).status_code == 404, url
    after = pg_db.read(wh_store.get_endpoint, shop_hook.id)
    assert after.enabled and after.sealed_key == shop_hook.sealed_key
    analyst = client(app, bw.person(pg_db, "analyst", "a@shop.test", partner_id=world["shop"]),
                     clock)
    read = analyst.get("/partner/webhooks")
    assert read.status_code == 200 and HOOK in read.text
    assert 'data-testid="wh-create"' not in read.text and "wh-replay-" not in read.text
    assert analyst.post(f"/partner/webhooks/{shop_hook.id}/disable",
                        {"key": w.key()}).status_code == 403
    cashier = client(app, bw.person(pg_db, "cashier", "c@shop.test", partner_id=world["shop"]),
                     clock)
    assert cashier.get("/partner/webhooks").status_code == 403
    assert cashier.post("/partner/webhooks", {"url": HOOK, "events": "coupon.used"}
                        ).status_code == 403
    assert len(pg_db.read(wh_store.list_endpoints, world["shop"])) == 1


def test_operators_move_rewards_viewers_only_read(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    viewer = client(app, bw.person(pg_db, "viewer"), clock, "/console/signin")
    page = viewer.get("/console/rewards")
    assert page.status_code == 200 and f'data-reward="{world["coffee"]}"' in page.text
    assert f'reward-{world["coffee"]}-paused' not in page.text
    assert viewer.post(f"/console/rewards/{world['coffee']}/status",
                       {"status": "paused"}).status_code == 403
    operator = client(app, bw.person(pg_db, "operator"), clock, "/console/signin", "fa")
    listed = operator.get("/console/rewards?status=active")
    assert f'data-testid="reward-{world["coffee"]}-paused"' in listed.text
    form_key = w.key()
    for _ in range(2):
        assert operator.post(f"/console/rewards/{world['coffee']}/status",
                             {"status": "paused", "key": form_key}).status_code == 303
    assert pg_db.read(rewards_store.get, world["coffee"]).status == "paused"
    logged = pg_db.read(lambda c: audit.entries(c, action="reward.status"))
    assert len(logged) == 1 and logged[0].before == {"status": "active"}
    assert operator.post(f"/console/rewards/{world['coffee']}/status",
                         {"status": "retired", "key": w.key()}).status_code == 303
    back = operator.post(f"/console/rewards/{world['coffee']}/status",
                         {"status": "active", "key": w.key()})
    assert back.status_code == 409 and 'data-code="STATUS_CHANGE_NOT_ALLOWED"' in back.text
    assert operator.post("/console/rewards/999999/status",
                         {"status": "paused", "key": w.key()}).status_code == 404


def test_member_360_shows_the_tier_history(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                          world: dict) -> None:
    operator = client(app, bw.person(pg_db, "operator"), clock, "/console/signin")
    empty = operator.get(f"/console/members/{world['anna']}")
    assert 'data-testid="tier-history-none"' in empty.text
    pg_db.write(lambda c: c.execute(tier_changes.insert().values(
        member_id=world["anna"], from_tier="blue", to_tier="silver", changed_at=clock.now,
        reason="earn", earned=1000, partner_id=world["cafe"])))
    shown = operator.get(f"/console/members/{world['anna']}")
    assert 'data-testid="tier-history"' in shown.text and 'data-to="silver"' in shown.text
    assert len(pg_db.read(tiers_store.history, world["anna"])) == 1
