"""An earn the programme added to explains itself to the member the way the partner's answer
does: the history read model, the `me` API and the wallet page, in English and Persian."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from network import parties
from network.clock import utcnow
from network.db.engine import Database
from network.programme import store
from network.programme.campaigns import (
    Campaign,
    Conditions,
    Multiplier,
    Trigger,
    split_funder,
)
from network.wallet import history
from partners.earning import AwardLine, award_points
from partners.registry import create_partner
from partners.terms import Terms
from tests.network import wallet_world as ww
from tests.network.test_wallet_graphql import Api
from tests.network.test_wallet_pages import make_browser, text_of

CAFE_TERMS = Terms(earn_points_per_unit=Decimal(10), pending_days=0, validity_months=24)


@pytest.fixture
def earned(db: Database) -> dict[str, Any]:
    """Sara earns 125 base points at the café, doubled by a café + network campaign (for
    purchases of 10 EUR or more), then 10 points the campaign does not touch."""
    now = utcnow()
    cafe = db.write(lambda c: create_partner(c, code="cafe", name="Corner Café", terms=CAFE_TERMS,
                                             now=now - dt.timedelta(days=1)).id)
    db.write(lambda c: parties.edit(c, "cafe", "partner", name_fa="کافه نبش"))
    network = db.read(parties.network_party_id)
    db.write(store.create, Campaign(
        id=0, code="double", name_en="Double points week", name_fa="هفته امتیاز دوبرابر",
        trigger=Trigger("purchase"), effect=Multiplier(Decimal(2)),
        funder=split_funder((cafe, 5000), (network, 5000)),
        starts_at=now - dt.timedelta(days=1),
        conditions=Conditions(min_amount_minor=1000)), owner_party_id=cafe)
    db.write(store.set_status, "double", "active")
    sara = ww.enrol(db, email="sara@example.com", name="Sara")
    receipt = award_points(db, partner_id=cafe, line=AwardLine(sara, 1250, "EUR"),
                           network_currency="EUR", scope=f"partner:{cafe}",
                           idempotency_key="k", now=now - dt.timedelta(hours=1))
    plain = award_points(db, partner_id=cafe, line=AwardLine(sara, 100, "EUR"),
                         network_currency="EUR", scope=f"partner:{cafe}",
                         idempotency_key="k2", now=now - dt.timedelta(minutes=30))
    return {"sara": sara, "cafe": cafe, "network": network, "entry": receipt.entry_id,
            "plain": plain.entry_id, "points": receipt.points}


def test_history_explains_the_earn_line_by_line(db, earned):
    entries = {e.id: e for e in db.read(history.page, earned["sara"]).entries}
    lines = entries[earned["entry"]].breakdown
    assert [(b.source, b.code, b.funder_code, b.points) for b in lines] == [
        ("base", None, "cafe", 125), ("campaign", "double", "cafe", 63),
        ("campaign", "double", "network", 62)]
    assert sum(b.points for b in lines) == entries[earned["entry"]].points == 250
    assert entries[earned["plain"]].breakdown == ()  # nothing added: no explanation needed


def test_me_explains_the_earn(db, earned, monkeypatch):
    from network.notifications import inline

    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    inline._drainers.clear()
    from starlette.testclient import TestClient

    from infra.app import create_app

    api = Api(db, TestClient(create_app(ww.settings(), db)))
    token = api.sign_in("sara@example.com")
    data = api.call("""{ me { history(first: 5) { edges { node { points breakdown {
        source code name nameFa funder { code kind } points } } } } } }""", token=token)
    nodes = [e["node"] for e in data["data"]["me"]["history"]["edges"]]
    assert nodes[0]["breakdown"] == []
    assert nodes[1]["breakdown"] == [
        {"source": "BASE", "code": None, "name": None, "nameFa": None,
         "funder": {"code": "cafe", "kind": "partner"}, "points": 125},
        {"source": "CAMPAIGN", "code": "double", "name": "Double points week",
         "nameFa": "هفته امتیاز دوبرابر", "funder": {"code": "cafe", "kind": "partner"},
         "points": 63},
        {"source": "CAMPAIGN", "code": "double", "name": "Double points week",
         "nameFa": "هفته امتیاز دوبرابر", "funder": {"code": "network", "kind": "network"},
         "points": 62}]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Base points · paid by Corner Café +125",
            "Double points week · paid by Corner Café +63",
            "Double points week · paid by Points Network +62"]),
    ("fa", ["امتیاز پایه – پرداخت از سوی کافه نبش +۱۲۵",
            "هفته امتیاز دوبرابر – پرداخت از سوی کافه نبش +۶۳",
            "هفته امتیاز دوبرابر – پرداخت از سوی Points Network +۶۲"]),
])
def test_the_wallet_page_shows_the_lines_in_both_languages(db, earned, language, expected):
    browser = make_browser(db, ww.Clock(utcnow()))
    browser.sign_in("sara@example.com")
    html = browser.get(f"/wallet/entries/{earned['entry']}",
                       headers={"Accept-Language": language}).text
    block = re.search(r'data-testid="entry-breakdown".*?</ul>', html, re.S).group(0)
    items = [" ".join(re.sub(r"<[^>]+>", " ", li).split())
             for li in re.findall(r"<li.*?</li>", block, re.S)]
    assert [item.replace("\u200e", "").replace("\u200f", "") for item in items] == expected
    assert text_of(html, "entry-points")
