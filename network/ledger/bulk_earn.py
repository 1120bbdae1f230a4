"""The earn seam for a batch (`earn_batch`): the same plan step and retry rule as one earn
(`earning.plan_lines`), then every line booked in one transaction, with set-based statements.

One `ledger.earn` per line costs a transaction and about eight round trips, which caps a 1,000-line
batch at a few hundred lines per second. Here every statement covers the whole batch: one lookup of
keys already used, one lock query for the members' balance rows (ascending id, like
`balances.lock_many`), then the writes, which on PostgreSQL are a single statement
(`pg_bulk.book`; elsewhere `portable_bulk.book`: `db.earn_store` says which). Each line is booked
exactly as `ledger.earn` books it (same entry, postings, lot and receipt, same idempotency
record), so `pointsnet ledger verify` holds and a later replay of a single line through the
ledger sees the same stored answer.

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

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from network import idempotency, parties
from network.db.clauses import one_of
from network.db.engine import Database
from network.db.schema import idempotency_keys, member_balances
from network.ledger.earning import book_credit, plan_lines
from network.ledger.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    MemberNotFound,
)
from network.ledger.receipts import Receipt
from network.ledger.rules import (
    BulkLine,
    Credit,
    L,
    Plan,
    checked_vesting,
    plan_batch,
    receipt_of,
)
from network.ledger.stores import EarnStore

# What the batch's own key remembers. Every batch under one key is the same request at this level
# (a retry re-tries the lines that failed: each line's own key decides), any other operation is not.
BATCH_REQUEST = idempotency.request_hash("earn_batch", {})

Result = Receipt | LedgerError


def lines_scope(scope: str) -> str:
    """The scope of a batch's line keys (see the module's docstring)."""
    return f"{scope}:lines"


def line_key(batch_key: str, index: int) -> str:
    return f"{batch_key}#{index}"


def earn_batch(db: Database, *, scope: str, batch_key: str, issuer_id: int,
               lines: Sequence[L | LedgerError], plan: Plan[L], now: datetime,
               on_booked: Callable[[Connection, list[int]], object] | None = None,
               ) -> dict[int, Result]:
    """index -> Receipt or the LedgerError refusing that line, for every line.

    Lines the caller could not even read arrive as the LedgerError to report for them. The rest
    are planned with `plan` (a line it refuses answers as its key first answered, if it booked),
    then booked together (`book_earns`): a database error propagates with nothing booked.
    `on_booked` runs in the booking transaction with the members whose lines booked (the
    programme raises referral conversions there), so it commits with them or not at all.
    """
    results: dict[int, Result] = {}
    keyed: dict[str, tuple[int, L]] = {}
    for index, line in enumerate(lines):
        if isinstance(line, LedgerError):
            results[index] = line
        else:
            keyed[line_key(batch_key, index)] = (index, line)
    planned = plan_lines(db, scope=lines_scope(scope), issuer_id=issuer_id,
                         lines={key: line for key, (_, line) in keyed.items()}, plan=plan,
                         now=now)
    bulk: list[BulkLine] = []
    for key, (index, line) in keyed.items():
        outcome = planned[key]
        if isinstance(outcome, Credit):
            bulk.append(BulkLine(index, key, line.member_id, outcome.points,
                                 outcome.vests_at or now, outcome.expires_at, line.reference,
                                 line.details, line.request, outcome.extras))
        else:
            results[index] = outcome
    if bulk:
        def book(conn: Connection) -> dict[int, Result]:
            booked = book_earns(conn, store=db.earn_store, issuer_id=issuer_id, scope=scope,
                                batch_key=batch_key, lines=bulk, at=now)
            if on_booked is not None:
                on_booked(conn, sorted({r.member_id for r in booked.values()
                                        if isinstance(r, Receipt)}))
            return booked

        results.update(db.write(book))
    return results


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
        idempotency.observe_replay()  # one per line, as a single earn's replay is one
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


def book_earns(conn: Connection, *, store: EarnStore, issuer_id: int, scope: str,
               batch_key: str, lines: list[BulkLine], at: datetime) -> dict[int, Result]:
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
    locked = _lock_balances(conn, {line.member_id for line in fresh})
    # Members with a line the programme adds to take the general path for all their lines, in
    # input order (their extras are claimed under the lock, and receipts' balances stay true).
    programme = {line.member_id for line in fresh if line.extras is not None}
    general = [line for line in fresh if line.member_id in programme]
    plan = plan_batch([line for line in fresh if line.member_id not in programme], locked,
                      lambda line: idempotency.request_hash("earn", line.params(issuer_id)))
    results.update(plan.refused)
    for line in general:
        if line.member_id not in locked:
            results[line.index] = MemberNotFound("no member with this id", field="memberId")
    general = sorted([*plan.in_debt, *(line for line in general if line.member_id in locked)],
                     key=lambda line: line.index)
    if plan.bookings:
        booked_at = at.isoformat()
        ids = store.book_batch(conn, issuer_id=issuer_id, scope=line_scope,
                               bookings=plan.bookings, at=at, booked_at=booked_at)
        for booking, (entry_id, lot_id) in zip(plan.bookings, ids, strict=True):
            results[booking.line.index] = receipt_of(booking, entry_id, lot_id, booked_at)
    debtors_booked = _book_in_debt(conn, issuer_id, line_scope, general, at, results)
    if not known and (plan.bookings or debtors_booked):
        _remember_batch(conn, scope, batch_key, at)  # a batch that books nothing is not remembered
    return results


def _book_in_debt(conn: Connection, issuer_id: int, line_scope: str, lines: list[BulkLine],
                  at: datetime, results: dict[int, Result]) -> int:
    """Lines of members in debt or with programme extras, in input order, each as `ledger.earn`
    books it (debt repaid first, extras claimed under the lock, the same receipt remembered
    under its key); returns how many were booked."""
    count = 0
    for line in lines:
        try:
            vests = checked_vesting(line.vests_at, line.expires_at, at)
        except InvalidInput as refusal:  # before this line wrote anything
            results[line.index] = refusal
            continue
        receipt = book_credit(conn, kind="earn", member_id=line.member_id, issuer_id=issuer_id,
                              points=line.points, reference=line.reference,
                              details=line.details, vests_at=vests, expires_at=line.expires_at,
                              at=at, extras=line.extras)
        idempotency.remember(conn, line_scope, line.key,
                             idempotency.request_hash("earn", line.params(issuer_id)),
                             receipt.as_dict(), at)
        results[line.index] = receipt
        count += 1
    return count
