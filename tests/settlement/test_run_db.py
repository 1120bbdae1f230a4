"""Preview and close against the real ledger, on SQLite and PostgreSQL: exact money per party,
reconciliation with the ledger, identical hashes, a frozen closed period, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from network.config import Settings
from network.db.engine import Database
from network.parties import network_party_id
from settlement import run, store
from settlement.errors import SettlementError
from tests.settlement import scenario as S
from tests.settlement.world import World, at, build
from tests.support.ledger_world import row_counts

LATER = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.fixture
def world(db: Database) -> World:
    return build(db, db.read(network_party_id))


def nets(db: Database, run_id: int) -> dict[int, int]:
    return {p.party_id: p.net_minor for p in db.read(store.load_positions, run_id) if p.net_minor}


def test_october_preview_gives_hand_computed_nets(world: World, settings: Settings) -> None:
    outcome = run.preview(world.db, settings, "2026-10", now=LATER)
    assert outcome.changed and outcome.run.status == "draft"
    assert nets(world.db, outcome.run.id) == world.nets(S.OCTOBER_NETS)
    summary = outcome.run.summary
    assert summary["netting"]["gross_obligations_minor"] == S.OCTOBER_GROSS
    assert summary["netting"]["netted_payments"] == 4
    assert summary["controls"]["discrepancies"] == []
    assert summary["controls"]["points_by_kind"] == {
        "donation": 6_556, "expiry": 12_332, "redemption": 29_118}


def test_november_settles_the_late_reversal(world: World, settings: Settings) -> None:
    run.close(world.db, settings, "2026-10", now=LATER)
    november = run.close(world.db, settings, "2026-11", now=LATER)
    assert nets(world.db, november.run.id) == world.nets(S.NOVEMBER_NETS)
    october = world.db.read(store.find_run, "2026-10")
    assert nets(world.db, october.id) == world.nets(S.OCTOBER_NETS)  # untouched


def test_preview_and_close_are_reproducible(world: World, settings: Settings) -> None:
    first = run.preview(world.db, settings, "2026-10", now=LATER)
    again = run.preview(world.db, settings, "2026-10", now=LATER)
    assert first.run.id == again.run.id and first.run.content_hash == again.run.content_hash
    closed = run.close(world.db, settings, "2026-10", now=LATER)
    assert closed.changed and closed.run.status == "closed"
    assert closed.run.content_hash == first.run.content_hash
    before = row_counts(world.db)
    twice = run.close(world.db, settings, "2026-10", now=LATER)
    assert not twice.changed and twice.run.closed_at == closed.run.closed_at
    verify = run.preview(world.db, settings, "2026-10", now=LATER)
    assert not verify.changed and verify.verified is True
    assert row_counts(world.db) == before


def test_closed_period_ignores_later_bookings_elsewhere(world: World, settings: Settings) -> None:
    closed = run.close(world.db, settings, "2026-10", now=LATER)
    from network import ledger
    from tests.support.ledger_world import key, member
    m = member(world.db, now=at(1, 12))
    ledger.earn(world.db, scope="system", idempotency_key=key(), issuer_id=world.party(S.A),
                member_id=m, points=10, now=at(1, 12))
    ledger.redeem(world.db, scope="system", idempotency_key=key(), partner_id=world.party(S.B),
                  member_id=m, points=10, now=at(2, 12))
    assert run.preview(world.db, settings, "2026-10", now=LATER).verified is True
    assert world.db.read(store.find_run, "2026-10").content_hash == closed.run.content_hash


@pytest.mark.parametrize("period", ["2026-13", "10-2026", "2026-10-01", "last month"])
def test_bad_period_is_refused_and_writes_nothing(world: World, settings: Settings,
                                                  period: str) -> None:
    before = row_counts(world.db)
    for action in (run.preview, run.close):
        with pytest.raises(SettlementError) as err:
            action(world.db, settings, period, now=LATER)
        assert err.value.code == "BAD_PERIOD" and err.value.field == "period"
    assert row_counts(world.db) == before


def test_a_period_cannot_close_before_it_is_over(world: World, settings: Settings) -> None:
    before = row_counts(world.db)
    with pytest.raises(SettlementError) as err:
        run.close(world.db, settings, "2026-10", now=datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert err.value.code == "PERIOD_NOT_OVER"
    assert row_counts(world.db) == before


def test_missing_contract_is_named_and_writes_nothing(db: Database, settings: Settings) -> None:
    from network import ledger
    from partners.contracts import add_contract
    from partners.terms import Terms
    from tests.support.ledger_world import key, member, partner
    a, b = partner(db, "no-contract-a"), partner(db, "with-contract-b")
    db.write(lambda c: add_contract(c, b, Terms(earn_points_per_unit=Decimal(1)),
                                    effective_from=S.SINCE, now=S.SINCE))
    m = member(db, now=at(1))
    ledger.earn(db, scope="system", idempotency_key=key(), issuer_id=a, member_id=m, points=5,
                now=at(1))
    ledger.redeem(db, scope="system", idempotency_key=key(), partner_id=b, member_id=m, points=5,
                  now=at(2))
    before = row_counts(db)
    with pytest.raises(SettlementError) as err:
        run.preview(db, settings, "2026-10", now=LATER)
    assert err.value.code == "NO_CONTRACT" and f"party {a}" in err.value.message
    assert row_counts(db) == before


def test_period_follows_the_network_time_zone(db: Database) -> None:
    """A redemption at 00:30 on 1 November in Berlin is 23:30 on 31 October UTC: November."""
    from network import ledger
    from tests.support.ledger_world import key, member
    world = build(db, db.read(network_party_id), reversal=False)
    m = member(db, now=at(1))
    ledger.earn(db, scope="system", idempotency_key=key(), issuer_id=world.party(S.A),
                member_id=m, points=100, now=at(1))
    ledger.redeem(db, scope="system", idempotency_key=key(), partner_id=world.party(S.C),
                  member_id=m, points=100, now=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    berlin = Settings(database_url=db.url, env="test", timezone="Europe/Berlin")
    november = run.preview(db, berlin, "2026-11", now=LATER)
    lines = db.read(store.load_lines, november.run.id)
    assert [(ln.payer_party_id, ln.payee_party_id, ln.points) for ln in lines
            if ln.kind == "redemption"] == [(world.party(S.A), world.party(S.C), 100)]
