"""KPI rollups against the ledger they summarise, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from network import ledger
from network.db.engine import Database
from network.db.schema import lots
from partners.contracts import add_contract
from partners.terms import Terms
from settlement.kpis import queries, rollup
from settlement.kpis.schema import kpi_daily, kpi_flows
from tests.support import ledger_world as w

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ZONE = "UTC"


def day(n: int) -> datetime:
    return NOW - timedelta(days=n)


def _world(db: Database) -> dict[str, int]:
    cafe, shop, kids = w.partner(db, "cafe"), w.partner(db, "shop"), w.charity(db, "kids")
    w.partner(db, "idle")
    for party, price in ((cafe, "0.5"), (shop, "0.25")):
        db.write(lambda c, p=party, pr=price: add_contract(
            c, p, Terms(Decimal(1), clearing_price_per_point=Decimal(pr)),
            effective_from=day(30), now=day(30)))
    anna = w.member(db, enrolled_by=cafe, now=day(5))
    ben = w.member(db, enrolled_by=shop, now=day(5))
    ledger.earn(db, scope="t", idempotency_key="e1", issuer_id=cafe, member_id=anna,
                points=1000, vests_at=day(5), expires_at=day(1) - timedelta(hours=1), now=day(5))
    ledger.earn(db, scope="t", idempotency_key="e2", issuer_id=shop, member_id=ben,
                points=500, vests_at=day(5), expires_at=day(-300), now=day(5))
    spent = ledger.redeem(db, scope="t", idempotency_key="r1", partner_id=shop, member_id=anna,
                          points=300, now=day(3))
    ledger.donate(db, scope="t", idempotency_key="d1", member_id=anna, charity_id=kids,
                  points=100, now=day(3))
    ledger.reverse_redemption(db, scope="t", idempotency_key="rr", partner_id=shop,
                              entry_id=spent.entry_id, points=50, now=day(2))
    ledger.transfer(db, scope="t", idempotency_key="t1", from_member_id=ben, to_member_id=anna,
                    points=200, allowed=True, now=day(2))
    ledger.expire_due(db, now=day(1))
    return {"cafe": cafe, "shop": shop, "kids": kids, "anna": anna, "ben": ben}


def _rows(db: Database) -> tuple[list, list]:
    return db.read(lambda c: (
        sorted(tuple(r) for r in c.execute(select(kpi_daily))),
        sorted(tuple(r) for r in c.execute(select(kpi_flows)))))


def test_rollups_add_up_to_the_ledger_and_refresh_the_same(db: Database) -> None:
    p = _world(db)
    done = rollup.refresh(db, NOW, ZONE)
    assert done.days == 6  # the ledger's first day (5 days ago) to today
    first = _rows(db)
    rollup.refresh(db, NOW, ZONE, days=[(NOW - timedelta(days=n)).date() for n in range(6)])
    assert _rows(db) == first  # refreshing again writes the same rows

    period = queries.Period(day(5).date(), NOW.date())
    board = db.read(queries.dashboard, period, None, ZONE)
    assert board.new_members == 2 and board.issued == 1500
    assert board.redeemed == 250 and board.donated == 100
    expired = 1000 - 300 - 100 + 50  # what was left of Anna's cafe lot when it expired
    assert board.expired == expired
    assert board.redemption_rate == Decimal("0.1667")
    assert expired == 650 and board.breakage_rate == Decimal("0.65")  # 650 / (250+100+650)
    assert board.matrix == {(p["cafe"], p["shop"]): 250}
    assert board.active_30 == 2
    # Liability by issuer equals the points still unspent in the issuer's lots.
    unspent = dict(db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, func.sum(lots.c.remaining))
        .where(lots.c.remaining > 0).group_by(lots.c.issuer_party_id)).tuples().all()))
    assert {li.issuer.id: li.points for li in board.liability} == unspent
    shop_row = next(li for li in board.liability if li.issuer.id == p["shop"])
    assert shop_row.money_minor == round(shop_row.points * 0.25) and shop_row.points == 500

    cafe_board = db.read(queries.dashboard, period, p["cafe"], ZONE)
    assert cafe_board.new_members == 1 and cafe_board.issued == 1000
    assert cafe_board.redeemed == 250 and cafe_board.redeemed_here == 0
    assert cafe_board.expired == expired
    assert [li.issuer.id for li in cafe_board.liability] == []  # nothing of cafe's left
    shop_board = db.read(queries.dashboard, period, p["shop"], ZONE)
    assert shop_board.redeemed == 0 and shop_board.redeemed_here == 250
    assert shop_board.matrix == {(p["cafe"], p["shop"]): 250}
    assert [li.points for li in shop_board.liability] == [500]


def test_a_later_day_only_adds_its_own_rows_and_tiers_are_a_snapshot(db: Database) -> None:
    _world(db)
    rollup.refresh(db, NOW, ZONE)
    tiers = db.read(lambda c: dict(c.execute(
        select(kpi_daily.c.measure, kpi_daily.c.value)
        .where(kpi_daily.c.day == NOW.date(), kpi_daily.c.measure.like("tier:%"))).tuples().all()))
    assert sum(tiers.values()) == 2 and tiers.get("tier:blue") == 2
    again = rollup.refresh(db, NOW + timedelta(days=1), ZONE)
    assert again.days == rollup.REDO_DAYS + 2  # two days back, today again, and tomorrow
