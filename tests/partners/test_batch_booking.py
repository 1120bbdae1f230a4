"""A batch books each line exactly as a single earn would, on SQLite and PostgreSQL alike: the
batch writes its rows in bulk (one statement on PostgreSQL), the single earn through the ledger."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

import partners.earning as partners_earning
import partners.gql.earn as partners_gql_earn
from network import members
from network.clock import as_utc, utcnow
from network.db.schema import (
    consumptions,
    idempotency_keys,
    journal_entries,
    lots,
    member_balances,
    postings,
)
from network.ledger import bulk_earn
from network.ledger.bulk_earn import line_key, lines_scope
from network.ledger.errors import InvalidAmount
from network.ledger.verify import verify
from partners.earning import AwardLine, award_batch, award_points
from partners.terms import add_months
from tests.partners.conftest import Hub, gql_body, operation, post_signed


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


# --- A batch is booked whole or not at all --------------------------------------------------
# Members in debt are booked in the batch's own transaction, so a database error at any stage
# leaves no line booked and the batch's answer (an error) is true. Before, their lines were booked
# one by one after the batch had committed, and a lock timeout on a debtor's lot answered
# INTERNAL_ERROR ("nothing written") over lines already booked.

BATCH_KEY = "till-9"


class _LockTimeout(Exception):
    """Stands for psycopg's LockNotAvailable: not a conflict `Database.write` retries."""

    sqlstate = "55P03"


def _in_debt(hub: Hub, cafe: Any) -> members.Member:
    """A member owing 80 points: earned 100, spent 80, then the earn was taken back."""
    member = hub.enrol()
    earned = cafe.execute(operation("AwardPoints"), {"input": {
        "cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}})
    cafe.execute(operation("RedeemPoints"), {"input": {
        "cardNumber": member.card_number, "points": 80}})
    cafe.execute(operation("ReverseEarn"), {"input": {
        "transactionId": earned["data"]["awardPoints"]["transaction"]["id"]}})
    return member


def _ledger_rows(hub: Hub) -> dict[str, Any]:
    """Everything a batch writes (the request's nonce aside), to compare before and after."""
    def read(conn: Any) -> dict[str, Any]:
        return {
            **{t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
               for t in (journal_entries, postings, consumptions, idempotency_keys)},
            "lots": sorted(conn.execute(select(lots.c.id, lots.c.remaining)).all()),
            "balances": sorted(conn.execute(select(
                member_balances.c.member_id, member_balances.c.balance,
                member_balances.c.held, member_balances.c.debt)).all()),
        }
    return hub.db.read(read)


def _send_batch(hub: Hub, lines: list[dict[str, Any]]) -> Any:
    body = gql_body(operation("AwardPointsBatch"), {"input": {"lines": lines}})
    return post_signed(hub, body, idempotency_key=BATCH_KEY)


def _assert_nothing_booked(response: Any, before: dict[str, Any], hub: Hub) -> None:
    answer = response.json()
    assert answer.get("errors"), answer  # the batch is refused as a whole ...
    assert (answer.get("data") or {}).get("awardPointsBatch") is None  # ... naming no line
    assert _ledger_rows(hub) == before  # and nothing was written


def _assert_booked_as_answered(hub: Hub, response: Any, before: dict[str, Any],
                               expected_points: list[int | None]) -> None:
    """Each line the answer reports booked is one new entry with its points; no other entry."""
    payload = response.json()["data"]["awardPointsBatch"]
    assert payload["userErrors"] == []
    points = [r["transaction"]["points"] if r["transaction"] else None
              for r in payload["results"]]
    assert points == expected_points
    booked = [r for r in payload["results"] if r["transaction"]]
    assert payload["accepted"] == len(booked)
    assert _ledger_rows(hub)["journal_entries"] == before["journal_entries"] + len(booked)
    assert verify(hub.db) == []


def test_a_database_error_at_any_statement_of_a_batch_books_no_line(
        any_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    with any_hub.client() as cafe:
        ann, ben = _in_debt(any_hub, cafe), _in_debt(any_hub, cafe)
    regular = any_hub.enrol()
    lines = [{"cardNumber": card, "amount": amount, "currency": "EUR"} for card, amount in (
        (regular.card_number, 500), (ann.card_number, 500), (regular.card_number, 300),
        (ben.card_number, 1000), (ann.card_number, 200))]
    lines.insert(2, {"cardNumber": regular.card_number, "amount": 0, "currency": "EUR"})
    before = _ledger_rows(any_hub)
    assert verify(any_hub.db) == []  # so every failed attempt, leaving these rows, leaves it clean
    real = bulk_earn.book_earns
    fail_at: list[int] = [0]

    def failing(conn: Any, **kwargs: Any) -> Any:
        """The batch's transaction, its statement number `fail_at` failing like a lock timeout."""
        statements = itertools.count()

        def before_statement(*args: Any) -> None:
            if next(statements) == fail_at[0]:
                raise OperationalError(args[2], args[3], _LockTimeout("lock timeout"))

        event.listen(conn, "before_cursor_execute", before_statement)
        try:
            return real(conn, **kwargs)
        finally:
            event.remove(conn, "before_cursor_execute", before_statement)

    monkeypatch.setattr(bulk_earn, "book_earns", failing)
    while True:  # fail at statement 0, 1, 2 ... until the batch runs out of statements
        response = _send_batch(any_hub, lines)
        if "errors" not in response.json():
            break
        _assert_nothing_booked(response, before, any_hub)
        fail_at[0] += 1
    # Every stage failed once: the lookups and locks, the bulk write, each step of both debtors'
    # lines (their debt repaid first), the keys remembered.
    assert fail_at[0] >= 20
    # The same key, sent again after the failures, books the batch once.
    _assert_booked_as_answered(any_hub, response, before, [50, 50, None, 30, 100, 20])
    balances = {row.member_id: (row.balance, row.debt) for row in _ledger_rows(any_hub)["balances"]}
    assert balances[ann.id] == (-10, 10) and balances[ben.id] == (20, 0)  # owed 80 each
    assert balances[regular.id] == (80, 0)
    after = _ledger_rows(any_hub)
    assert _send_batch(any_hub, lines).json() == response.json()  # a replay writes nothing
    assert _ledger_rows(any_hub) == after


@pytest.mark.parametrize("stage", ["member lookup", "contract"])
def test_a_database_error_before_the_batch_transaction_books_nothing(
        any_hub: Hub, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    member = any_hub.enrol()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, _LockTimeout("lock timeout"))

    if stage == "member lookup":
        monkeypatch.setattr(partners_gql_earn, "member_ids_for", broken)
    else:
        monkeypatch.setattr(partners_earning, "in_force", broken)
    lines = [{"cardNumber": member.card_number, "amount": 500, "currency": "EUR"}]
    before = _ledger_rows(any_hub)
    _assert_nothing_booked(_send_batch(any_hub, lines), before, any_hub)
    monkeypatch.undo()
    _assert_booked_as_answered(any_hub, _send_batch(any_hub, lines), before, [50])


def test_a_real_lock_timeout_on_a_debtors_lot_leaves_the_whole_batch_unbooked(hub: Hub) -> None:
    """PostgreSQL's own lock_timeout, with a second connection holding the debt lot's row lock:
    the regular lines (booked first, in the bulk statement) are rolled back with the debtor's."""
    with hub.client() as cafe:
        debtor = _in_debt(hub, cafe)
    regular = hub.enrol()
    lines = [{"cardNumber": card, "amount": 500, "currency": "EUR"}
             for card in (regular.card_number, debtor.card_number, regular.card_number)]
    debt_lot = hub.db.read(lambda c: c.execute(select(lots.c.id).where(
        lots.c.member_id == debtor.id, lots.c.remaining < 0)).scalar_one())

    def impatient(conn: Any) -> None:  # every transaction of the hub's, not the batch's alone
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")

    before = _ledger_rows(hub)
    with hub.db.engine.connect() as other, other.begin():
        other.execute(select(lots.c.id).where(lots.c.id == debt_lot).with_for_update())
        event.listen(hub.db.engine, "begin", impatient)
        try:
            response = _send_batch(hub, lines)
        finally:
            event.remove(hub.db.engine, "begin", impatient)
    _assert_nothing_booked(response, before, hub)
    # The lock released, the same key books the whole batch.
    _assert_booked_as_answered(hub, _send_batch(hub, lines), before, [50, 50, 50])
