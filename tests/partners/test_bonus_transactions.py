"""A partner's `transactions` list what it paid for as BONUS: its campaign's points on another
partner's earn and a fact bonus it funds; its points are the partner's part only. Over signed
HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from network import parties
from network.clock import utcnow
from network.programme import inbox, store
from network.programme.campaigns import Campaign, Conditions, FixedPoints, Trigger, sole_funder
from network.programme.facts import LifecycleEvent
from partners.earning import AwardLine, award_points
from tests.partners.conftest import Hub, operation

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _campaign(hub: Hub, code: str, trigger: Trigger, funder: int, **values) -> None:
    hub.db.write(store.create, Campaign(
        id=0, code=code, name_en=code, name_fa="کمپین " + code, trigger=trigger,
        funder=sole_funder(funder), starts_at=START, **values),
        owner_party_id=funder)
    hub.db.write(store.set_status, code, "active")


def _listed(hub: Hub, code: str, kinds: list[str] | None = None) -> list[tuple]:
    with hub.client(code) as client:
        data = client.execute(operation("Transactions"), {"first": 20, "kinds": kinds})
    return [(e["node"]["kind"], e["node"]["points"])
            for e in data["data"]["partner"]["transactions"]["edges"]]


def test_a_partner_sees_the_points_it_funded_as_bonus(any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    network = hub.db.read(parties.network_party_id)
    # The shop pays 40 points on every café purchase; the network pays a birthday bonus and
    # the shop one of its own on enrolment.
    _campaign(hub, "shop-at-cafe", Trigger("purchase"), shop, effect=FixedPoints(40),
              conditions=Conditions(partners=frozenset({cafe})))
    _campaign(hub, "shop-welcome", Trigger("lifecycle", "enrolled"), shop,
              effect=FixedPoints(15))
    _campaign(hub, "birthday", Trigger("lifecycle", "birthday"), network,
              effect=FixedPoints(200))
    ann = hub.enrol()
    now = utcnow()
    hub.db.write(lambda conn: inbox.record(conn, LifecycleEvent(
        kind="enrolled", member_id=ann.id, at=now), now=now))
    hub.db.write(lambda conn: inbox.record(conn, LifecycleEvent(
        kind="birthday", member_id=ann.id, at=now, attributes={"year": 2026}), now=now))
    award_points(hub.db, partner_id=cafe, line=AwardLine(ann.id, 1_000, "EUR"),
                 network_currency="EUR", scope=f"partner:{cafe}", idempotency_key="b-1",
                 now=utcnow())
    assert _listed(hub, "shop") == [("BONUS", 40), ("BONUS", 15)]
    assert _listed(hub, "shop", ["BONUS"]) == [("BONUS", 40), ("BONUS", 15)]
    assert _listed(hub, "shop", ["EARN"]) == []
    # The café sees its own earn (140 points, 40 of them the shop's), and no BONUS.
    assert _listed(hub, "cafe") == [("EARN", 140)]
