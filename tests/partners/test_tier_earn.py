"""Stored tiers through the earn seam and the daily recalculation, on SQLite and PostgreSQL: an
earn that reaches a tier upgrades in its own transaction, the tier's multiplier is a TIER effect
on the next earns, every change is history and a `tier_changed` fact a campaign can reward, and
the job downgrades once retention has ended, the same on a second run."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from network import parties
from network.clock import utcnow
from network.ledger.verify import verify
from network.programme import earn as programme_earn
from network.programme import store, tier_events, tiers_store
from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    FixedPoints,
    Trigger,
    sole_funder,
)
from network.programme.schema import member_events
from network.programme.tiers_schema import member_tiers, tier_changes
from partners.earning import AwardLine, award_points
from tests.partners.conftest import Hub

UTC = ZoneInfo("UTC")
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _award(hub: Hub, member_id: int, amount: int, key: str, now: dt.datetime | None = None):
    cafe = hub.partners["cafe"].party_id
    return award_points(hub.db, partner_id=cafe, line=AwardLine(member_id, amount, "EUR"),
                        network_currency="EUR", scope=f"partner:{cafe}", idempotency_key=key,
                        now=now or utcnow())


def _changes(hub: Hub, member_id: int) -> list[tuple[str, str, str]]:
    return [(c.from_tier, c.to_tier, c.reason)
            for c in reversed(hub.db.read(tiers_store.history, member_id))]


def _stored(hub: Hub, member_id: int):
    return hub.db.read(tiers_store.held, member_id)


def _raise_tier_facts(hub: Hub, now: dt.datetime | None = None) -> None:
    """What the worker's tier-facts job does every minute."""
    tier_events.raise_recent(hub.db, now or utcnow(), timezone="UTC")


def _tier_facts(hub: Hub, member_id: int, now: dt.datetime | None = None) -> list[dict]:
    _raise_tier_facts(hub, now)
    e = member_events.c
    return [dict(r.attributes) for r in hub.db.read(lambda c: c.execute(
        select(e.attributes).where(e.member_id == member_id, e.type == "tier_changed")
        .order_by(e.id)).all())]


def test_an_earn_that_reaches_silver_upgrades_at_once_and_the_next_earn_is_multiplied(
        any_hub: Hub) -> None:
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    ann = hub.enrol()
    first = _award(hub, ann.id, 15_000, "t-1")  # 1,500 points: still blue
    assert first.points == 1_500 and _stored(hub, ann.id) is None
    crossing = _award(hub, ann.id, 6_000, "t-2")  # 2,100: silver, from this earn on
    assert crossing.points == 600 and crossing.breakdown == ()  # earned at blue
    held = _stored(hub, ann.id)
    assert held is not None and held.code == "silver"
    assert held.until == utcnow().date() + dt.timedelta(days=90)
    assert _changes(hub, ann.id) == [("blue", "silver", "earn")]
    assert _tier_facts(hub, ann.id) == [{"from": "blue", "to": "silver", "direction": "up"}]
    nxt = _award(hub, ann.id, 1_000, "t-3")  # 100 base, x1.25 at silver
    assert nxt.points == 125
    assert [(b["source"], b["code"], b["funder_id"], b["points"]) for b in nxt.breakdown] == [
        ("base", None, cafe, 100), ("tier", "silver", cafe, 25)]
    # A replay of the crossing earn answers the same and changes nothing more.
    assert _award(hub, ann.id, 6_000, "t-2").entry_id == crossing.entry_id
    assert _changes(hub, ann.id) == [("blue", "silver", "earn")]
    assert verify(hub.db) == []


def test_a_common_earn_writes_no_tier(any_hub: Hub) -> None:
    hub = any_hub
    bob = hub.enrol()
    _award(hub, bob.id, 1_000, "c-1")
    count = hub.db.read(lambda c: c.execute(select(func.count()).select_from(member_tiers))
                        .scalar_one())
    assert count == 0 and _changes(hub, bob.id) == []


def test_the_tier_bonus_may_be_funded_by_the_network(any_hub: Hub, monkeypatch) -> None:
    from network.config import get_settings

    hub = any_hub
    network = hub.db.read(parties.network_party_id)
    monkeypatch.setenv("POINTSNET_TIER_FUNDER", "network")
    get_settings.cache_clear()
    programme_earn.forget()
    try:
        ann = hub.enrol()
        _award(hub, ann.id, 100_000, "n-1")  # 10,000 points: gold at once
        assert _stored(hub, ann.id).code == "gold"
        receipt = _award(hub, ann.id, 1_000, "n-2")
        assert [(b["source"], b["funder_id"], b["points"]) for b in receipt.breakdown] == [
            ("base", hub.partners["cafe"].party_id, 100), ("tier", network, 50)]
    finally:
        monkeypatch.delenv("POINTSNET_TIER_FUNDER")
        get_settings.cache_clear()
        programme_earn.forget()
    assert verify(hub.db) == []


def test_reaching_gold_wakes_a_welcome_campaign(any_hub: Hub) -> None:
    hub = any_hub
    network = hub.db.read(parties.network_party_id)
    hub.db.write(store.create, Campaign(
        id=0, code="welcome-gold", name_en="Welcome to gold", name_fa="به طلایی خوش آمدید",
        trigger=Trigger("lifecycle", "tier_changed"), effect=FixedPoints(100),
        funder=sole_funder(network), starts_at=START,
        conditions=_to("gold")), owner_party_id=network)
    hub.db.write(store.set_status, "welcome-gold", "active")
    ann = hub.enrol()
    _award(hub, ann.id, 25_000, "g-1")  # silver: no welcome
    before = hub.db.read(lambda c: _balance(c, ann.id))
    _award(hub, ann.id, 80_000, "g-2")  # 10,500 earned: gold, welcome 100 (a minute later)
    assert _changes(hub, ann.id) == [("blue", "silver", "earn"), ("silver", "gold", "earn")]
    _raise_tier_facts(hub)
    _raise_tier_facts(hub)  # the next run: each change is raised (and welcomed) once
    # 8,000 base + silver's 0.25 x 8,000 (earned at silver) + the welcome's 100
    assert hub.db.read(lambda c: _balance(c, ann.id)) - before == 8_000 + 2_000 + 100
    assert verify(hub.db) == []


def _to(code: str):
    from network.programme.campaigns import Conditions

    return Conditions(attributes=(AttributeCondition("to", one_of=frozenset({code})),))


def _balance(conn, member_id: int) -> int:
    from network.db.schema import member_balances as balances

    return int(conn.execute(select(balances.c.balance).where(
        balances.c.member_id == member_id)).scalar_one())


def test_the_job_keeps_a_tier_through_retention_then_downgrades_once(any_hub: Hub) -> None:
    hub = any_hub
    ann, bob = hub.enrol(), hub.enrol()
    from network.ledger import award_bonus

    t0 = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
    award_bonus(hub.db, scope="test", idempotency_key="r-1", member_id=ann.id, points=2_500,
                reason="goodwill", now=t0)
    assert tiers_store.recalc_all(hub.db, t0, zone=UTC).upgraded == [ann.id]  # silver from t0
    day = dt.timedelta(days=1)
    run = tiers_store.recalc_all(hub.db, t0 + 300 * day, zone=UTC)  # still qualifying
    assert (run.upgraded, run.downgraded) == ([], [])
    assert _stored(hub, ann.id).until == (t0 + 390 * day).date()
    run = tiers_store.recalc_all(hub.db, t0 + 370 * day, zone=UTC)  # below, kept
    assert _stored(hub, ann.id).code == "silver" and run.downgraded == []
    # What a partner's member look-up shows: the kept tier, not what the points reach.
    from network.programme import tier_facts

    looked_up = hub.db.read(tier_facts.status, ann.id, t0 + 370 * day)
    assert (looked_up.name, looked_up.earned) == ("silver", 0)
    run = tiers_store.recalc_all(hub.db, t0 + 391 * day, zone=UTC)  # retention over
    assert run.downgraded == [ann.id]
    again = tiers_store.recalc_all(hub.db, t0 + 391 * day + dt.timedelta(hours=3), zone=UTC)
    assert (again.upgraded, again.downgraded) == ([], [])
    assert _changes(hub, ann.id) == [("blue", "silver", "recalc"), ("silver", "blue", "recalc")]
    job_ran = t0 + 391 * day + dt.timedelta(hours=4)
    assert _tier_facts(hub, ann.id, job_ran)[-1] == {"from": "silver", "to": "blue",
                                                     "direction": "down"}
    assert _stored(hub, ann.id).until is None
    assert _changes(hub, bob.id) == []


def test_the_job_upgrades_members_no_earn_upgraded(any_hub: Hub) -> None:
    """Points that came another way than a partner's earn (a network bonus) count too."""
    from network.ledger import award_bonus

    hub = any_hub
    ann = hub.enrol()
    award_bonus(hub.db, scope="test", idempotency_key="b-1", member_id=ann.id, points=12_000,
                reason="goodwill")
    assert _stored(hub, ann.id) is None
    run = tiers_store.recalc_all(hub.db, utcnow(), zone=UTC)
    assert run.upgraded == [ann.id] and _stored(hub, ann.id).code == "gold"
    assert tiers_store.recalc_all(hub.db, utcnow(), zone=UTC).upgraded == []
    assert _changes(hub, ann.id) == [("blue", "gold", "recalc")]


def test_concurrent_crossing_earns_upgrade_once(hub: Hub) -> None:
    """PostgreSQL: eight earns that each take the member past silver at once, in threads; the
    member's balance lock orders them, and exactly one writes the change."""
    ann = hub.enrol()
    _award(hub, ann.id, 19_000, "p-0")
    errors: list[BaseException] = []

    def earn(i: int) -> None:
        try:
            _award(hub, ann.id, 2_000, f"p-{i + 1}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=earn, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _changes(hub, ann.id) == [("blue", "silver", "earn")]
    count = hub.db.read(lambda c: c.execute(select(func.count()).select_from(tier_changes))
                        .scalar_one())
    assert count == 1 and verify(hub.db) == []


def test_a_batch_line_that_reaches_a_tier_upgrades_in_the_batchs_transaction(
        any_hub: Hub) -> None:
    from partners.earning import award_batch

    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    ann, bob = hub.enrol(), hub.enrol()
    results = award_batch(hub.db, partner_id=cafe, lines=[
        AwardLine(ann.id, 25_000, "EUR"), AwardLine(bob.id, 1_000, "EUR")],
        network_currency="EUR", scope=f"partner:{cafe}", idempotency_key="batch-1",
        now=utcnow())
    assert len(results) == 2
    assert _changes(hub, ann.id) == [("blue", "silver", "earn")]
    assert _changes(hub, bob.id) == [] and _stored(hub, bob.id) is None
    assert verify(hub.db) == []
