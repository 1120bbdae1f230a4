"""A redemption or donation on PostgreSQL in one call: the debit of a member with many lots.

The general path (`spending.book_debit` through SQLAlchemy) sends about a dozen statements:
claim, party, lock, the FIFO read, one UPDATE per lot taken, entry, postings, consumptions,
balance, receipt. Here the database function `ledger_debit` (migration 0034_debit_function,
where each step is described) writes the same rows in one statement: the key's advisory lock and
stored answer, the member's lock, the FIFO walk over the lots it takes and no others (one index
probe per lot, stopping at the lot that covers the amount; the function runs with sorting off,
migration 0036_debit_walk_plan, so the planner keeps to that index once `lots` has statistics),
the entry, its postings, one consumption per lot, the balance, the stored receipt and the
wallet's sums. On its own (a redemption, a donation) it is one autocommit statement
(`Database.pg_statement`): one round trip, no BEGIN nor COMMIT; a purchase sends it inside its
own transaction (network/programme/pg_buy.py).

The function writes nothing when the member is blocked (network/member_blocks.py: read after the
member's lock, so a block that commits first is never overtaken), when a partner's webhook
listens (observers.py: the observers' guard is an argument of the call, evaluated by the
statement that calls it), when the sink is not a party of the right kind, when the lots cannot
cover the amount (it answers how many points they hold), or on a replay.

The FIFO rule is `rules.fifo`: earliest expiry first, never-expiring last, ties by lot id, each
lot giving `min(remaining, points still owed)`. The function computes exactly that (a test books
the same debits both ways and compares lots, consumptions and receipts:
tests/network/test_ledger_pg_debit.py). Whatever the common case does not cover (no such member,
no such party, a blocked member, a conflict on the key) hands over to the general path, which
names the error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.numeric import Int8

from network import idempotency
from network.ledger import summary
from network.ledger.errors import IdempotencyInProgress, InsufficientPoints
from network.ledger.receipts import Receipt

# The function's arguments in its order (infra/migrations/versions/0034_debit_function.py); the
# last, whether someone observes the debit, is the observers' guard negated.
ARGUMENTS = ("lock_key", "scope", "key", "digest", "kind", "consumption_kind", "account",
              "sink", "sink_kind", "member", "points", "reference", "at", "booked_at",
              "earned", "spent")


@functools.lru_cache(maxsize=8)
def _call(guard: str) -> str:
    """The call with the observers' guard (network/ledger/observers.py): "true" when nobody
    observes this debit; false makes the function book nothing and hand the debit to the
    general path, whose transaction has room for the observer's writes. The guard is read in
    the calling statement's snapshot, taken when the request reaches the database, as the
    one-statement earn reads it (pg_writer)."""
    # One function call and nothing else in the statement: the form Citus delegates whole to
    # the member's node (infra/distribution.py, FUNCTIONS).
    return summary.compact(
        "SELECT ledger_debit(" + ", ".join(f"%({name})s" for name in ARGUMENTS)
        + f", {observed(guard)}) AS debit")


# Conflicts that mean "someone else got there first" (a key inserted by a writer that takes no
# advisory lock; the function's own guard on a lot): the general path sorts them out.
_HAND_OVER = (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
              psycopg.errors.DeadlockDetected)


class _HandOver(Exception):
    """Roll the transaction back and let the general path book (or refuse) the debit."""


Execute = Callable[[str, Mapping[str, Any]], Any]
# Runs `body(execute)` in a transaction: the debit alone as one autocommit statement
# (`spending`: `body(db.pg_statement)`), or inside a purchase's transaction (pg_buy).
Transaction = Callable[[Callable[[Execute], Receipt]], Receipt]


def replayed(row: Any) -> bool:
    """Whether the call's row is a stored answer given again (pg_buy books nothing more then)."""
    return bool(row.debit["outcome"] == "replay")


# The errors `receipt_of` raises when the function wrote nothing the caller can answer with.
HAND_OVER = (*_HAND_OVER, _HandOver)


def arguments(*, scope: str, key: str, digest: str, kind: str, consumption_kind: str,
              account: str, sink_id: int, sink_kind: str, member_id: int, points: int,
              reference: str | None, at: datetime, booked_at: str,
              guard_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The call's parameters (`ARGUMENTS`, and the guard's), for `ledger_debit` and for the
    purchase's `reward_buy`, which passes them on."""
    params = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope,
              "key": key, "digest": digest, "kind": kind, "consumption_kind": consumption_kind,
              "account": account, "sink": Int8(sink_id), "sink_kind": sink_kind,
              "member": Int8(member_id), "points": Int8(points), "reference": reference,
              "at": at, "booked_at": booked_at, **(guard_params or {})}
    params["earned"], params["spent"] = (Int8(x) for x in summary.sides(kind, points))
    return params


def observed(guard: str) -> str:
    """The function's last argument, whether someone observes the debit: the observers' guard
    (network/ledger/observers.py) negated, "false" when nobody does."""
    return "false" if guard == "true" else f"NOT ({guard})"


def receipt_of(debit: Mapping[str, Any], digest: str, points: int) -> Receipt:
    """The receipt of the function's answer (booked, or a replay of the same request), or the
    error it means; HAND_OVER's `_HandOver` when it wrote nothing (the general path decides)."""
    outcome = debit["outcome"]
    if outcome == "booked":
        return Receipt.from_dict(debit["response"])
    if outcome == "replay":
        return Receipt.from_dict(
            idempotency.check_replay(debit["request_hash"], digest, debit["response"]))
    if outcome == "short":
        raise InsufficientPoints(
            f"the member has {debit['spendable']} spendable points; {points} were asked "
            "for", field="points")
    if outcome == "in_progress":
        raise IdempotencyInProgress(
            "a request with this idempotency key is still being processed; retry shortly",
            field="idempotencyKey")
    raise _HandOver  # "hand_over": the function wrote nothing


def try_debit(transaction: Transaction, *, scope: str, key: str, digest: str, kind: str,
              consumption_kind: str, account: str, sink_id: int, sink_kind: str,
              member_id: int, points: int, reference: str | None, at: datetime,
              booked_at: str, guard: str = "true",
              guard_params: Mapping[str, Any] | None = None) -> Receipt | None:
    """Book the debit, replay it, or refuse it for want of points; None: the general path must
    handle it (no such member, a blocked member, no such sink, an observer, a conflict)."""
    params = arguments(scope=scope, key=key, digest=digest, kind=kind,
                       consumption_kind=consumption_kind, account=account, sink_id=sink_id,
                       sink_kind=sink_kind, member_id=member_id, points=points,
                       reference=reference, at=at, booked_at=booked_at,
                       guard_params=guard_params)

    def body(execute: Execute) -> Receipt:
        return receipt_of(execute(_call(guard), params).debit, digest, points)

    try:
        return transaction(body)
    except HAND_OVER:
        return None
