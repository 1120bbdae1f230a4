"""The campaign store on SQLite and PostgreSQL: validated saves that write nothing on a problem,
the status moves, the cached index, the budget take and usage counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from network import parties
from network.programme import budgets, store
from network.programme.campaigns import Conditions, Limits, sole_funder, split_funder
from network.programme.campaigns_schema import campaigns, programme_version
from tests.network.programme.values import campaign


@pytest.fixture
def world(db):
    ids = db.write(lambda conn: {
        "cafe": parties.create(conn, kind="partner", code="cafe", name="Cafe"),
        "network": parties.network_party_id(conn),
        "charity": parties.create(conn, kind="charity", code="kids", name="Kids")})
    store.forget_cache()
    return db, ids


def _new(world, **overrides):
    db, ids = world
    values = {"funder": sole_funder(ids["cafe"]),
              "conditions": Conditions(partners=frozenset({ids["cafe"]}))} | overrides
    return db.write(store.create, campaign(**values), owner_party_id=ids["cafe"])


def _count(db):
    return db.read(lambda conn: conn.execute(select(func.count()).select_from(campaigns))
                   .scalar_one())


def test_a_campaign_is_saved_as_a_draft_and_read_back_whole(world):
    db, ids = world
    saved = _new(world, limits=Limits(budget_points=500), status="active")
    assert saved.campaign.status == "draft"
    assert saved.campaign.limits.budget_points == 500 and saved.spent_points == 0
    assert db.read(store.get, "c1").campaign == saved.campaign
    assert [s.campaign.code for s in db.read(store.list_campaigns)] == ["c1"]


def test_an_invalid_campaign_writes_nothing_and_names_every_problem(world):
    db, ids = world
    with pytest.raises(store.CampaignError) as caught:
        _new(world, code="bad code", funder=split_funder((ids["cafe"], 5000),
                                                         (ids["charity"], 4000)))
    found = {(p.field, p.code) for p in caught.value.problems}
    assert found == {("funder[1].partyId", "PARTY_UNKNOWN")}  # parties are checked first
    with pytest.raises(store.CampaignError) as caught:
        _new(world, code="bad code", funder=split_funder((ids["cafe"], 5000),
                                                         (ids["network"], 4000)))
    found = {(p.field, p.code) for p in caught.value.problems}
    assert found == {("code", "CODE_INVALID"), ("funder", "SHARES_NOT_WHOLE")}
    _new(world)
    with pytest.raises(store.CampaignError) as caught:
        _new(world)
    assert caught.value.code == "CAMPAIGN_CODE_TAKEN"
    assert _count(db) == 1


def test_status_moves_and_activation_revalidates_overlaps(world):
    db, ids = world
    _new(world, id=1, code="a", stacking="exclusive")
    _new(world, id=2, code="b", stacking="exclusive")
    assert db.write(store.set_status, "a", "active").campaign.status == "active"
    with pytest.raises(store.CampaignError) as caught:
        db.write(store.set_status, "b", "active")
    assert (caught.value.field, caught.value.code) == ("startsAt", "WINDOW_OVERLAP")
    assert db.read(store.get, "b").campaign.status == "draft"
    db.write(store.set_status, "a", "paused")
    db.write(store.set_status, "a", "ended")
    with pytest.raises(store.CampaignError) as caught:
        db.write(store.set_status, "a", "active")
    assert caught.value.code == "STATUS_CHANGE_NOT_ALLOWED"
    assert db.write(store.set_status, "b", "active").campaign.status == "active"


def test_update_keeps_status_and_refuses_a_budget_below_spent(world):
    db, ids = world
    saved = _new(world, limits=Limits(budget_points=100))
    db.write(store.set_status, "c1", "active")
    assert db.write(budgets.take, saved.campaign.id, 60)
    with pytest.raises(store.CampaignError) as caught:
        db.write(store.update, "c1", campaign(funder=sole_funder(ids["cafe"]),
                                              limits=Limits(budget_points=50)))
    assert (caught.value.field, caught.value.code) == ("limits.budgetPoints", "BUDGET_BELOW_SPENT")
    changed = db.write(store.update, "c1", campaign(name_en="Renamed",
                                                    funder=sole_funder(ids["cafe"]),
                                                    limits=Limits(budget_points=80)))
    assert changed.campaign.status == "active" and changed.campaign.name_en == "Renamed"
    assert changed.spent_points == 60 and changed.budget_left == 20


def test_the_index_is_cached_until_the_version_changes(world):
    db, ids = world
    assert db.read(store.load_index, 0.0).size == 0
    _new(world)
    db.write(store.set_status, "c1", "active")  # this process's change drops the cache at once
    assert db.read(store.load_index, 0.0).size == 1

    def elsewhere(conn):  # another process pauses it: new version, this cache untouched
        conn.execute(campaigns.update().values(status="paused"))
        conn.execute(programme_version.update().values(version=12345))

    db.write(elsewhere)
    assert db.read(store.load_index, store.VERSION_TTL / 2).size == 1  # not re-checked yet
    assert db.read(store.load_index, store.VERSION_TTL * 2).size == 0  # re-checked: rebuilt


def test_index_for_checks_out_no_connection_while_fresh_and_shares_the_cache(world):
    db, _ids = world
    checkouts = []
    event.listen(db.engine, "checkout", lambda *_: checkouts.append(1))
    assert store.index_for(db, 0.0).size == 0  # first use: the version is read
    assert len(checkouts) == 1
    assert store.index_for(db, store.VERSION_TTL / 2).size == 0  # fresh: no connection at all
    assert len(checkouts) == 1
    _new(world)
    db.write(store.set_status, "c1", "active")  # drops the cache `index_for` shares
    assert store.index_for(db, store.VERSION_TTL / 2).size == 1
    assert db.read(store.load_index, store.VERSION_TTL / 2).size == 1  # one cache, one key

    def elsewhere(conn):  # another process pauses it: seen once the ttl is up
        conn.execute(campaigns.update().values(status="paused"))
        conn.execute(programme_version.update().values(version=54321))

    db.write(elsewhere)
    assert store.index_for(db, store.VERSION_TTL).size == 1
    assert store.index_for(db, store.VERSION_TTL * 3).size == 0


def test_budget_is_taken_exactly_and_never_past_the_budget(world):
    db, ids = world
    saved = _new(world, limits=Limits(budget_points=100))
    cid = saved.campaign.id
    assert db.write(budgets.take, cid, 70)
    assert not db.write(budgets.take, cid, 31)
    assert db.write(budgets.take, cid, 30)
    assert not db.write(budgets.take, cid, 1)
    db.write(budgets.give_back, cid, 40)
    assert db.read(store.get, "c1").spent_points == 60
    db.write(budgets.give_back, cid, 500)  # never below zero
    assert db.read(store.get, "c1").spent_points == 0


@pytest.mark.parametrize("spread", [False, True])
def test_concurrent_takes_never_overspend(world, spread):
    """From one slot, or each take from its own member's slot (`spread`): 16 slots of 62 or 63
    points, so every slot runs short before the budget does and the takes fall over."""
    db, ids = world
    cid = _new(world, limits=Limits(budget_points=1_000)).campaign.id
    with ThreadPoolExecutor(8) as pool:
        granted = list(pool.map(lambda n: db.write(budgets.take, cid, 30,
                                                   slot=budgets.slot_of(n) if spread else 0),
                                range(40)))
    assert sum(granted) == 33
    assert db.read(store.get, "c1").spent_points == 990
    assert db.read(budgets.left, [cid], lock=False) == {cid: 10}


def test_the_slots_caps_sum_to_the_budget_and_a_short_slot_falls_over(world):
    assert budgets.caps(100, [0] * 16) == [7] * 4 + [6] * 12
    assert budgets.caps(None, [5, 0]) == [None, None]
    assert budgets.caps(50, [30, 0, 0]) == [37, 7, 6]  # what each spent, and the rest shared
    db, ids = world
    cid = _new(world, limits=Limits(budget_points=100)).campaign.id
    assert db.write(budgets.take, cid, 7, slot=3)  # slot 3 (cap 7) is now full
    assert db.write(budgets.take, cid, 90, slot=3)  # from the others, all of them locked
    assert not db.write(budgets.take, cid, 4, slot=3)  # 3 left in all
    assert db.write(budgets.take, cid, 3, slot=9)
    assert db.read(store.get, "c1").budget_left == 0
    db.write(budgets.give_back, cid, 20, slot=3)
    # a new budget shares out what is left again: caps still sum to it, none below its spent
    db.write(store.update, "c1", campaign(funder=sole_funder(ids["cafe"]),
                                          conditions=Conditions(partners=frozenset({ids["cafe"]})),
                                          limits=Limits(budget_points=160)))
    assert db.read(store.get, "c1").budget_left == 80
    assert db.read(budgets.left, [cid], lock=False) == {cid: 80}
    assert db.write(budgets.take, cid, 80, slot=0)
    assert not db.write(budgets.take, cid, 1, slot=15)
