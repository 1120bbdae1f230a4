"""The lottery and gift pages over HTTP (ASGI), on both databases: refusals are shown on the page
with their code and write nothing; a retried form enters once; pages are the member's own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from starlette.applications import Starlette

from network import members
from network.ledger.balances import summary
from network.programme import lottery_store as store
from network.wallet.pages import routes
from network.wallet.pages.site import Site
from tests.network import wallet_world as ww
from tests.network.test_wallet_pages import BASE, NOW, Browser, TestClient
from tests.support import ledger_world as w

HOUR = dt.timedelta(hours=1)


def browser_for(db, clock, **settings) -> Browser:
    site = Site(db, dataclasses.replace(ww.settings(), **settings), drainer=None, clock=clock)
    return Browser(TestClient(Starlette(routes=routes(site)), base_url=BASE), db, clock)


@pytest.fixture
def world(db):
    cafe = w.partner(db, "cafe")
    sara = ww.enrol(db, email="sara@example.com", name="Sara")
    ali = ww.enrol(db, email="ali@example.com", name="Ali")
    ww.earn(db, cafe, sara, 250, at=NOW - 10 * HOUR)
    draw = store.open_draw(db, code="phone", name_en="A phone", name_fa="یک گوشی",
                           opens_at=NOW - HOUR, closes_at=NOW + HOUR, entry_price=100,
                           max_entries_per_member=5, sponsor_party_id=cafe,
                           prizes=[store.Prize(1, "Phone", "گوشی")], now=NOW - HOUR)
    card = db.read(lambda c: members.get(c, ali, ww.SECRET)).card_number
    return {"sara": sara, "ali": ali, "draw": draw, "ali_card": card}


def key_of(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_entering_twice_with_one_form_enters_once_and_shortfalls_are_shown(db, world):
    clock = ww.Clock(NOW)
    b = browser_for(db, clock)
    b.sign_in("sara@example.com")
    page = b.get("/wallet/lottery/phone")
    assert page.status_code == 200 and world["draw"].commitment in page.text
    key = key_of(page.text)
    for _ in range(2):  # a double press
        done = b.post("/wallet/lottery/phone/enter", {"idempotency_key": key})
        assert done.status_code == 303
    assert len(db.read(store.entries_of, world["sara"], world["draw"].id)) == 1
    b.post("/wallet/lottery/phone/enter", {"idempotency_key": "k2"})
    short = b.post("/wallet/lottery/phone/enter", {"idempotency_key": "k3"})
    assert short.status_code == 400 and 'data-code="INSUFFICIENT_POINTS"' in short.text
    clock.advance(2 * HOUR)
    late = b.post("/wallet/lottery/phone/enter", {"idempotency_key": "k4"})
    assert late.status_code == 400 and 'data-code="DRAW_NOT_OPEN"' in late.text
    assert b.get("/wallet/lottery/nope").status_code == 404
    assert b.post("/wallet/lottery/phone/enter", {"idempotency_key": "k5"},
                  csrf="forged").status_code == 403
    assert db.read(summary, world["sara"], NOW).spendable == 50


def test_gifts_on_the_page_with_consent(db, world):
    clock = ww.Clock(NOW)
    sara = browser_for(db, clock, member_transfers=True, gift_consent=True)
    sara.sign_in("sara@example.com")
    page = sara.get("/wallet/gifts")
    refused = sara.post("/wallet/gifts", {"receiver": "7012 3456 7890 1232", "points": "10",
                                          "idempotency_key": key_of(page.text)})
    assert refused.status_code == 400 and 'data-code="RECEIVER_NOT_FOUND"' in refused.text
    sent = sara.post("/wallet/gifts", {"receiver": world["ali_card"], "points": "۱۲۰",
                                       "idempotency_key": key_of(refused.text)})
    assert sent.status_code == 303 and sent.headers["location"] == "/wallet/gifts?done=pending"
    assert db.read(summary, world["sara"], NOW).held == 120
    ali = browser_for(db, clock, member_transfers=True, gift_consent=True)
    ali.sign_in("ali@example.com")
    waiting = ali.get("/wallet/gifts")
    gift_id = re.search(r'action="/wallet/gifts/(\d+)/accept"', waiting.text).group(1)
    assert sara.post(f"/wallet/gifts/{gift_id}/accept").status_code == 400  # not hers
    assert ali.post(f"/wallet/gifts/{gift_id}/steal").status_code == 404
    accepted = ali.post(f"/wallet/gifts/{gift_id}/accept")
    assert accepted.headers["location"] == "/wallet/gifts?done=accepted"
    assert db.read(summary, world["ali"], NOW).spendable == 120


def test_gifts_page_says_when_the_network_does_not_allow_them(db, world):
    b = browser_for(db, ww.Clock(NOW))
    b.sign_in("sara@example.com")
    page = b.get("/wallet/gifts")
    assert "This network does not allow gifts between members." in page.text
    assert 'action="/wallet/gifts"' not in page.text
