"""A redemption or donation on PostgreSQL in two statements: the debit of a member with many lots.

The general path (`spending.book_debit` through SQLAlchemy) sends about a dozen statements:
claim, party, lock, the FIFO read, one UPDATE per lot taken, entry, postings, consumptions,
balance, receipt. Here the same rows are written by two prepared statements in one transaction
(`Database.pg_transaction`), so a debit costs little more than a TPC-B transaction whatever the
number of open lots:

1. `_CLAIM`: the idempotency key's advisory lock and stored answer (as `idempotency.claim`),
   and the member's balance row locked FOR UPDATE. It must be a statement of its own: at READ
   COMMITTED a statement that waits for a lock keeps the snapshot it started with, and the lots
   must be read in a snapshot taken once the member's lock is ours (every write to a member's
   lots holds that lock).
2. `_BOOK`: the FIFO walk over the member's spendable lots (one probe of the ordered partial
   index on open lots per lot taken, stopping at the lot that covers the amount), then
   set-based: one UPDATE of the lots taken, the entry, its two postings, one consumption per
   lot, the balance, the stored receipt. It writes nothing when the member is blocked
   (network/member_blocks.py: read in this snapshot, after the lock, so a block that commits
   first is never overtaken), when a partner's webhook listens (observers.py), when the sink
   is not a party of the right kind, when the lots cannot cover the amount (it answers how
   many points they hold), or on a replay.

The FIFO rule is `rules.fifo`: earliest expiry first, never-expiring last, ties by lot id, each
lot giving `min(remaining, points still owed)`. `_BOOK` computes exactly that in SQL (a test books
the same debits both ways and compares lots, consumptions and receipts:
tests/network/test_ledger_pg_debit.py). Whatever the common case does not cover (no such member,
no such party, a conflict on the key) hands over to the general path, which names the error.
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

_CLAIM = """
    SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS locked, k.request_hash, k.response,
           b.member_id IS NOT NULL AS member_found
    FROM (SELECT 1) AS one
    LEFT JOIN idempotency_keys AS k ON k.scope = %(scope)s AND k.key = %(key)s
    LEFT JOIN LATERAL (SELECT member_id FROM member_balances
                       WHERE member_id = %(member)s FOR UPDATE) AS b ON true
"""

# `walk` steps through the member's spendable lots in FIFO order one index probe at a time
# (ix_lots_member_open: member, expiry, id, open lots only) and stops at the lot that covers the
# amount, so a debit reads the lots it takes and no others however many lots are open. Its seed is
# a lot that is not there, sitting just after every lot expired by `at` (expiry `at`, the largest
# id), so the first step starts at the first unexpired lot. A step looks first for the next
# expiring lot after the previous one and, only once those are used up, for the never-expiring
# ones (NULL expiry, last in FIFO order, by id). `before`: the points of the lots before this one.
# `taken` fetches the lots taken by their ids (`id = ANY`), and names their member through
# `plan`, not as a constant: with the constant the planner read all the member's lots, spent ones
# included, and with the join alone the whole lots table while it looked small, to hash-join the
# few taken (tests/network/test_ledger_pg_debit.py counts the lot rows a debit reads).
_BOOK = """
    WITH RECURSIVE walk (id, issuer_party_id, remaining, expires_at, before) AS (
        SELECT CAST(9223372036854775807 AS bigint), CAST(NULL AS bigint), CAST(0 AS bigint),
               CAST(%(at)s AS timestamptz), CAST(0 AS bigint)
        UNION ALL
        SELECT next.id, next.issuer_party_id, next.remaining, next.expires_at,
               walk.before + walk.remaining
        FROM walk CROSS JOIN LATERAL (
            (SELECT id, issuer_party_id, remaining, expires_at FROM lots
             WHERE member_id = %(member)s AND remaining > 0 AND walk.expires_at IS NOT NULL
               AND (expires_at, id) > (walk.expires_at, walk.id) AND vests_at <= %(at)s
             ORDER BY expires_at, id LIMIT 1)
            UNION ALL
            (SELECT id, issuer_party_id, remaining, expires_at FROM lots
             WHERE member_id = %(member)s AND remaining > 0 AND expires_at IS NULL
               AND (walk.expires_at IS NOT NULL OR id > walk.id) AND vests_at <= %(at)s
             ORDER BY id LIMIT 1)
            LIMIT 1
        ) AS next
        WHERE walk.before + walk.remaining < %(points)s
    ), covering AS MATERIALIZED (
        SELECT id, CAST(%(member)s AS bigint) AS member_id, issuer_party_id, before,
               CAST(least(remaining, %(points)s - before) AS bigint) AS take
        FROM walk WHERE issuer_party_id IS NOT NULL
    ), status AS MATERIALIZED (
        SELECT EXISTS (SELECT 1 FROM parties WHERE id = %(sink)s AND kind = %(sink_kind)s)
                   AS sink_found,
               (SELECT coalesce(sum(take), 0) FROM covering) AS spendable,
               NOT EXISTS (SELECT 1 FROM idempotency_keys
                           WHERE scope = %(scope)s AND key = %(key)s) AS fresh,
               NOT EXISTS (SELECT 1 FROM member_blocks WHERE member_id = %(member)s)
                   AS unblocked,
               {guard} AS unobserved
    ), plan AS MATERIALIZED (
        SELECT covering.* FROM covering, status
        WHERE status.sink_found AND status.fresh AND status.unblocked AND status.unobserved
          AND status.spendable = %(points)s
    ), taken AS (
        UPDATE lots AS l SET remaining = l.remaining - plan.take
        FROM plan WHERE l.id = ANY (ARRAY(SELECT id FROM plan)) AND l.id = plan.id
          AND l.member_id = plan.member_id AND l.remaining >= plan.take
        RETURNING l.id
    ), moved AS (
        UPDATE member_balances AS b
        SET balance = b.balance - %(points)s, updated_at = %(at)s
        WHERE b.member_id = %(member)s AND EXISTS (SELECT 1 FROM plan)
        RETURNING b.balance, b.held, b.debt
    ), entry AS (
        INSERT INTO journal_entries (kind, member_id, party_id, points, reference, booked_at)
        SELECT %(kind)s, %(member)s, %(sink)s, %(points)s, %(reference)s, %(at)s
        FROM moved RETURNING id
    ), posted AS (
        INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
        SELECT id, 'member_wallet', %(member)s, NULL, -%(points)s FROM entry
        UNION ALL
        SELECT id, %(account)s, %(member)s, %(sink)s, %(points)s FROM entry
    ), consumed AS (
        INSERT INTO consumptions (entry_id, member_id, lot_id, issuer_party_id, kind,
                                  sink_party_id, points, booked_at)
        SELECT entry.id, %(member)s, plan.id, plan.issuer_party_id, %(consumption_kind)s,
               %(sink)s, plan.take, %(at)s
        FROM entry, plan ORDER BY plan.before
        RETURNING 1
    ), remembered AS (
        INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
        SELECT %(scope)s, %(key)s, %(digest)s, json_build_object(
                   'entry_id', entry.id, 'kind', CAST(%(kind)s AS text), 'member_id', %(member)s,
                   'points', %(points)s, 'booked_at', CAST(%(booked_at)s AS text),
                   'balance', moved.balance, 'held', moved.held, 'hold_id', NULL,
                   'lot_id', NULL, 'debt', moved.debt),
               %(at)s
        FROM moved, entry
        RETURNING response
    )""" + summary.pg_upserts("moved", "CAST(%(member)s AS bigint)", "CAST(%(sink)s AS bigint)",
                           "CAST(%(earned)s AS bigint)", "CAST(%(spent)s AS bigint)",
                           "%(at)s") + """
    SELECT status.sink_found, status.fresh, status.unblocked, status.unobserved,
           status.spendable,
           (SELECT count(*) FROM plan) AS planned, (SELECT count(*) FROM taken) AS taken,
           (SELECT count(*) FROM consumed) AS consumed, remembered.response AS new
    FROM status LEFT JOIN remembered ON true
"""



@functools.lru_cache(maxsize=8)
def _book(guard: str) -> str:
    """`_BOOK` with the observers' guard (network/ledger/observers.py): "true" when nobody
    observes this debit; false makes it book nothing and hand the debit to the general path,
    whose transaction has room for the observer's writes."""
    return summary.compact(_BOOK.replace("{guard}", guard))


# Conflicts that mean "someone else got there first": the general path sorts them out.
_HAND_OVER = (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
              psycopg.errors.DeadlockDetected)


class _HandOver(Exception):
    """Roll the transaction back and let the general path book (or refuse) the debit."""


Transaction = Callable[[Callable[[Callable[[str, Mapping[str, Any]], Any]], Any]], Any]


def try_debit(transaction: Transaction, *, scope: str, key: str, digest: str, kind: str,
              consumption_kind: str, account: str, sink_id: int, sink_kind: str,
              member_id: int, points: int, reference: str | None, at: datetime,
              booked_at: str, guard: str = "true",
              guard_params: Mapping[str, Any] | None = None) -> Receipt | None:
    """Book the debit, replay it, or refuse it for want of points; None: the general path must
    handle it (no such member, a blocked member, no such sink, an observer, a conflict)."""
    params = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope,
              "key": key, "digest": digest, "kind": kind, "consumption_kind": consumption_kind,
              "account": account, "sink": Int8(sink_id), "sink_kind": sink_kind,
              "member": Int8(member_id), "points": Int8(points), "reference": reference,
              "at": at, "booked_at": booked_at, **(guard_params or {})}
    params["earned"], params["spent"] = (Int8(x) for x in summary.sides(kind, points))

    def body(execute: Callable[[str, Mapping[str, Any]], Any]) -> Receipt:
        claim = execute(_CLAIM, params)
        if not claim.locked:
            raise IdempotencyInProgress(
                "a request with this idempotency key is still being processed; retry shortly",
                field="idempotencyKey")
        if claim.request_hash is not None:
            return Receipt.from_dict(
                idempotency.check_replay(claim.request_hash, digest, claim.response))
        if not claim.member_found:
            raise _HandOver
        row = execute(_book(guard), params)
        if not (row.sink_found and row.fresh and row.unblocked and row.unobserved):
            raise _HandOver
        if row.new is None:
            raise InsufficientPoints(
                f"the member has {row.spendable} spendable points; {points} were asked for",
                field="points")
        if not row.planned == row.taken == row.consumed:
            # Cannot happen while every write to a member's lots holds the member's lock; if
            # it ever did, nothing of this debit is kept and the general path decides.
            raise _HandOver
        return Receipt.from_dict(row.new)

    try:
        return transaction(body)
    except (_HandOver, *_HAND_OVER):
        return None
