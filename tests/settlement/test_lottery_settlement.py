"""Points paid to enter a lottery are settled like any redemption at the draw's sponsor, by a
real monthly run with no settlement code of their own: the entry is a `redemption` consumption
whose sink is the sponsor, and the controls reconcile with the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from network import ledger
from network.config import Settings
from network.db.engine import Database
from network.ledger.verify import verify
from network.programme import lottery_store
from partners.registry import create_partner
from partners.terms import Terms
from settlement import run
from settlement import store as settlement_store
from tests.support.ledger_world import key, member

SEPT = datetime(2026, 9, 1, tzinfo=UTC)
OCT = datetime(2026, 10, 2, tzinfo=UTC)
LATER = datetime(2026, 11, 15, tzinfo=UTC)
TERMS = Terms(earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("1.00"),
              network_fee_bps=0)


def test_lottery_entries_are_paid_to_the_sponsor_by_the_monthly_run(db: Database,
                                                                     settings: Settings) -> None:
    cafe = db.write(lambda c: create_partner(c, code="cafe", name="Cafe", terms=TERMS,
                                             now=SEPT).id)
    cinema = db.write(lambda c: create_partner(c, code="cinema", name="Cinema", terms=TERMS,
                                               now=SEPT).id)
    draw = lottery_store.open_draw(
        db, code="tickets", name_en="Cinema tickets", name_fa="بلیت سینما", opens_at=OCT,
        closes_at=OCT + timedelta(days=7), entry_price=30, max_entries_per_member=5,
        sponsor_party_id=cinema, prizes=[lottery_store.Prize(2, "Two tickets", "دو بلیت")],
        now=OCT)
    for _ in range(2):
        m = member(db, now=SEPT)
        ledger.earn(db, scope=f"partner:{cafe}", idempotency_key=key(), issuer_id=cafe,
                    member_id=m, points=100, now=OCT)
        for _ in range(3):
            lottery_store.enter(db, member_id=m, draw_id=draw.id, idempotency_key=key(),
                                now=OCT + timedelta(hours=1))
    assert verify(db) == []

    preview = run.preview(db, settings, "2026-10", now=LATER)
    assert preview.run.summary["controls"]["discrepancies"] == []
    lines = {(line.payer_party_id, line.payee_party_id, line.kind): line.amount_minor
             for line in db.read(settlement_store.load_lines, preview.run.id)
             if line.amount_minor}
    # 6 entries of 30 café points: the café pays the cinema 180 points at 1 cent each.
    assert lines == {(cafe, cinema, "redemption"): 180}
    closed = run.close(db, settings, "2026-10", now=LATER)
    nets = {p.party_id: p.net_minor
            for p in db.read(settlement_store.load_positions, closed.run.id) if p.net_minor}
    assert nets == {cafe: -180, cinema: 180}
