"""The partner portal's rewards page over HTTP on PostgreSQL: a partner's readers see only the
rewards their partner honours (price, stock left, status) and how they did, the purchases of a
chosen month or of all time by what became of them (used, expired, refunded), counted and in
points; a cashier gets 403; another partner's reward never shows; a bad month is named."""

from __future__ import annotations

import datetime as dt

import pytest

from network import parties
from network.clock import add_months
from network.db.engine import Database
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardSpec
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.partners import test_portal_till_webhooks as portal_fixtures
from tests.support import ledger_world as w

HOUR = dt.timedelta(hours=1)
Clock = bw.Clock
app, clock = portal_fixtures.app, portal_fixtures.clock  # the portal tests' fixtures


def _publish(db: Database, partner: int, name: str, price: int, at: dt.datetime,
             **more: object) -> int:
    made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
        kind="coupon", name_en=name, name_fa=f"{name} (fa)", price_points=price, **more),
        scope="t", idempotency_key=w.key("r"), now=at)
    rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                             scope="t", idempotency_key=w.key("s"), now=at)
    return made.id


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    """Two whole past months: `month` (last month) and `before` (the one before it)."""
    now = dt.datetime.now(dt.UTC)
    this = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month, before = add_months(this, -1), add_months(this, -2)
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe",
                                                name_fa="کافه"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop", name="Shop",
                                                name_fa="فروشگاه"))
    sara = ww.enrol(pg_db, email="sara@example.com", by=cafe, now=before - 2 * HOUR)
    ww.earn(pg_db, cafe, sara, 10_000, at=before - HOUR)
    coffee = _publish(pg_db, cafe, "Coffee", 300, before - HOUR, stock=20)
    cake = _publish(pg_db, cafe, "Cake", 500, before - HOUR, coupon_days=1)
    tea = _publish(pg_db, shop, "Secret tea", 700, before - HOUR)

    def buy(reward: int, at: dt.datetime) -> rewards_buy.Purchase:
        return rewards_buy.buy(pg_db, member_id=sara, reward_id=reward, idempotency_key=w.key(),
                               secret=ww.SECRET, now=at)

    def use(bought: rewards_buy.Purchase) -> None:
        rewards_buy.redeem_coupon(pg_db, partner_id=cafe, code=bought.code or "", scope="t",
                                  idempotency_key=w.key(), now=bought.bought_at + HOUR)

    use(buy(coffee, before + HOUR))
    use(buy(coffee, month + HOUR))
    refunded = buy(coffee, month + 2 * HOUR)
    rewards_buy.refund_coupon(pg_db, partner_id=cafe, code=refunded.code, scope="t",
                              idempotency_key=w.key(), now=month + 3 * HOUR)
    buy(coffee, month + 4 * HOUR)  # still issued
    buy(cake, month + HOUR)
    rewards_buy.expire_due(pg_db, now=month + dt.timedelta(days=3))
    buy(tea, month + HOUR)
    return {"cafe": cafe, "shop": shop, "coffee": coffee, "cake": cake, "tea": tea,
            "month": f"{month:%Y-%m}"}


def _row(html: str, reward: int) -> str:
    start = html.index(f'data-reward="{reward}"')
    return html[start:html.index(">", start)]


def test_a_manager_sees_their_rewards_and_how_they_did(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    manager = bw.signed_in(app, bw.person(pg_db, "manager", partner_id=world["cafe"]), clock,
                           door="/partner/signin")
    every = manager.get("/partner/rewards")
    assert every.status_code == 200
    assert "Coffee" in every.text and "Cake" in every.text and "Secret tea" not in every.text
    assert f'data-reward="{world["tea"]}"' not in every.text
    assert "createReward" in every.text and "updateReward" in every.text
    assert ('data-sold="4" data-used="2" data-expired="0" data-refunded="1" '
            'data-sold-points="1200"') in _row(every.text, world["coffee"])
    assert 'data-sold="1" data-used="0" data-expired="1"' in _row(every.text, world["cake"])
    assert 'data-testid="rewards-total" data-sold="5"' in every.text
    # Stock left: 20 less 4 sold, and the refunded one is for sale again.
    assert 'data-stock="17"' in _row(every.text, world["coffee"])
    one = manager.get(f"/partner/rewards?month={world['month']}")
    assert one.status_code == 200
    assert ('data-sold="3" data-used="1" data-expired="0" data-refunded="1" '
            'data-sold-points="900"') in _row(one.text, world["coffee"])
    assert 'data-testid="rewards-total" data-sold="4"' in one.text


def test_an_analyst_of_another_partner_sees_only_theirs(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    analyst = bw.signed_in(app, bw.person(pg_db, "analyst", partner_id=world["shop"]), clock,
                           door="/partner/signin")
    page = analyst.get("/partner/rewards")
    assert page.status_code == 200 and "Secret tea" in page.text
    assert "Coffee" not in page.text and f'data-reward="{world["coffee"]}"' not in page.text
    assert 'data-sold="1" data-used="0"' in _row(page.text, world["tea"])


@pytest.mark.parametrize(("month", "code"), [("2026-13", "PERIOD_INVALID"),
                                             ("junk", "PERIOD_INVALID"),
                                             ("2999-01", "PERIOD_IN_FUTURE")])
def test_a_bad_month_is_named(pg_db: Database, app, clock: Clock, world: dict,  # type: ignore[no-untyped-def]
                              month: str, code: str) -> None:
    manager = bw.signed_in(app, bw.person(pg_db, "manager", partner_id=world["cafe"]), clock,
                           door="/partner/signin")
    page = manager.get(f"/partner/rewards?month={month}")
    assert page.status_code == 400 and f'data-code="{code}"' in page.text


def test_persian_digits_name_the_month(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                       world: dict) -> None:
    manager = bw.signed_in(app, bw.person(pg_db, "manager", partner_id=world["cafe"]), clock,
                           door="/partner/signin", language="fa")
    persian = world["month"].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    page = manager.get(f"/partner/rewards?month={persian}")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert 'data-sold="3"' in _row(page.text, world["coffee"])


def test_a_cashier_and_staff_are_refused(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                         world: dict) -> None:
    cashier = bw.signed_in(app, bw.person(pg_db, "cashier", partner_id=world["cafe"]), clock,
                           door="/partner/signin")
    assert cashier.get("/partner/rewards").status_code == 403
    operator = bw.signed_in(app, bw.person(pg_db, "operator"), clock)
    assert operator.get("/partner/rewards").status_code == 403
