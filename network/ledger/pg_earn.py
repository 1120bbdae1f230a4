"""The earn on PostgreSQL in one statement and one round trip: the hub's hottest write.

An earn is idempotency claim + balance move + entry + two postings + lot + remembered receipt.
Run as separate statements inside BEGIN … COMMIT through SQLAlchemy, that is seven round trips
and most of a millisecond of client CPU per earn; here it is one statement (`Database.pg_statement`,
which the caller passes as `statement`: autocommit, so the statement is its own atomic
transaction, prepared on the server).

The statement only does the common case. It writes nothing and answers "not handled" when the
member owes a debt (later credits repay it first: `lots.repay_debts`), when the member or the
issuer does not exist, or when it loses a race on the idempotency key; `earning.earn` then runs
the general path, which handles all of those and names the error.

Idempotency is the same as `network.idempotency.claim`: a transaction-scoped advisory lock on
the key (held to the end of this statement) and the stored answer, in one snapshot. If another
earn with the key commits after our snapshot, our insert into idempotency_keys fails on its
primary key, the whole statement rolls back, and the general path replays the stored answer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.numeric import Int8

from network import idempotency
from network.ledger.errors import IdempotencyInProgress
from network.ledger.receipts import Receipt

# The receipt is built in SQL with exactly Receipt's fields (tests compare it with the general
# path's receipt for the same earn), so a replay returns what the first call returned.
_EARN = """
    WITH claim AS MATERIALIZED (
        SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS locked, k.request_hash, k.response
        FROM (SELECT 1) AS one
        LEFT JOIN idempotency_keys AS k ON k.scope = %(scope)s AND k.key = %(key)s
    ), moved AS (
        UPDATE member_balances AS b
        SET balance = b.balance + %(points)s, updated_at = %(at)s
        FROM claim, parties AS issuer
        WHERE b.member_id = %(member)s AND b.debt = 0
          AND claim.locked AND claim.request_hash IS NULL
          AND issuer.id = %(issuer)s AND issuer.kind IN ('partner', 'network')
          AND {guard}
        RETURNING b.balance, b.held, b.debt
    ), entry AS (
        INSERT INTO journal_entries (kind, member_id, party_id, points, reference, details,
                                     booked_at)
        SELECT %(kind)s, %(member)s, %(issuer)s, %(points)s, %(reference)s,
               CAST(%(details)s AS json), %(at)s
        FROM moved RETURNING id
    ), posted AS (
        INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
        SELECT id, 'issuance', %(member)s, %(issuer)s, -%(points)s FROM entry
        UNION ALL
        SELECT id, 'member_wallet', %(member)s, NULL, %(points)s FROM entry
    ), lot AS (
        INSERT INTO lots (member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                          expires_at, created_at)
        SELECT %(member)s, id, %(issuer)s, %(points)s, %(points)s, %(vests)s, %(expires)s, %(at)s
        FROM entry RETURNING id
    ), remembered AS (
        INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
        SELECT %(scope)s, %(key)s, %(digest)s, json_build_object(
                   'entry_id', entry.id, 'kind', CAST(%(kind)s AS text), 'member_id', %(member)s,
                   'points', %(points)s, 'booked_at', CAST(%(booked_at)s AS text),
                   'balance', moved.balance,
                   'held', moved.held, 'hold_id', NULL, 'lot_id', lot.id, 'debt', moved.debt),
               %(at)s
        FROM moved, entry, lot
        RETURNING response
    )
    SELECT claim.locked, claim.request_hash, claim.response AS stored, remembered.response AS new
    FROM claim LEFT JOIN remembered ON true
"""



@functools.lru_cache(maxsize=8)
def _earn_sql(guard: str) -> str:
    """The statement with the observers' guard (network/ledger/observers.py: "true" when nobody
    observes this earn; false makes it book nothing and hand the earn to the general path)."""
    return _EARN.replace("{guard}", guard)


# Conflicts that mean "someone else got there first": the general path sorts them out.
_HAND_OVER = (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
              psycopg.errors.DeadlockDetected)


def try_earn(statement: Callable[[str, Mapping[str, Any]], Any], *, scope: str, key: str,
             digest: str, kind: str, issuer_id: int, member_id: int, points: int,
             reference: str | None, details: dict[str, Any] | None, vests_at: datetime,
             expires_at: datetime | None, at: datetime, booked_at: str, guard: str = "true",
             guard_params: Mapping[str, Any] | None = None) -> Receipt | None:
    """Book the earn, or replay it; None when the general path must handle it (`guard`, an SQL
    condition over `guard_params`, is false: someone observes this earn, observers.py)."""
    # Int8: psycopg types a Python int by its size; one type keeps one prepared statement.
    params = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope, "key": key,
              "digest": digest, "kind": kind, "issuer": Int8(issuer_id),
              "member": Int8(member_id), "points": Int8(points), "reference": reference,
              "details": json.dumps(details), "vests": vests_at, "expires": expires_at,
              "at": at, "booked_at": booked_at, **(guard_params or {})}
    try:
        row = statement(_earn_sql(guard), params)
    except _HAND_OVER:
        return None
    if not row.locked:
        raise IdempotencyInProgress(
            "a request with this idempotency key is still being processed; retry shortly",
            field="idempotencyKey")
    if row.request_hash is not None:
        return Receipt.from_dict(idempotency.check_replay(row.request_hash, digest, row.stored))
    return Receipt.from_dict(row.new) if row.new is not None else None
