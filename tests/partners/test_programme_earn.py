"""The earn books the programme: campaign and tier points on top of the contract's, each
funder's points a lot of its own, budgets and member limits exact, reversals taking campaign
points back with the earn. Through partners.earning (the seam the API calls), on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from network import parties
from network.clock import utcnow
from network.db.schema import lots, postings
from network.ledger import reverse_earn
from network.ledger.verify import verify
from network.programme import budgets, store
from network.programme.campaigns import (
    Campaign,
    Conditions,
    FixedPoints,
    Limits,
    Multiplier,
    Trigger,
    sole_funder,
    split_funder,
)
from network.programme.campaigns_schema import campaign_awards
from partners.earning import AwardLine, award_batch, award_points
from tests.partners.conftest import Hub

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _campaign(hub: Hub, code: str, **values) -> Campaign:
    network = hub.db.read(parties.network_party_id)
    fields = {"id": 0, "code": code, "name_en": code.title(), "name_fa": "کمپین " + code,
              "trigger": Trigger("purchase"), "effect": FixedPoints(10),
              "funder": sole_funder(network), "starts_at": START} | values
    hub.db.write(store.create, Campaign(**fields),
                         owner_party_id=hub.partners["cafe"].party_id)
    return hub.db.write(store.set_status, code, "active").campaign


def _award(hub: Hub, member_id: int, amount: int, key: str, partner: str = "cafe",
           now: dt.datetime | None = None, **line):
    p = hub.partners[partner]
    return award_points(hub.db, partner_id=p.party_id,
                        line=AwardLine(member_id, amount, "EUR", **line),
                        network_currency="EUR", scope=f"partner:{p.party_id}",
                        idempotency_key=key, now=now or utcnow())


def _lots(hub: Hub, entry_id: int) -> dict[int, int]:
    rows = hub.db.read(lambda c: c.execute(select(lots.c.issuer_party_id, lots.c.points)
                                           .where(lots.c.entry_id == entry_id)).all())
    return dict(rows)


def _issuance(hub: Hub, entry_id: int) -> dict[int, int]:
    rows = hub.db.read(lambda c: c.execute(
        select(postings.c.party_id, postings.c.points)
        .where(postings.c.entry_id == entry_id, postings.c.account_kind == "issuance")).all())
    return dict(rows)


def _awards(hub: Hub, entry_id: int) -> list[tuple]:
    ca = campaign_awards.c
    return [tuple(r) for r in hub.db.read(lambda c: c.execute(
        select(ca.campaign_id, ca.tier_code, ca.funder_party_id, ca.points)
        .where(ca.entry_id == entry_id).order_by(ca.id)).all())]


def test_campaign_points_are_each_funders_own_lot(any_hub: Hub) -> None:
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    network = hub.db.read(parties.network_party_id)
    bonus = _campaign(hub, "welcome", effect=FixedPoints(40), priority=5,
                      conditions=Conditions(min_amount_minor=1000))
    double = _campaign(hub, "double", effect=Multiplier(Decimal(2)),
                       funder=split_funder((cafe, 5000), (network, 5000)),
                       conditions=Conditions(partners=frozenset({cafe})))
    ann = hub.enrol()
    receipt = _award(hub, ann.id, 1250, "k1")  # 125 base at 10 per euro
    assert receipt.points == 125 + 40 + 125
    assert receipt.breakdown == (
        {"source": "base", "code": None, "campaign_id": None, "funder_id": cafe, "points": 125},
        {"source": "campaign", "code": "welcome", "campaign_id": bonus.id, "funder_id": network,
         "points": 40},
        {"source": "campaign", "code": "double", "campaign_id": double.id, "funder_id": cafe,
         "points": 63},
        {"source": "campaign", "code": "double", "campaign_id": double.id,
         "funder_id": network, "points": 62})
    assert _lots(hub, receipt.entry_id) == {cafe: 125 + 63, network: 40 + 62}
    assert _issuance(hub, receipt.entry_id) == {cafe: -188, network: -102}
    assert _awards(hub, receipt.entry_id) == [(bonus.id, None, network, 40),
                                              (double.id, None, cafe, 63),
                                              (double.id, None, network, 62)]
    assert receipt.balance == 290
    # A replay answers the first receipt, breakdown included, and books nothing.
    assert _award(hub, ann.id, 1250, "k1") == receipt
    # Below the welcome's minimum amount, only the double applies; at the shop, nothing.
    small = _award(hub, ann.id, 500, "k2")
    assert (small.points, [line["code"] for line in small.breakdown]) == (
        100, [None, "double", "double"])
    plain = _award(hub, ann.id, 600, "k3", partner="shop")  # welcome: 10 EUR and more
    assert (plain.points, plain.breakdown) == (9, ())
    assert verify(hub.db) == []


def test_a_budget_caps_the_last_award_and_then_stops(any_hub: Hub) -> None:
    hub = any_hub
    campaign = _campaign(hub, "limited", effect=FixedPoints(50), limits=Limits(budget_points=120))
    ann = hub.enrol()
    got = [_award(hub, ann.id, 100, f"b{i}").points - 10 for i in range(4)]
    assert got == [50, 50, 20, 0]
    assert hub.db.read(store.get, "limited").spent_points == 120
    assert sum(p for *_, p in _awards_of(hub, campaign.id)) == 120
    assert verify(hub.db) == []


def _awards_of(hub: Hub, campaign_id: int) -> list[tuple]:
    ca = campaign_awards.c
    return [tuple(r) for r in hub.db.read(lambda c: c.execute(
        select(ca.entry_id, ca.points).where(ca.campaign_id == campaign_id)).all())]


def test_member_limits_count_awards_in_the_local_day(any_hub: Hub) -> None:
    hub = any_hub
    _campaign(hub, "daily", effect=FixedPoints(7), limits=Limits(per_member_day=1))
    ann, bob = hub.enrol(), hub.enrol()
    day = (utcnow() + dt.timedelta(days=2)).replace(hour=9)  # after the contracts begin
    assert _award(hub, ann.id, 100, "d1", now=day).points == 17
    assert _award(hub, ann.id, 100, "d2", now=day + dt.timedelta(hours=2)).points == 10
    assert _award(hub, bob.id, 100, "d3", now=day).points == 17
    assert _award(hub, ann.id, 100, "d4", now=day + dt.timedelta(days=1)).points == 17


def test_reversing_an_earn_takes_campaign_points_back_and_returns_budget(any_hub: Hub) -> None:
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    network = hub.db.read(parties.network_party_id)
    _campaign(hub, "co", effect=FixedPoints(100), limits=Limits(budget_points=1000),
              funder=split_funder((cafe, 5000), (network, 5000)))
    ann = hub.enrol()
    earned = _award(hub, ann.id, 1000, "r1")  # 100 base + 50 + 50
    assert earned.points == 200
    scope = f"partner:{cafe}"
    part = reverse_earn(hub.db, scope=scope, idempotency_key="rev1", partner_id=cafe,
                        entry_id=earned.entry_id, points=50)
    assert _issuance(hub, part.entry_id) == {cafe: 38, network: 12}  # 150:50 of what is left
    rest = reverse_earn(hub.db, scope=scope, idempotency_key="rev2", partner_id=cafe,
                        entry_id=earned.entry_id)
    assert rest.points == 150 and rest.balance == 0
    assert _issuance(hub, rest.entry_id) == {cafe: 112, network: 38}
    stored = hub.db.read(store.get, "co")
    assert stored.spent_points == 0
    assert sum(p for *_, p in _awards_of(hub, stored.campaign.id)) == 0
    assert verify(hub.db) == []


def test_a_batch_books_the_programme_like_single_earns(any_hub: Hub) -> None:
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    campaign = _campaign(hub, "b", effect=FixedPoints(5), limits=Limits(budget_points=12),
                         conditions=Conditions(channels=frozenset({"online"})))
    ann, bob = hub.enrol(), hub.enrol()
    results = award_batch(hub.db, partner_id=cafe, lines=[
        AwardLine(ann.id, 100, "EUR", channel="online"), AwardLine(bob.id, 100, "EUR"),
        AwardLine(ann.id, 100, "EUR", channel="online"),
        AwardLine(bob.id, 100, "EUR", channel="online")],
        network_currency="EUR", scope=f"partner:{cafe}", idempotency_key="batch",
        now=utcnow())
    receipts = [r.receipt for r in results]
    assert [(r.member_id, r.points, r.balance) for r in receipts] == [
        (ann.id, 15, 15), (bob.id, 10, 10), (ann.id, 15, 30), (bob.id, 12, 22)]
    assert receipts[1].breakdown == ()
    assert receipts[3].breakdown[1]["points"] == 2  # what the budget had left
    assert hub.db.read(store.get, "b").spent_points == 12
    assert len(_awards_of(hub, campaign.id)) == 3
    assert verify(hub.db) == []


def test_a_tier_multiplier_is_booked_as_a_tier_part(any_hub: Hub) -> None:
    """Tiers multiply nothing yet (every multiplier is 1); a programme whose gold tier earns
    x1.25 books the extra quarter as a TIER part funded by the earning partner."""
    import dataclasses
    from zoneinfo import ZoneInfo

    from network.ledger.earning import earn_planned
    from network.programme import earn as programme_earn
    from network.programme.facts import MemberState
    from network.programme.rules import Programme
    from network.programme.tiers import DEFINITIONS
    from partners.earning import contract_plan
    from tests.partners.conftest import CAFE_TERMS

    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    tiers = tuple(dataclasses.replace(t, earn_multiplier=Decimal("1.25")) if t.code == "gold"
                  else t for t in DEFINITIONS)
    programme = Programme(zone=ZoneInfo("UTC"), network_party_id=hub.db.read(
        parties.network_party_id), tiers=tiers)
    ann = hub.enrol()
    now = utcnow()
    prepared = programme_earn.Prepared(cafe, hub.db.read(store.load_index), (), programme,
                                       {ann.id: MemberState(ann.id, "gold")}, {}, frozenset())
    plan = programme_earn.with_programme(
        contract_plan(CAFE_TERMS, network_currency="EUR", at=now), prepared, now)
    receipt = earn_planned(hub.db, scope=f"partner:{cafe}", idempotency_key="tier-1",
                           issuer_id=cafe, line=AwardLine(ann.id, 1000, "EUR"), plan=plan,
                           now=now)
    assert receipt.points == 125
    assert [(b["source"], b["code"], b["funder_id"], b["points"]) for b in receipt.breakdown] == [
        ("base", None, cafe, 100), ("tier", "gold", cafe, 25)]
    assert _awards(hub, receipt.entry_id) == [(None, "gold", cafe, 25)]
    assert _lots(hub, receipt.entry_id) == {cafe: 125}
    assert verify(hub.db) == []


def test_an_earn_that_loses_the_budget_race_is_booked_again_capped(hub: Hub, monkeypatch) -> None:
    """The budget is read without a lock and taken at the booking's end; when another earn
    spends it in between (forced here, between the read and the take), the conditional UPDATE
    refuses, the transaction runs again with the budget row locked first, and the earn gets
    what is left: never more than the budget."""
    from network.programme import earn as programme_earn

    campaign = _campaign(hub, "tight", effect=FixedPoints(80), limits=Limits(budget_points=100))
    ann, bob = hub.enrol(), hub.enrol()
    real = programme_earn._budgets_left
    seen: list[bool] = []

    def racing(conn, campaigns, *, lock):  # type: ignore[no-untyped-def]
        left = real(conn, campaigns, lock=lock)
        if not seen:  # another earn takes 90 of the 100 after this read, before the take
            assert hub.db.write(budgets.take, campaign.id, 90)
        seen.append(lock)
        return left

    monkeypatch.setattr(programme_earn, "_budgets_left", racing)
    # The general way's race (the one statement takes the budget in itself:
    # test_programme_statement.py)
    import dataclasses
    monkeypatch.setattr(hub.db, "earn_store",
                        dataclasses.replace(hub.db.earn_store, statement=None))
    receipt = _award(hub, ann.id, 100, "race-1")
    assert seen == [False, True]  # optimistic first, then locked
    assert receipt.points == 10 + 10 and receipt.breakdown[1]["points"] == 10
    assert hub.db.read(store.get, "tight").spent_points == 100
    assert _award(hub, bob.id, 100, "race-2").points == 10  # nothing left
    assert verify(hub.db) == []


def test_earns_stay_the_one_statement(hub: Hub, monkeypatch) -> None:
    """On PostgreSQL an earn at a partner no campaign can apply to is booked by the one
    statement (pg_writer.earn_statement), and so is an earn a campaign adds to (its parts
    chosen by the member's tier inside the statement); only one the statement hands over
    (test_programme_statement.py) takes the writer's `book`."""
    import dataclasses

    cafe = hub.partners["cafe"].party_id
    _campaign(hub, "cafe-only", conditions=Conditions(partners=frozenset({cafe})))
    statements: list[int] = []
    real = hub.db.earn_store.statement

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        receipt = real(*args, **kwargs)
        statements.append((kwargs["member_id"], receipt is not None))
        return receipt

    monkeypatch.setattr(hub.db, "earn_store",
                        dataclasses.replace(hub.db.earn_store, statement=spy))
    ann = hub.enrol()
    assert _award(hub, ann.id, 1000, "shop-1", partner="shop").breakdown == ()
    assert statements == [(ann.id, True)]
    assert _award(hub, ann.id, 1000, "cafe-1").points == 100 + 10
    assert statements == [(ann.id, True), (ann.id, True)]


def test_a_segment_campaign_gives_only_to_the_segments_members(any_hub: Hub) -> None:
    from network.programme import segments_store

    hub = any_hub
    vip, other = hub.enrol(), hub.enrol()
    hub.db.write(segments_store.create, code="vip", name_en="VIP", name_fa="ویژه", rule=None,
                 now=utcnow())
    hub.db.write(segments_store.import_static, "vip", vip.card_number + "\n", utcnow())
    _campaign(hub, "vip-bonus", effect=FixedPoints(30),
              conditions=Conditions(segments=frozenset({"vip"})))
    assert [line["code"] for line in _award(hub, vip.id, 1000, "v1").breakdown] == [
        None, "vip-bonus"]
    assert _award(hub, other.id, 1000, "o1").breakdown == ()
    assert verify(hub.db) == []
