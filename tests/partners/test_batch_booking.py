"""A batch books each line exactly as a single earn would, on SQLite and PostgreSQL alike: the
batch writes its rows in bulk (one statement on PostgreSQL), the single earn through the ledger."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from network.clock import as_utc, utcnow
from network.db.schema import idempotency_keys, journal_entries, lots, postings
from network.ledger.bulk_earn import lines_scope
from network.ledger.errors import InvalidAmount
from network.ledger.verify import verify
from partners.contracts import add_months
from partners.earning import AwardLine, award_batch, award_points, line_key
from tests.partners.conftest import Hub


def _rows(hub: Hub, table, *where):  # type: ignore[no-untyped-def]
    return hub.db.read(lambda c: c.execute(select(table).where(*where)).all())


def _count(hub: Hub, table) -> int:  # type: ignore[no-untyped-def]
    return hub.db.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_batch_books_each_line_as_a_single_earn_would(any_hub: Hub) -> None:
    shop = any_hub.partners["shop"]  # 1.5 points per euro, 14 days pending, valid 12 months
    ann, bob = any_hub.enrol(by="shop"), any_hub.enrol(by="shop")
    now = utcnow()
    lines = [
        AwardLine(ann.id, 1000, "EUR", reference="r-0"),
        AwardLine(bob.id, 2000, "EUR"),
        InvalidAmount("amount must be greater than zero", field="amount"),
        AwardLine(ann.id, 600, "EUR", reference="r-3"),
    ]

    def batch() -> list:  # type: ignore[type-arg]
        return award_batch(any_hub.db, partner_id=shop.party_id, lines=lines,
                           network_currency="EUR", scope=f"partner:{shop.party_id}",
                           idempotency_key="till-7", now=now)

    results = batch()
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert isinstance(results[2].error, InvalidAmount)
    receipts = [results[i].receipt for i in (0, 1, 3)]
    assert [(r.member_id, r.points, r.balance, r.held, r.debt) for r in receipts] == [
        (ann.id, 15, 15, 0, 0), (bob.id, 30, 30, 0, 0), (ann.id, 9, 24, 0, 0)]
    assert [r.entry_id for r in receipts] == sorted(r.entry_id for r in receipts)

    for receipt, (amount, reference) in zip(receipts, [(1000, "r-0"), (2000, None), (600, "r-3")],
                                            strict=True):
        [entry] = _rows(any_hub, journal_entries, journal_entries.c.id == receipt.entry_id)
        assert (entry.kind, entry.member_id, entry.party_id, entry.points, entry.reference) == (
            "earn", receipt.member_id, shop.party_id, receipt.points, reference)
        assert entry.details == {"amount_minor": amount, "currency": "EUR", "points_given": None}
        sides = {(p.account_kind, p.party_id, p.member_id, p.points)
                 for p in _rows(any_hub, postings, postings.c.entry_id == receipt.entry_id)}
        assert sides == {("issuance", shop.party_id, receipt.member_id, -receipt.points),
                         ("member_wallet", None, receipt.member_id, receipt.points)}
        [lot] = _rows(any_hub, lots, lots.c.id == receipt.lot_id)
        assert (lot.entry_id, lot.member_id, lot.issuer_party_id, lot.points, lot.remaining) == (
            receipt.entry_id, receipt.member_id, shop.party_id, receipt.points, receipt.points)
        vests = now + timedelta(days=14)
        assert abs(as_utc(lot.vests_at) - vests) < timedelta(seconds=1)
        assert abs(as_utc(lot.expires_at) - add_months(vests, 12)) < timedelta(seconds=1)

    scope = f"partner:{shop.party_id}"
    stored = {(row.scope, row.key): row.response for row in _rows(any_hub, idempotency_keys)
              if row.scope != "system"}  # the enrolments
    assert stored == {  # the batch's own key in the partner's scope, its lines' in their own
        (scope, "till-7"): {"kind": "earn_batch"},
        **{(lines_scope(scope), line_key("till-7", i)): results[i].receipt.as_dict()  # type: ignore[union-attr]
           for i in (0, 1, 3)}}

    counts = [_count(any_hub, t) for t in (journal_entries, postings, lots, idempotency_keys)]
    # A line replayed on its own through the ledger, and the whole batch again: the first
    # answers, nothing written.
    single = award_points(any_hub.db, partner_id=shop.party_id, line=lines[3],  # type: ignore[arg-type]
                          network_currency="EUR", scope=lines_scope(f"partner:{shop.party_id}"),
                          idempotency_key=line_key("till-7", 3), now=now + timedelta(seconds=5))
    assert single == receipts[2]
    assert batch() == results
    assert [_count(any_hub, t) for t in (journal_entries, postings, lots, idempotency_keys)] == (
        counts)
    assert verify(any_hub.db) == []
