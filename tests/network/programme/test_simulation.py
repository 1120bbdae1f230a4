"""Simulation over a known history, the expected figures worked out by hand, on both databases.

October 2026 (UTC), café clearing price 0.40 a point, shop 0.25:
  e1 m1 café 10.00 base 100  3 Oct 10:00   draft gives 100 (spent 100)
  e2 m1 café  5.00 base  50  3 Oct 12:00   skipped: one a day (LIMIT_DAY)
  e3 m2 café 20.00 base 200 10 Oct         gives 200 (spent 300)
  e4 m3 shop  8.00 base  80 11 Oct         not the café: no match
  e5 m2 café 30.00 base 300 20 Oct         reversed on 21 Oct: left out
  e6 m1 café 40.00 base 400 25 Oct         would give 400, capped at the 300 left: exhausted
  e0 m1 café on 30 September              outside the period
The draft doubles base points at the café, 50/50 café and shop, one a day, budget 600:
5 earns replayed, 3 applications, 2 members, 600 points, 300 each; café 300 x 0.40 = 120.00,
shop 300 x 0.25 = 75.00; budget exhausted at e6's booking time.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from network import cards, members
from network.clock import utcnow
from network.ledger.earning import earn
from network.ledger.reversals import reverse_earn
from network.programme import simulation
from network.programme.management import CampaignRefused
from partners.campaign_simulation import run
from partners.registry import create_partner
from partners.terms import Terms

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
DRAFT = {
    "code": "draft-double", "nameEn": "Double at the café", "nameFa": "دوبرابر در کافه",
    "trigger": {"kind": "purchase"}, "effect": {"kind": "multiplier", "factor": "2"},
    "funder": [{"party": "cafe", "share": 5000}, {"party": "shop", "share": 5000}],
    "startsAt": "2027-01-01T00:00:00+00:00", "conditions": {"partners": ["cafe"]},
    "limits": {"budgetPoints": 600, "perMemberDay": 1},
}


@pytest.fixture
def history(db):
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)

    def setup(conn):
        cafe = create_partner(conn, code="cafe", name="Cafe", now=start, terms=Terms(
            earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("0.40")))
        shop = create_partner(conn, code="shop", name="Shop", now=start, terms=Terms(
            earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("0.25")))
        return cafe.id, shop.id

    cafe, shop = db.write(setup)
    who = [members.enrol(db, secret="s", scope="system", idempotency_key=f"m{i}",
                         enrolled_by=cafe, card_number=cards.generate()).id for i in range(3)]
    m1, m2, m3 = who

    def book(key, partner, member, amount, points, at):
        return earn(db, scope="test", idempotency_key=key, issuer_id=partner, member_id=member,
                    points=points, now=at,
                    details={"amount_minor": amount, "currency": "EUR"}).entry_id

    book("e0", cafe, m1, 1000, 100, dt.datetime(2026, 9, 30, 12, tzinfo=UTC))
    book("e1", cafe, m1, 1000, 100, dt.datetime(2026, 10, 3, 10, tzinfo=UTC))
    book("e2", cafe, m1, 500, 50, dt.datetime(2026, 10, 3, 12, tzinfo=UTC))
    book("e3", cafe, m2, 2000, 200, dt.datetime(2026, 10, 10, 9, tzinfo=UTC))
    book("e4", shop, m3, 800, 80, dt.datetime(2026, 10, 11, 9, tzinfo=UTC))
    e5 = book("e5", cafe, m2, 3000, 300, dt.datetime(2026, 10, 20, 9, tzinfo=UTC))
    reverse_earn(db, scope="test", idempotency_key="r5", partner_id=cafe, entry_id=e5,
                 points=100, now=dt.datetime(2026, 10, 21, 9, tzinfo=UTC))
    book("e6", cafe, m1, 4000, 400, dt.datetime(2026, 10, 25, 18, tzinfo=UTC))
    return db, cafe, shop


def test_the_replay_gives_the_figures_worked_out_by_hand(history) -> None:
    db, cafe, shop = history
    result = run(db, DRAFT, "2026-10", timezone="UTC", now=NOW)
    assert result.period.label == "2026-10"
    assert (result.earns_replayed, result.times_applied, result.members_reached,
            result.points) == (5, 3, 2, 600)
    assert result.funders == (
        simulation.FunderCost(cafe, 300, Decimal("0.40"), Decimal("120.00")),
        simulation.FunderCost(shop, 300, Decimal("0.25"), Decimal("75.00")))
    assert result.budget_exhausted_at == dt.datetime(2026, 10, 25, 18, tzinfo=UTC)
    assert result.skipped == {"LIMIT_DAY": 1}
    # last-month on 15 November is October.
    assert run(db, DRAFT, "last-month", timezone="UTC", now=NOW) == result


def test_a_partner_replays_only_its_own_sales(history) -> None:
    db, cafe, shop = history
    mine = run(db, DRAFT, "2026-10", timezone="UTC", now=NOW, partner_id=cafe)
    assert (mine.earns_replayed, mine.points) == (4, 600)
    theirs = run(db, DRAFT, "2026-10", timezone="UTC", now=NOW, partner_id=shop)
    assert (theirs.earns_replayed, theirs.times_applied, theirs.points, theirs.funders) == (
        1, 0, 0, ())


def test_without_a_budget_nothing_is_exhausted_and_every_match_counts(history) -> None:
    db, cafe, shop = history
    open_ended = DRAFT | {"limits": {"perMemberDay": 1},
                          "funder": [{"party": "network", "share": 10000}]}
    result = run(db, open_ended, "2026-10", timezone="UTC", now=NOW)
    assert (result.times_applied, result.points, result.budget_exhausted_at) == (3, 700, None)
    # The network has no contract: its points have no clearing price to value them at.
    assert [(f.points, f.price_per_point, f.value) for f in result.funders] == [
        (700, None, None)]


def test_bad_drafts_and_periods_are_refused_with_their_field(history) -> None:
    db, _, _ = history
    with pytest.raises(CampaignRefused) as refused:
        run(db, DRAFT | {"effect": {"kind": "multiplier", "factor": "0"}}, "2026-10",
            timezone="UTC", now=NOW)
    assert refused.value.field == "effect.factor"
    for period, code in (("2026-13", "PERIOD_INVALID"), ("october", "PERIOD_INVALID"),
                         ("2027-01", "PERIOD_IN_FUTURE")):
        with pytest.raises(simulation.SimulationError) as bad:
            run(db, DRAFT, period, timezone="UTC", now=NOW)
        assert (bad.value.code, bad.value.field) == (code, "period")
    welcome = DRAFT | {"trigger": {"kind": "lifecycle", "name": "enrolled"},
                       "effect": {"kind": "fixed", "points": 100}, "conditions": {}}
    with pytest.raises(simulation.SimulationError) as lifecycle:
        run(db, welcome, "2026-10", timezone="UTC", now=NOW)
    assert (lifecycle.value.code, lifecycle.value.field) == ("TRIGGER_NOT_SIMULATED",
                                                             "trigger.kind")


def test_periods_are_local_months() -> None:
    from zoneinfo import ZoneInfo
    tehran = ZoneInfo("Asia/Tehran")
    october = simulation.parse_period("2026-10", tehran, utcnow())
    assert october.start == dt.datetime(2026, 9, 30, 20, 30, tzinfo=UTC)
    assert october.end == dt.datetime(2026, 10, 31, 20, 30, tzinfo=UTC)
    january = simulation.parse_period("last-month", tehran,
                                      dt.datetime(2027, 2, 1, 0, 0, tzinfo=tehran))
    assert january.label == "2027-01"


def test_the_command_line_prints_the_same_figures(history, monkeypatch, tmp_path) -> None:
    from click.testing import CliRunner

    from infra.cli import main

    db, cafe, shop = history
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(DRAFT, ensure_ascii=False), encoding="utf-8")
    done = CliRunner().invoke(main, ["campaigns", "simulate", "--file", str(path),
                                     "--period", "2026-10"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[1:5] == ["earns replayed 5", "members reached 2", "times applied 3",
                          "points 600"]
    assert f"funder {cafe}: 300 points, 120 EUR at 0.4 a point" in lines
    assert f"funder {shop}: 300 points, 75 EUR at 0.25 a point" in lines
    assert "budget exhausted 2026-10-25T18:00:00+00:00" in lines
    bad = CliRunner().invoke(main, ["campaigns", "simulate", "--file", str(path),
                                    "--period", "2026-13"])
    assert bad.exit_code != 0 and "PERIOD_INVALID: --period:" in bad.output


def test_the_read_is_a_bounded_number_of_queries_however_many_earns(history, monkeypatch) -> None:
    from sqlalchemy import event

    from network.programme import ladder_store

    db, cafe, _ = history
    # The tier ladder's cached copy is looked at again every TTL seconds (one tiny read);
    # enrolling below may take longer than that, which is not what this test counts.
    monkeypatch.setattr(ladder_store, "TTL", 3_600.0)
    asks_everything = DRAFT | {"conditions": {"partners": ["cafe"], "firstAtPartner": True,
                                              "tiers": ["blue", "silver", "gold", "platinum"]}}

    def statements() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            run(db, asks_everything, "2026-10", timezone="UTC", now=NOW)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len([s for s in seen if not s.lstrip().upper().startswith(
            ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))])

    statements()  # the first also reads the network's party id, cached per process after
    before = statements()
    for i in range(20):
        member = members.enrol(db, secret="s", scope="system", idempotency_key=f"more{i}",
                               enrolled_by=cafe, card_number=cards.generate()).id
        earn(db, scope="test", idempotency_key=f"more-e{i}", issuer_id=cafe, member_id=member,
             points=10, now=dt.datetime(2026, 10, 15, 12, tzinfo=UTC),
             details={"amount_minor": 100, "currency": "EUR"})
    assert statements() == before
    # earns, first earns, tiers, and per party code / funder a lookup: never per earn.
    assert before <= 10
