"""Erasing a member leaves settlement as it was: a closed month's run verifies against the
ledger again with the same figures, and a month still open previews to the same content hash,
because erasure touches personal data only, never entries, lots or consumptions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from network import ledger, privacy
from network.config import Settings
from network.db.engine import Database
from network.ledger.verify import verify
from partners.earning import AwardLine, award_points
from partners.registry import create_partner
from partners.terms import Terms
from settlement import run
from settlement import store as settlement_store
from tests.support.ledger_world import SECRET, key, member

SEPT = datetime(2026, 9, 1, tzinfo=UTC)
LATER = datetime(2026, 12, 5, tzinfo=UTC)
TERMS = Terms(earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("1.00"),
              network_fee_bps=0)


def _positions(db: Database, run_id: int) -> dict[int, int]:
    return {p.party_id: p.net_minor for p in db.read(settlement_store.load_positions, run_id)}


def test_erasure_changes_no_past_or_open_settlement(db: Database, settings: Settings) -> None:
    cafe = db.write(lambda c: create_partner(c, code="cafe", name="Cafe", terms=TERMS,
                                             now=SEPT).id)
    shop = db.write(lambda c: create_partner(c, code="shop", name="Shop", terms=TERMS,
                                             now=SEPT).id)
    ann, bob = member(db, now=SEPT), member(db, now=SEPT)
    for who, day in ((ann, 2), (bob, 3)):
        award_points(db, partner_id=cafe, line=AwardLine(who, 10000, "EUR"),
                     network_currency="EUR", scope=f"partner:{cafe}", idempotency_key=key(),
                     now=datetime(2026, 10, day, tzinfo=UTC))
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=key(), partner_id=shop,
                  member_id=ann, points=300, now=datetime(2026, 10, 5, tzinfo=UTC))
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=key(), partner_id=shop,
                  member_id=ann, points=200, now=datetime(2026, 11, 5, tzinfo=UTC))
    closed = run.close(db, settings, "2026-10", now=LATER)
    november = run.preview(db, settings, "2026-11", now=LATER)
    assert _positions(db, closed.run.id)[shop] == 300

    privacy.erase(db, secret=SECRET, member_id=ann, now=LATER)

    assert verify(db) == []
    again = run.preview(db, settings, "2026-10", now=LATER)
    assert again.run.id == closed.run.id and again.changed is False and again.verified is True
    assert again.run.content_hash == closed.run.content_hash
    november_again = run.preview(db, settings, "2026-11", now=LATER)
    assert november_again.run.content_hash == november.run.content_hash
    assert _positions(db, november_again.run.id) == _positions(db, november.run.id)
