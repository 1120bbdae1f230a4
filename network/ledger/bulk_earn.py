"""Booking a batch of earns in one transaction, with set-based statements.

One `ledger.earn` per line costs a transaction and about eight round trips, which caps a 1,000-line
batch at a few hundred lines per second. Here every statement covers the whole batch: one lookup of
keys already used, one lock query for the members' balance rows (ascending id, like
`balances.lock_many`), then the writes, which on PostgreSQL are a single statement
(`pg_bulk.book`). Each line is booked exactly as `ledger.earn` books it (same entry, postings, lot
and receipt, same idempotency record), so `pointsnet ledger verify` holds and a later replay of a
single line through the ledger sees the same stored answer.

Members with an open debt take the ledger's own path (`earning.book_credit`, which repays the
debt lots first), a few statements per line, but in this same transaction: a batch is booked whole
or not at all. A database error at any stage (a lock timeout on a debtor's lot, say) rolls every
line back, so the error its caller answers is true ("nothing written"), and a retry under the same
key books the batch once. Lines refused on their own (unknown member, a key reused for another
request, a lot that would expire before it vests) are refused before anything is written for them.

Keys: the batch's own key is remembered in the caller's scope, so that a single operation reusing
it is IDEMPOTENCY_KEY_REUSED (and a batch reusing a single operation's key is refused whole).
Each line's key (`<key>#<index>`) lives in a scope of its own (`lines_scope`): the caller's own
keys may contain `#`, and a partner's single earn under `Z#0` must not replay, or block, line 0
of batch `Z`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update

from network import idempotency, parties
from network.db.clauses import one_of
from network.db.schema import (
    idempotency_keys,
    journal_entries,
    lots,
    member_balances,
    postings,
)
from network.ledger import pg_bulk
from network.ledger.accounts import AccountKind
from network.ledger.earning import book_credit, request_params
from network.ledger.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    MemberNotFound,
)
from network.ledger.receipts import Receipt

# What the batch's own key remembers. Every batch under one key is the same request at this level
# (a retry re-tries the lines that failed: each line's own key decides), any other operation is not.
BATCH_REQUEST = idempotency.request_hash("earn_batch", {})


def lines_scope(scope: str) -> str:
    """The scope of a batch's line keys (see the module's docstring)."""
    return f"{scope}:lines"


@dataclass(frozen=True)
class BulkLine:
    index: int
    key: str
    member_id: int
    points: int
    vests_at: datetime
    expires_at: datetime
    reference: str | None
    details: dict[str, Any]
    request: dict[str, Any] | None = None  # as `ledger.earn`'s `request`

    def params(self, issuer_id: int) -> dict[str, Any]:
        """Exactly the parameters `ledger.earn` hashes, so both paths agree on a key's request."""
        return request_params(issuer_id=issuer_id, member_id=self.member_id, kind="earn",
                              points=self.points, vests_at=self.vests_at,
                              expires_at=self.expires_at, reference=self.reference,
                              details=self.details, request=self.request)


@dataclass(frozen=True)
class Booking:
    """A line the batch books, with what its receipt and idempotency record add to it."""

    line: BulkLine
    digest: str  # the idempotency request hash, as `ledger.earn` computes it
    balance: int  # the member's balance after this line (a member's lines book in input order)
    held: int


Result = Receipt | LedgerError


def _claim_batch(conn: Connection, scope: str, batch_key: str) -> None:
    """Like the ledger's per-key advisory lock: a concurrent retry of the batch gets a 409."""
    if conn.dialect.name != "postgresql":
        return
    lock_key = idempotency.advisory_key(scope, f"batch\x00{batch_key}")
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key}).scalar_one()
    if not got:
        raise IdempotencyInProgress("this batch is still being processed; retry shortly",
                                    field="idempotencyKey")


def _batch_key_known(conn: Connection, scope: str, batch_key: str) -> bool:
    """Whether an earlier batch used this key; refuses a key another operation used."""
    stored = idempotency.stored(conn, scope, [batch_key]).get(batch_key)
    if stored is None:
        return False
    if stored.request_hash != BATCH_REQUEST:
        raise IdempotencyKeyReused("this idempotency key was already used for a different "
                                   "request", field="idempotencyKey")
    return True


def _remember_batch(conn: Connection, scope: str, batch_key: str, at: datetime) -> None:
    conn.execute(insert(idempotency_keys).values(
        scope=scope, key=batch_key, request_hash=BATCH_REQUEST,
        response={"kind": "earn_batch"}, created_at=at))


def _replayed(conn: Connection, line: BulkLine, row: Any, issuer_id: int) -> Result:
    if row.request_hash == idempotency.request_hash("earn", line.params(issuer_id)):
        return Receipt.from_dict(row.response)
    return IdempotencyKeyReused("this idempotency key was already used for a different request",
                                field="idempotencyKey")


def _lock_balances(conn: Connection, member_ids: set[int]) -> dict[int, Any]:
    query = (select(member_balances.c.member_id, member_balances.c.balance,
                    member_balances.c.held, member_balances.c.debt)
             .where(one_of(conn, member_balances.c.member_id, sorted(member_ids)))
             .order_by(member_balances.c.member_id))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.member_id: row for row in conn.execute(query)}


def _insert_returning_ids(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(statement, rows).scalars())


def _book_portably(conn: Connection, *, issuer_id: int, scope: str, bookings: list[Booking],
                   at: datetime, booked_at: str) -> list[tuple[int, int]]:
    """SQLite (tests and the demo): the same rows as `pg_bulk.book`, a statement per table."""
    lines = [b.line for b in bookings]
    entry_ids = _insert_returning_ids(conn, journal_entries, [
        {"kind": "earn", "member_id": line.member_id, "party_id": issuer_id,
         "points": line.points, "reference": line.reference, "reverses_entry_id": None,
         "hold_id": None, "details": line.details, "booked_at": at}
        for line in lines])
    conn.execute(insert(postings), [
        posting
        for line, entry_id in zip(lines, entry_ids, strict=True)
        for posting in (
            {"entry_id": entry_id, "account_kind": AccountKind.ISSUANCE.value,
             "member_id": line.member_id, "party_id": issuer_id, "points": -line.points},
            {"entry_id": entry_id, "account_kind": AccountKind.MEMBER_WALLET.value,
             "member_id": line.member_id, "party_id": None, "points": line.points},
        )])
    lot_ids = _insert_returning_ids(conn, lots, [
        {"member_id": line.member_id, "entry_id": entry_id, "issuer_party_id": issuer_id,
         "points": line.points, "remaining": line.points, "vests_at": line.vests_at,
         "expires_at": line.expires_at, "source_lot_id": None, "created_at": at}
        for line, entry_id in zip(lines, entry_ids, strict=True)])
    deltas: dict[int, int] = {}
    for line in lines:
        deltas[line.member_id] = deltas.get(line.member_id, 0) + line.points
    conn.execute(
        update(member_balances).where(member_balances.c.member_id == bindparam("m"))
        .values(balance=member_balances.c.balance + bindparam("delta"), updated_at=at),
        [{"m": m, "delta": delta} for m, delta in sorted(deltas.items())])
    ids = list(zip(entry_ids, lot_ids, strict=True))
    conn.execute(insert(idempotency_keys), [
        {"scope": scope, "key": b.line.key, "request_hash": b.digest,
         "response": _receipt(b, entry_id, lot_id, booked_at).as_dict(), "created_at": at}
        for b, (entry_id, lot_id) in zip(bookings, ids, strict=True)])
    return ids


def _receipt(booking: Booking, entry_id: int, lot_id: int, booked_at: str) -> Receipt:
    return Receipt(entry_id=entry_id, kind="earn", member_id=booking.line.member_id,
                   points=booking.line.points, booked_at=booked_at, balance=booking.balance,
                   held=booking.held, lot_id=lot_id, debt=0)


def book_earns(conn: Connection, *, issuer_id: int, scope: str, batch_key: str,
               lines: list[BulkLine], at: datetime) -> dict[int, Result]:
    """Book every line it can, in the caller's one transaction; returns index -> Receipt or
    the LedgerError refusing that line. A database error propagates: the caller's transaction
    rolls back whole, so no line is booked (see the module's docstring).

    `scope` is the caller's; line keys are read and written in `lines_scope(scope)`."""
    _claim_batch(conn, scope, batch_key)
    parties.require(conn, issuer_id, "partner", "network", field="issuerId")
    known = _batch_key_known(conn, scope, batch_key)
    line_scope = lines_scope(scope)
    results: dict[int, Result] = {}
    stored = idempotency.stored(conn, line_scope, [line.key for line in lines])
    fresh = []
    for line in lines:
        if line.key in stored:
            results[line.index] = _replayed(conn, line, stored[line.key], issuer_id)
        else:
            fresh.append(line)
    balances = _lock_balances(conn, {line.member_id for line in fresh})
    running = {member_id: row.balance for member_id, row in balances.items()}
    booked: list[Booking] = []
    in_debt: list[BulkLine] = []
    for line in fresh:
        row = balances.get(line.member_id)
        if row is None:
            results[line.index] = MemberNotFound("no member with this id",
                                                 field="memberId")
        elif row.debt:
            in_debt.append(line)  # all of this member's lines: the debt is read once, here
        else:
            running[line.member_id] += line.points
            booked.append(Booking(line, idempotency.request_hash("earn", line.params(issuer_id)),
                                  balance=running[line.member_id], held=row.held))
    if booked:
        booked_at = at.isoformat()
        book = pg_bulk.book if conn.dialect.name == "postgresql" else _book_portably
        ids = book(conn, issuer_id=issuer_id, scope=line_scope, bookings=booked, at=at,
                   booked_at=booked_at)
        for booking, (entry_id, lot_id) in zip(booked, ids, strict=True):
            results[booking.line.index] = _receipt(booking, entry_id, lot_id, booked_at)
    debtors_booked = _book_in_debt(conn, issuer_id, line_scope, in_debt, at, results)
    if not known and (booked or debtors_booked):
        _remember_batch(conn, scope, batch_key, at)  # a batch that books nothing is not remembered
    return results


def _book_in_debt(conn: Connection, issuer_id: int, line_scope: str, lines: list[BulkLine],
                  at: datetime, results: dict[int, Result]) -> int:
    """Lines of members in debt, in input order, each as `ledger.earn` books it (its debt repaid
    first, the same receipt remembered under its key); returns how many were booked."""
    count = 0
    for line in lines:
        try:
            receipt = book_credit(conn, kind="earn", member_id=line.member_id,
                                  issuer_id=issuer_id, points=line.points,
                                  reference=line.reference, details=line.details,
                                  vests_at=line.vests_at, expires_at=line.expires_at, at=at)
        except InvalidInput as refusal:  # raised before this line wrote anything
            results[line.index] = refusal
            continue
        idempotency.remember(conn, line_scope, line.key,
                             idempotency.request_hash("earn", line.params(issuer_id)),
                             receipt.as_dict(), at)
        results[line.index] = receipt
        count += 1
    return count
