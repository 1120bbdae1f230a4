"""The earn seam (earning.earn_planned, bulk_earn.earn_batch) with plan steps given as values, on
both databases: replay, else plan, else book, one rule for one earn and for a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from network.clock import as_utc
from network.db.engine import Database
from network.db.schema import lots as lots_table
from network.ledger import errors
from network.ledger.bulk_earn import earn_batch
from network.ledger.earning import earn_planned
from network.ledger.rules import Credit
from network.ledger.stores import PORTABLE, POSTGRESQL
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Purchase:
    member_id: int
    cents: int
    reference: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def request(self) -> dict[str, Any]:
        return {"member": self.member_id, "cents": self.cents, "reference": self.reference}


def per_euro(rate: int) -> Any:
    """A plan step: `rate` points per euro, valid a year; refuses what earns nothing."""
    def plan(line: Purchase) -> Credit:
        points = line.cents * rate // 100
        if points <= 0:
            raise errors.InvalidAmount("earns nothing", field="amount")
        return Credit(points, T0, T0 + timedelta(days=365))
    return plan


def refuse_all(line: Purchase) -> Credit:
    raise errors.InvalidInput("no plan today", field="contract", code="NO_CONTRACT")


def test_the_database_chose_its_earn_writer_once(db: Database) -> None:
    assert db.earn_store is (POSTGRESQL if db.dialect == "postgresql" else PORTABLE)


def test_a_retry_gets_its_first_answer_even_when_the_plan_now_refuses(db: Database) -> None:
    cafe, ann = w.partner(db, "cafe"), w.member(db)
    line, key = Purchase(ann, 1250, "r-1"), w.key()
    first = earn_planned(db, scope="partner:1", idempotency_key=key, issuer_id=cafe, line=line,
                         plan=per_euro(10), now=T0)
    assert (first.points, first.balance) == (125, 125)
    before = w.row_counts(db)
    for plan in (per_euro(2), refuse_all):  # the terms changed, then went away
        again = earn_planned(db, scope="partner:1", idempotency_key=key, issuer_id=cafe,
                             line=line, plan=plan, now=T0 + timedelta(days=1))
        assert again == first
    assert w.row_counts(db) == before
    # A different purchase under the used key is refused as reused, whatever the plan says.
    with pytest.raises(errors.IdempotencyKeyReused):
        earn_planned(db, scope="partner:1", idempotency_key=key, issuer_id=cafe,
                     line=Purchase(ann, 999), plan=refuse_all, now=T0)
    # A new key the plan refuses is refused with the plan's own error, and writes nothing.
    with pytest.raises(errors.InvalidInput) as refused:
        earn_planned(db, scope="partner:1", idempotency_key=w.key(), issuer_id=cafe, line=line,
                     plan=refuse_all, now=T0)
    assert refused.value.code == "NO_CONTRACT"
    assert w.row_counts(db) == before


def test_a_batch_plans_its_lines_with_the_same_step_and_the_same_retry_rule(
        db: Database) -> None:
    cafe, ann, bob = w.partner(db, "cafe"), w.member(db), w.member(db)
    lines: list[Purchase | errors.LedgerError] = [
        Purchase(ann, 1000), Purchase(bob, 5), errors.InvalidInput("unreadable", field="x"),
        Purchase(ann, 300)]
    first = earn_batch(db, scope="partner:1", batch_key="b-1", issuer_id=cafe, lines=lines,
                       plan=per_euro(10), now=T0)
    assert [first[0].points, first[3].points] == [100, 30]  # type: ignore[union-attr]
    assert [first[0].balance, first[3].balance] == [100, 130]  # type: ignore[union-attr]
    assert isinstance(first[1], errors.InvalidAmount) and first[1].field == "amount"
    assert isinstance(first[2], errors.InvalidInput) and first[2].field == "x"
    before = w.row_counts(db)
    again = earn_batch(db, scope="partner:1", batch_key="b-1", issuer_id=cafe, lines=lines,
                       plan=refuse_all, now=T0 + timedelta(days=1))
    assert again[0] == first[0] and again[3] == first[3]  # booked lines answer as they did
    assert isinstance(again[1], errors.InvalidInput) and again[1].code == "NO_CONTRACT"
    assert w.row_counts(db) == before


def test_a_batch_books_a_credit_without_dates_as_one_earn_does_and_refuses_one_that_expires(
        db: Database) -> None:
    cafe, ann = w.partner(db, "cafe"), w.member(db)

    def dated_by_cents(line: Purchase) -> Credit:
        if line.cents == 1:  # a plan that gets its dates wrong: expired before it vests
            return Credit(5, T0, T0 - timedelta(days=1))
        return Credit(line.cents)  # vests now, never expires

    batch = earn_batch(db, scope="partner:1", batch_key="b-2", issuer_id=cafe,
                       lines=[Purchase(ann, 40), Purchase(ann, 1)], plan=dated_by_cents, now=T0)
    single = earn_planned(db, scope="partner:1", idempotency_key=w.key(), issuer_id=cafe,
                          line=Purchase(ann, 60), plan=dated_by_cents, now=T0)
    assert isinstance(batch[1], errors.InvalidInput) and batch[1].field == "expiresAt"
    lots = db.read(lambda c: c.execute(
        select(lots_table.c.entry_id, lots_table.c.points, lots_table.c.vests_at,
               lots_table.c.expires_at).where(lots_table.c.member_id == ann)
        .order_by(lots_table.c.id)).all())
    assert [(row.entry_id, row.points, row.expires_at) for row in lots] == [
        (batch[0].entry_id, 40, None), (single.entry_id, 60, None)]  # type: ignore[union-attr]
    assert {as_utc(row.vests_at) for row in lots} == {T0}
    assert single.balance == 100
