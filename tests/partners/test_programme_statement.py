"""The programme in the one-statement earn on PostgreSQL (pg_writer `_programme`): an earn
with tier and campaign points writes exactly what the general way (`EarnWriter.book`, the
programme's parts claimed under the member's lock) writes for the same earn by a twin member,
and hands over to the general way when the member crosses a tier, a budget is short or a
campaign with member limits applies. Batch lines of one member add up toward a tier."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from network import parties
from network.clock import utcnow
from network.db.schema import lots, postings
from network.ledger.receipts import Receipt
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
    tiers_from,
)
from network.programme.campaigns_schema import campaign_awards
from network.programme.tiers import DEFINITIONS
from network.programme.tiers_schema import tier_changes
from partners.earning import AwardLine, award_batch, award_points
from tests.partners.conftest import Hub

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _campaign(hub: Hub, code: str, **values) -> Campaign:
    network = hub.db.read(parties.network_party_id)
    fields = {"id": 0, "code": code, "name_en": code.title(), "name_fa": "کمپین " + code,
              "trigger": Trigger("purchase"), "effect": FixedPoints(10),
              "funder": sole_funder(network), "starts_at": START} | values
    hub.db.write(store.create, Campaign(**fields), owner_party_id=hub.partners["cafe"].party_id)
    return hub.db.write(store.set_status, code, "active").campaign


def _award(hub: Hub, member_id: int, amount: int, key: str) -> Receipt:
    cafe = hub.partners["cafe"].party_id
    return award_points(hub.db, partner_id=cafe, line=AwardLine(member_id, amount, "EUR"),
                        network_currency="EUR", scope=f"partner:{cafe}", idempotency_key=key,
                        now=utcnow())


@pytest.fixture
def ways(hub: Hub, monkeypatch):  # type: ignore[no-untyped-def]
    """`earn(member, amount, key, general=False)` and the list of the statement's outcomes
    (True: it booked the earn, False: it handed it over), for earns with programme parts."""
    real = hub.db.earn_store.statement
    outcomes: list[bool] = []

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        receipt = real(*args, **kwargs)
        if kwargs.get("tiered") is not None:
            outcomes.append(receipt is not None)
        return receipt

    statement_way = dataclasses.replace(hub.db.earn_store, statement=spy)
    general_way = dataclasses.replace(hub.db.earn_store, statement=None)

    def earn(member_id: int, amount: int, key: str, *, general: bool = False) -> Receipt:
        monkeypatch.setattr(hub.db, "earn_store", general_way if general else statement_way)
        return _award(hub, member_id, amount, key)

    return earn, outcomes


def _written(hub: Hub, receipt: Receipt) -> dict[str, object]:
    """Everything the earn wrote, without its ids and member."""
    entry = receipt.entry_id
    p, lo, ca = postings.c, lots.c, campaign_awards.c

    def read(conn):  # type: ignore[no-untyped-def]
        return {
            "postings": sorted(tuple(r) for r in conn.execute(
                select(p.account_kind, p.party_id, p.points).where(p.entry_id == entry))),
            "lots": [tuple(r) for r in conn.execute(
                select(lo.issuer_party_id, lo.points, lo.remaining).where(lo.entry_id == entry)
                .order_by(lo.id))],
            "awards": sorted((tuple(r) for r in conn.execute(
                select(ca.campaign_id, ca.tier_code, ca.funder_party_id, ca.points)
                .where(ca.entry_id == entry))), key=str),
            "first_lot": conn.execute(select(lo.issuer_party_id)
                                      .where(lo.id == receipt.lot_id)).scalar_one(),
        }

    return {"points": receipt.points, "balance": receipt.balance, "debt": receipt.debt,
            "breakdown": receipt.breakdown, **hub.db.read(read)}


def _earned(hub: Hub, member_id: int, points: int) -> None:
    """Window points for the member without the programme (a network bonus)."""
    from network.ledger.earning import award_bonus
    award_bonus(hub.db, scope="system", idempotency_key=f"seed-{member_id}", member_id=member_id,
                points=points, reason="seed")


def test_a_tiered_member_and_a_budgeted_campaign_book_the_same_both_ways(hub: Hub, ways) -> None:
    earn, outcomes = ways
    cafe = hub.partners["cafe"].party_id
    network = hub.db.read(parties.network_party_id)
    _campaign(hub, "half", effect=Multiplier(Decimal("1.5")),
                         funder=split_funder((cafe, 5000), (network, 5000)),
                         limits=Limits(budget_points=10_000))
    gold_only = _campaign(hub, "gold-double", effect=Multiplier(Decimal(2)),
                          funder=sole_funder(cafe),
                          conditions=Conditions(tiers=tiers_from(DEFINITIONS, "gold")))
    for silver in (False, True):
        ann, bob = hub.enrol(), hub.enrol()
        if silver:  # 3,000 in the window; their first earn stores silver (the general way)
            _earned(hub, ann.id, 3_000)
            _earned(hub, bob.id, 3_000)
            earn(ann.id, 100, "upgrade-a")
            earn(bob.id, 100, "upgrade-b", general=True)
        spent = hub.db.read(store.get, "half").spent_points
        by_statement = earn(ann.id, 1234, f"s-{silver}")
        assert hub.db.read(store.get, "half").spent_points == spent + 62
        by_general = earn(bob.id, 1234, f"g-{silver}", general=True)
        assert hub.db.read(store.get, "half").spent_points == spent + 124
        assert _written(hub, by_statement) == _written(hub, by_general)
        parts = [(b["source"], b["code"], b["points"]) for b in by_statement.breakdown]
        tier = [("tier", "silver", 31)] if silver else []
        assert parts == [("base", None, 123), *tier, ("campaign", "half", 31),
                         ("campaign", "half", 31)]
    assert outcomes == [True, False, True]
    assert gold_only.id not in {a[0] for a in hub.db.read(lambda c: c.execute(
        select(campaign_awards.c.campaign_id)).all())}
    assert verify(hub.db) == []


def test_a_short_budget_hands_the_earn_over_and_it_is_capped(hub: Hub, ways) -> None:
    earn, outcomes = ways
    campaign = _campaign(hub, "tight", effect=FixedPoints(80), limits=Limits(budget_points=100))
    ann, bob = hub.enrol(), hub.enrol()
    assert hub.db.write(budgets.take, campaign.id, 90)  # spent since the index was built
    receipt = earn(ann.id, 100, "short-1")
    assert outcomes == [False]  # the statement rolled back whole
    assert receipt.points == 10 + 10 and receipt.breakdown[1]["points"] == 10
    assert hub.db.read(store.get, "tight").spent_points == 100
    assert earn(bob.id, 100, "short-2").points == 10
    assert hub.db.read(store.get, "tight").spent_points == 100
    assert verify(hub.db) == []


def test_crossing_a_tier_goes_the_general_way_and_upgrades(hub: Hub, ways) -> None:
    earn, outcomes = ways
    _campaign(hub, "ten")
    ann = hub.enrol()
    _earned(hub, ann.id, 1_950)
    receipt = earn(ann.id, 1000, "cross-1")  # 100 + 10: 2,060 in the window, silver
    assert outcomes == [False]
    assert receipt.points == 110 and [b["source"] for b in receipt.breakdown] == [
        "base", "campaign"]
    changes = hub.db.read(lambda c: c.execute(
        select(tier_changes.c.from_tier, tier_changes.c.to_tier)
        .where(tier_changes.c.member_id == ann.id)).all())
    assert [tuple(r) for r in changes] == [("blue", "silver")]
    again = earn(ann.id, 1000, "cross-2")  # silver now: x1.25 in the statement
    assert outcomes == [False, True]
    assert again.points == 100 + 25 + 10
    assert verify(hub.db) == []


def test_tiers_alone_book_in_the_statement_without_usage_or_budgets(hub: Hub, ways,
                                                                    monkeypatch) -> None:
    """Tiers on and no campaign at the partner: the statement counts no usage and takes no
    budget (shape (False, False)), and writes what the general way writes, for a blue member
    (base only) and a silver one (the tier's x1.25); a campaign with a budget and one with
    member limits bring those parts back."""
    from network.ledger import pg_writer

    shapes: list[tuple[bool, bool]] = []
    real = pg_writer._programme_shape
    monkeypatch.setattr(pg_writer, "_programme_shape",
                        lambda tiered: shapes.append(real(tiered)) or real(tiered))
    earn, outcomes = ways
    for silver in (False, True):
        ann, bob = hub.enrol(), hub.enrol()
        if silver:
            _earned(hub, ann.id, 3_000)
            _earned(hub, bob.id, 3_000)
            earn(ann.id, 100, f"up-a-{silver}", general=True)
            earn(bob.id, 100, f"up-b-{silver}", general=True)
        by_statement = earn(ann.id, 1000, f"s-{silver}")
        by_general = earn(bob.id, 1000, f"g-{silver}", general=True)
        assert by_statement.points == by_general.points == (125 if silver else 100)
        assert _written(hub, by_statement) == _written(hub, by_general)
    assert shapes == [(False, False), (False, False)] and outcomes == [True, True]
    _campaign(hub, "budgeted", limits=Limits(budget_points=1_000))
    earn(hub.enrol().id, 1000, "budgeted")
    _campaign(hub, "daily", limits=Limits(per_member_day=1))
    earn(hub.enrol().id, 1000, "daily")
    assert shapes[2:] == [(False, True), (True, True)] and outcomes[2:] == [True, True]
    assert verify(hub.db) == []


def test_a_campaign_with_member_limits_counts_in_the_statement(hub: Hub, ways) -> None:
    """The statement books the day's first award, and the second earn, over the limit, too:
    with the plan for the limit reached (the campaign skipped), writing what the general way
    (usage counted under the lock) writes for a twin at their limit. A reversed earn no longer
    counts."""
    from network.ledger import reverse_earn

    earn, outcomes = ways
    _campaign(hub, "daily", limits=Limits(per_member_day=1))
    ann, bob = hub.enrol(), hub.enrol()
    first = earn(ann.id, 1000, "lim-1")
    assert first.points == 110
    earn(bob.id, 1000, "lim-1b", general=True)
    second = earn(ann.id, 1000, "lim-2")
    assert second.points == 100
    assert _written(hub, second) == _written(hub, earn(bob.id, 1000, "lim-2b", general=True))
    assert outcomes == [True, True]
    cafe = hub.partners["cafe"].party_id
    reverse_earn(hub.db, scope=f"partner:{cafe}", idempotency_key="undo-1",
                 entry_id=first.entry_id, partner_id=cafe)
    assert earn(ann.id, 1000, "lim-3").points == 110
    assert outcomes == [True, True, True]
    assert verify(hub.db) == []


def test_an_exclusive_campaign_at_its_limit_lets_the_others_in_within_the_statement(
        hub: Hub, ways) -> None:
    """An exclusive daily bonus excludes the stackable campaign on the day's first earn; at
    its limit the stackable one applies: the statement books the plan for the limit reached,
    the same as the general way."""
    earn, outcomes = ways
    _campaign(hub, "daily-top", effect=FixedPoints(50), stacking="exclusive",
              limits=Limits(per_member_day=1))
    _campaign(hub, "always")
    ann, bob = hub.enrol(), hub.enrol()
    assert earn(ann.id, 1000, "ex-1").points == 150
    earn(bob.id, 1000, "ex-1b", general=True)
    second = earn(ann.id, 1000, "ex-2")
    assert second.points == 110 and [b["code"] for b in second.breakdown] == [None, "always"]
    assert _written(hub, second) == _written(hub, earn(bob.id, 1000, "ex-2b", general=True))
    assert outcomes == [True, True]
    assert verify(hub.db) == []


def test_two_limited_campaigns_at_their_limits_hand_the_earn_over(hub: Hub, ways) -> None:
    """With two campaigns with member limits in the plans, the statement has no plan for a
    limit reached: it books the day's first earn and hands the second over, and the general way
    skips both campaigns."""
    earn, outcomes = ways
    _campaign(hub, "daily", limits=Limits(per_member_day=1))
    _campaign(hub, "weekly", effect=FixedPoints(5), limits=Limits(per_member_week=1))
    ann = hub.enrol()
    assert earn(ann.id, 1000, "two-1").points == 115
    assert earn(ann.id, 1000, "two-2").points == 100
    assert outcomes == [True, False]
    assert verify(hub.db) == []


def test_a_batchs_lines_of_one_member_add_up_to_a_tier(any_hub: Hub) -> None:
    """Three lines of 1,000 points for a member at 500: the second line crosses silver
    (2,500), so it upgrades the member and the third earns silver's x1.25."""
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    ann = hub.enrol()
    _earned(hub, ann.id, 500)
    lines = [AwardLine(ann.id, 10_000, "EUR", reference=f"r{i}") for i in range(3)]
    results = award_batch(hub.db, partner_id=cafe, lines=list(lines), network_currency="EUR",
                          scope=f"partner:{cafe}", idempotency_key="batch-tier", now=utcnow())
    assert [r.receipt.points for r in results] == [1000, 1000, 1250]
    changes = hub.db.read(lambda c: c.execute(
        select(tier_changes.c.to_tier).where(tier_changes.c.member_id == ann.id)).all())
    assert [r[0] for r in changes] == ["silver"]
    ca = campaign_awards.c  # the tier's part noted against its entry, by the batch's writes
    noted = hub.db.read(lambda c: c.execute(
        select(ca.entry_id, ca.campaign_id, ca.tier_code, ca.member_id, ca.funder_party_id,
               ca.points)).all())
    assert [tuple(r) for r in noted] == [
        (results[2].receipt.entry_id, None, "silver", ann.id, cafe, 250)]
    assert verify(hub.db) == []


def test_a_batchs_programme_lines_book_together_and_a_short_budget_is_exact(
        any_hub: Hub, monkeypatch) -> None:
    """Lines the programme adds to are booked in the batch's one set of writes (no line by
    line claim); when the budget cannot cover them all, the batch runs again with those lines
    claimed one by one, budget rows locked: the budget is spent to its last point, no more."""
    from network.ledger import stores

    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    claimed: list[int] = []
    real = stores.book_credit

    def spy(conn, **kwargs):  # type: ignore[no-untyped-def]
        claimed.append(kwargs["member_id"])
        return real(conn, **kwargs)

    monkeypatch.setattr(stores, "book_credit", spy)
    _campaign(hub, "thirty", effect=FixedPoints(30), limits=Limits(budget_points=100))
    members = [hub.enrol().id for _ in range(5)]

    def batch(key: str) -> list[int]:
        results = award_batch(hub.db, partner_id=cafe,
                              lines=[AwardLine(m, 1000, "EUR") for m in members],
                              network_currency="EUR", scope=f"partner:{cafe}",
                              idempotency_key=key, now=utcnow())
        return [r.receipt.points for r in results]

    assert batch("b-1") == [130, 130, 130, 110, 100]
    assert sorted(claimed) == sorted(members)  # 150 > 100: claimed one by one on the retry
    assert hub.db.read(store.get, "thirty").spent_points == 100
    awarded = hub.db.read(lambda c: c.execute(select(campaign_awards.c.points)).scalars().all())
    assert sorted(awarded) == [10, 30, 30, 30]

    claimed.clear()
    _campaign(hub, "five", effect=FixedPoints(5), limits=Limits(budget_points=1_000))
    assert batch("b-2") == [105] * 5  # "thirty" is spent: skipped
    assert claimed == []  # one set of writes
    assert hub.db.read(store.get, "five").spent_points == 25
    assert verify(hub.db) == []


def test_member_limits_count_the_batchs_earlier_lines_and_are_checked_under_the_lock(
        any_hub: Hub, monkeypatch) -> None:
    """A once-a-day campaign: of a member's two lines in one batch only the first gets it; and
    when the usage read again under the members' locks differs from what the plan read (another
    earn's award, faked here), the batch runs again with the lines claimed under the lock."""
    from network.programme import earn as programme_earn
    from network.programme.rules import Usage

    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    daily = _campaign(hub, "daily", limits=Limits(per_member_day=1))
    ann, bob = hub.enrol(), hub.enrol()

    def batch(key: str, members: list[int]) -> list[int]:
        results = award_batch(hub.db, partner_id=cafe,
                              lines=[AwardLine(m, 1000, "EUR") for m in members],
                              network_currency="EUR", scope=f"partner:{cafe}",
                              idempotency_key=key, now=utcnow())
        return [r.receipt.points for r in results]

    assert batch("d-1", [ann.id, ann.id, bob.id]) == [110, 100, 110]
    real = programme_earn.store.usage_many
    reads: list[str] = []

    def racing(conn, members, *args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append("read")
        found = real(conn, members, *args, **kwargs)
        if len(reads) == 2:  # record_batch's check: as if the member earned it meanwhile
            return {m: {daily.id: Usage(1, 1, 1, 1)} for m in members}
        return found

    monkeypatch.setattr(programme_earn.store, "usage_many", racing)
    carl = hub.enrol()
    assert batch("d-2", [carl.id]) == [110]  # the claim under the lock found no award
    assert reads == ["read"] * 3  # plan, check (changed), the claim on the second run
    awarded = hub.db.read(lambda c: c.execute(
        select(campaign_awards.c.member_id).where(campaign_awards.c.campaign_id == daily.id))
        .scalars().all())
    assert sorted(awarded) == sorted([ann.id, bob.id, carl.id])
    assert verify(hub.db) == []


def test_an_earn_that_waits_for_a_concurrent_update_of_the_member_hands_over(
        hub: Hub, ways) -> None:
    """What the statement read of the member (tier, usage) is from its snapshot: when another
    transaction updates the member's row and commits while the statement waits for that row,
    the statement books nothing and the general way books the earn under the lock."""
    import threading

    from sqlalchemy import text

    earn, outcomes = ways
    _campaign(hub, "ten")
    ann = hub.enrol()
    holder = hub.db.engine.connect()
    holder.begin()
    holder.execute(text("UPDATE member_balances SET updated_at = now() WHERE member_id = :m"),
                   {"m": ann.id})
    answers: list[Receipt] = []
    worker = threading.Thread(target=lambda: answers.append(earn(ann.id, 1000, "wait-1")))
    worker.start()
    # Until the earn's statement waits for the member's row lock (no clock involved).
    with hub.db.engine.connect() as watcher:
        while not watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() "  # not another test worker's database
                "AND query LIKE '%%member_balances%%' AND pid <> pg_backend_pid()")).scalar_one():
            watcher.rollback()
    holder.commit()
    holder.close()
    worker.join()
    assert outcomes == [False]
    assert answers[0].points == 110
    assert verify(hub.db) == []
