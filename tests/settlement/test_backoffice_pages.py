"""The dashboards, the finance page and the partner portal over HTTP on PostgreSQL: each role
sees what it may and the server refuses the rest, a partner user sees only their own partner
whatever ids they put in a URL, every table has its CSV, bad input is named by field."""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from decimal import Decimal

import pytest
from sqlalchemy import select

from network import audit, ledger, parties
from network.db.engine import Database
from partners import keys as api_keys
from partners.contracts import add_contract
from partners.terms import Terms
from settlement.kpis import rollup
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


def client(app, who: bw.Person, clock: bw.Clock, door: str = "/console/signin",  # type: ignore[no-untyped-def]
           language: str = "en") -> bw.Client:
    return bw.signed_in(app, who, clock, door, language)


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe Roma",
                                                name_fa="کافه رما"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop", name="Shop"))
    for party in (cafe, shop):
        pg_db.write(lambda c, p=party: add_contract(
            c, p, Terms(Decimal(1), clearing_price_per_point=Decimal("0.5")),
            effective_from=now - 400 * DAY, now=now - 400 * DAY))
    anna = w.member(pg_db, enrolled_by=cafe, now=now - 10 * DAY)
    ben = w.member(pg_db, enrolled_by=shop, now=now - 10 * DAY)
    ledger.earn(pg_db, scope="t", idempotency_key="a1", issuer_id=cafe, member_id=anna,
                points=1000, vests_at=now - 9 * DAY, reference="CAFE-RCPT-1", now=now - 9 * DAY)
    ledger.earn(pg_db, scope="t", idempotency_key="b1", issuer_id=shop, member_id=ben,
                points=700, vests_at=now - 9 * DAY, reference="SHOP-RCPT-1", now=now - 9 * DAY)
    ledger.redeem(pg_db, scope="t", idempotency_key="a2", partner_id=shop, member_id=anna,
                  points=400, reference="SHOP-RCPT-2", now=now - 5 * DAY)
    cafe_key = pg_db.write(lambda c: api_keys.create_key(c, party_id=cafe, now=now,
                                                         label="till"))[0]
    shop_key = pg_db.write(lambda c: api_keys.create_key(c, party_id=shop, now=now,
                                                         label="web"))[0]
    rollup.refresh(pg_db, now, "UTC")
    return {"cafe": cafe, "shop": shop, "anna": anna, "ben": ben,
            "cafe_key": cafe_key.key_id, "shop_key": shop_key.key_id}


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_staff_dashboards_for_the_network_and_a_partner_with_csv(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    viewer = client(app, bw.person(pg_db, "viewer"), clock)
    page = viewer.get("/console/dashboards")
    assert page.status_code == 200
    assert "<svg" in page.text and 'data-testid="table-liability"' in page.text
    summary = dict(_csv(viewer.get("/console/dashboards.csv?table=summary").text)[1:])
    assert summary["Points issued"] == "1700" and summary["Points redeemed"] == "400"
    assert summary["New members"] == "2" and summary["Redemption rate"] == "0.2353"
    liability = _csv(viewer.get("/console/dashboards.csv?table=liability").text)
    assert liability[1:] == [["Shop", "700", "0.005", "3.50"], ["Cafe Roma", "600", "0.005",
                                                                  "3.00"]]
    matrix = _csv(viewer.get("/console/dashboards.csv?table=matrix").text)
    assert matrix == [["Earned at", "Shop"], ["Cafe Roma", "400"]]
    cafe = dict(_csv(viewer.get("/console/dashboards.csv?table=summary&partner=cafe").text)[1:])
    assert cafe["Points issued"] == "1000" and cafe["Points redeemed here (any issuer)"] == "0"
    bad = viewer.get("/console/dashboards?from=2026-13-01")
    assert bad.status_code == 400 and 'data-code="BAD_DATE"' in bad.text
    unknown = viewer.get("/console/dashboards?partner=nope")
    assert unknown.status_code == 400 and 'data-code="UNKNOWN_PARTY"' in unknown.text
    backwards = viewer.get("/console/dashboards?from=2026-11-02&to=2026-11-01")
    assert 'data-code="BAD_PERIOD_ORDER"' in backwards.text
    # A viewer reads dashboards, not the finance page.
    assert viewer.get("/console/finance").status_code == 403


def test_persian_dashboard_speaks_persian_digits_and_jalali_dates(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    finance = client(app, bw.person(pg_db, "finance"), clock, language="fa")
    page = finance.get("/console/dashboards")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert "۱٬۷۰۰" in page.text and "1,700" not in page.text
    assert any(month in page.text for month in ("آذر", "آبان", "دی", "مهر"))
    money = finance.get("/console/finance")
    assert money.status_code == 200 and 'data-testid="reconciled"' in money.text


def test_a_partner_user_sees_only_their_partner(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    manager = client(app, bw.person(pg_db, "manager", "m@cafe.test", partner_id=world["cafe"]),
                     clock, "/partner/signin")
    tx = manager.get("/partner/transactions")
    assert tx.status_code == 200 and "CAFE-RCPT-1" in tx.text and "SHOP-RCPT" not in tx.text
    rows = _csv(manager.get("/partner/transactions.csv").text)
    assert [r[5] for r in rows[1:]] == ["CAFE-RCPT-1"]
    members_page = manager.get("/partner/members")
    assert members_page.status_code == 200 and 'data-testid="members-count"' in members_page.text
    assert "1 members" in members_page.text
    keys = manager.get("/partner/keys")
    assert world["cafe_key"] in keys.text and world["shop_key"] not in keys.text
    # The other partner's key by URL: not found, and still active.
    assert manager.post(f"/partner/keys/{world['shop_key']}/revoke").status_code == 404
    assert pg_db.read(api_keys.find_key, world["shop_key"]).revoked_at is None
    # Its own key: revoked once, audited once, a second press changes nothing.
    assert manager.post(f"/partner/keys/{world['cafe_key']}/revoke").status_code == 303
    assert manager.post(f"/partner/keys/{world['cafe_key']}/revoke").status_code == 303
    assert pg_db.read(api_keys.find_key, world["cafe_key"]).revoked_at is not None
    logged = pg_db.read(lambda c: audit.entries(c, action="partner_key.revoke"))
    assert [e.subject for e in logged] == [f"partner_key:{world['cafe_key']}"]
    # The dashboard is the partner's own, whatever the URL asks for.
    board = dict(_csv(manager.get("/partner/dashboard.csv?table=summary&partner=shop").text)[1:])
    assert board["Points issued"] == "1000"
    assert manager.get("/partner/dashboard").status_code == 200
    # Staff pages are not theirs.
    for url in ("/console/dashboards", "/console/finance", "/console/members"):
        assert manager.get(url).status_code in (303, 403), url


def test_a_cashier_has_the_till_only(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                     world: dict) -> None:
    cashier = client(app, bw.person(pg_db, "cashier", "c@cafe.test", partner_id=world["cafe"]),
                     clock, "/partner/signin")
    assert cashier.get("/partner").headers["location"] == "/partner/transactions"
    assert cashier.get("/partner/transactions").status_code == 200
    for url in ("/partner/members", "/partner/keys", "/partner/dashboard", "/partner/statements",
                "/partner/campaigns", "/console/dashboards", "/console/members"):
        assert cashier.get(url).status_code == 403, url
    assert cashier.post(f"/partner/keys/{world['cafe_key']}/revoke").status_code == 403
    assert pg_db.read(api_keys.find_key, world["cafe_key"]).revoked_at is None


def test_filters_name_their_field(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                  world: dict) -> None:
    analyst = client(app, bw.person(pg_db, "analyst", "a@cafe.test", partner_id=world["cafe"]),
                     clock, "/partner/signin")
    bad = analyst.get("/partner/transactions?card=123")
    assert bad.status_code == 400 and 'data-code="BAD_CARD"' in bad.text
    assert 'data-code="BAD_KIND"' in analyst.get("/partner/transactions?kind=donate").text
    none = analyst.get("/partner/transactions?kind=redeem")
    assert 'data-testid="tx-none"' in none.text  # the redemption was at the shop
    assert select is not None


def test_every_kind_a_partner_lists_has_its_words_in_both_languages() -> None:
    from partners.ledger_view import LISTED_KINDS
    from partners.portal import messages_en, messages_fa

    for words in (messages_en.MESSAGES, messages_fa.MESSAGES):
        assert {f"p_kind_{kind}" for kind in LISTED_KINDS} <= set(words)
