"""The earn seam for a batch (`earn_batch`): the same plan step and retry rule as one earn
(`earning.plan_lines`), then every line booked in one transaction by the database's earn writer.

One `ledger.earn` per line costs a transaction and about eight round trips, which caps a 1,000-line
batch at a few hundred lines per second. Here the writer (`db.earn_store.book`,
network/ledger/stores.py) covers the whole batch with a few statements: one lookup of keys
already used, one lock query for the members' balance rows (ascending id, like
`balances.lock_many`), then the writes, which on PostgreSQL are a single statement. Each line is
booked exactly as `ledger.earn` books it (same entry, postings, lot and receipt, same idempotency
record), so `pointsnet ledger verify` holds and a later replay of a single line through the
ledger sees the same stored answer.

Members in debt or with programme parts are booked line by line (`credit.book_credit`, which
repays the debt lots first), a few statements per line, but in this same transaction: a batch is
booked whole or not at all. A database error at any stage (a lock timeout on a debtor's lot, say)
rolls every line back, so the error its caller answers is true ("nothing written"), and a retry
under the same key books the batch once. Lines refused on their own (unknown member, a key reused
for another request, a lot that would expire before it vests) are refused before anything is
written for them.

Keys: the batch's own key is remembered in the caller's scope, so that a single operation reusing
it is IDEMPOTENCY_KEY_REUSED (and a batch reusing a single operation's key is refused whole).
Each line's key (`<key>#<index>`) lives in a scope of its own (`lines_scope`): the caller's own
keys may contain `#`, and a partner's single earn under `Z#0` must not replay, or block, line 0
of batch `Z`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, text

from network import idempotency, parties
from network.db.engine import Database
from network.db.schema import idempotency_keys
from network.ledger import observers
from network.ledger.earning import plan_lines
from network.ledger.errors import IdempotencyInProgress, IdempotencyKeyReused, LedgerError
from network.ledger.receipts import Receipt
from network.ledger.rules import BulkLine, L, Plan
from network.ledger.stores import EarnWriter

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
    planned = plan_lines(db, scope=lines_scope(scope), issuer_id=issuer_id, lines=keyed,
                         plan=plan, now=now)
    bulk: list[BulkLine] = []
    for key, (index, _) in keyed.items():
        outcome = planned[key]
        if isinstance(outcome, BulkLine):
            bulk.append(outcome)
        else:
            results[index] = outcome
    if bulk:
        listeners = observers.listening(scope, "earn")

        def book(conn: Connection) -> dict[int, Result]:
            booked = book_earns(conn, store=db.earn_store, issuer_id=issuer_id, scope=scope,
                                batch_key=batch_key, lines=bulk, at=now, listeners=listeners)
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


def book_earns(conn: Connection, *, store: EarnWriter, issuer_id: int, scope: str,
               batch_key: str, lines: list[BulkLine], at: datetime,
               listeners: Sequence[observers.Listener] = ()) -> dict[int, Result]:
    """Book every line it can, in the caller's one transaction; returns index -> Receipt or
    the LedgerError refusing that line. A database error propagates: the caller's transaction
    rolls back whole, so no line is booked (see the module's docstring). `listeners`
    (observers.py) hear of each line booked now, in input order, in this same transaction.

    `scope` is the caller's; line keys are read and written in `lines_scope(scope)`."""
    _claim_batch(conn, scope, batch_key)
    parties.require(conn, issuer_id, "partner", "network", field="issuerId")
    known = _batch_key_known(conn, scope, batch_key)
    booked = store.book(conn, issuer_id=issuer_id, scope=lines_scope(scope), lines=lines, at=at)
    if not known and booked.new:
        _remember_batch(conn, scope, batch_key, at)  # a batch that books nothing is not remembered
    if listeners and booked.fresh:
        by_index = {line.index: line for line in lines}
        observers.tell(conn, list(listeners), lambda: [observers.Booking(
            scope=scope, operation="earn", answer=receipt.as_dict(),
            reference=by_index[index].reference, at=at)
            for index in booked.fresh
            if isinstance(receipt := booked.results[index], Receipt)])
    return booked.results
