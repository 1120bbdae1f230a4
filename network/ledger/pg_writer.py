"""The earn's writes on PostgreSQL: one statement, built once, for one earn or a whole batch.

An earn is balance move + entry + two postings + lot + remembered receipt. Run as separate
statements through SQLAlchemy that is six round trips and most of a millisecond of client CPU
per earn; here it is ONE `INSERT … WITH` statement. Both forms are built by `_statement` from the
same parts: a `line` relation (one row per earn, with its entry and lot ids drawn from the
tables' sequences up front, so the postings and the lot name their entry directly and the
caller gets the ids back in input order) and the shared writes below it. Only where the lines
come from differs:

- `earn_statement`, a single earn, the hub's hottest write: the line is the request's own
  parameters, sent through `Database.pg_statement` (autocommit: the statement is its own
  atomic transaction, prepared on the server). It claims the idempotency key itself, as
  `network.idempotency.claim` does (a transaction-scoped advisory lock on the key, held to the
  end of the statement, and the stored answer, in one snapshot), and moves the balance only when
  the member owes no debt and the issuer may issue. Otherwise it writes nothing and answers "not
  handled" (None), and `earning.earn` books the earn through the writer's general way
  (`stores.EarnWriter.book`), which handles all of those and names the error. If another earn
  with the key commits after our snapshot, our insert into idempotency_keys fails on its primary
  key, the whole statement rolls back, and the general way replays the stored answer.
- `book`, a batch's lines without debt or programme parts, inside the batch's transaction: the
  lines are ONE JSON document (a single string parameter is cheap to send, where psycopg escapes
  every element of an array in Python and SQLAlchemy's multi-row VALUES form costs more to build
  and parse than the insert itself). The caller (`stores.EarnWriter.book`) has locked the
  members' balance rows, dropped replays, members in debt and unknown members, and computed each
  line's balance after it (`rules.plan_batch`).

The receipt each key remembers is built in SQL with exactly Receipt's fields (tests compare it
with the receipt of the general way for the same earn), so a replay returns what the first call
returned.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.numeric import Int8
from sqlalchemy import Connection

from network import idempotency
from network.ledger import summary
from network.ledger.errors import IdempotencyInProgress
from network.ledger.receipts import Receipt
from network.ledger.rules import Booking

# The writes every earn makes, from `line` (columns: m member, party, kind, p points, r
# reference, d details, v vests, x expires, k key, h request hash, b balance after, hd held,
# entry_id, lot_id) and the parameters at, booked_at and scope. Both postings carry the entry's
# member (the ledger's shard key), the issuance one the party too.
_WRITES = """
    entry AS (
        INSERT INTO journal_entries (id, kind, member_id, party_id, points, reference, details,
                                     booked_at)
        SELECT entry_id, kind, m, party, p, r, d, %(at)s FROM line
    ), posted AS (
        INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
        SELECT line.entry_id, side.kind, line.m, side.party, side.points
        FROM line CROSS JOIN LATERAL (VALUES ('issuance', line.party, -line.p),
                                             ('member_wallet', NULL, line.p))
             AS side(kind, party, points)
    ), lot AS (
        INSERT INTO lots (id, member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                          expires_at, created_at)
        SELECT lot_id, m, entry_id, party, p, p, v, x, %(at)s FROM line
    ), remembered AS (
        INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
        SELECT %(scope)s, k, h, json_build_object(
                   'entry_id', entry_id, 'kind', kind, 'member_id', m, 'points', p,
                   'booked_at', CAST(%(booked_at)s AS text), 'balance', b, 'held', hd,
                   'hold_id', NULL, 'lot_id', lot_id, 'debt', 0),
               %(at)s
        FROM line
        RETURNING response
    )""" + summary.pg_upserts("line", "m", "party", summary.earned_sql("kind", "p"),
                           summary.spent_sql("kind", "p"), "%(at)s")

_IDS = "nextval('journal_entries_id_seq') AS entry_id, nextval('lots_id_seq') AS lot_id"


def _statement(lines: str, answer: str) -> str:
    """`WITH <lines>, <the shared writes> <answer>`: `lines` defines the `line` relation (and
    whatever it needs before it), `answer` is the final SELECT."""
    return f"WITH {lines},{_WRITES}\n    {answer}"


# One earn: claim the key, move the balance (only for a member without debt and an issuer that
# may issue: otherwise `moved`, and so `line`, is empty and nothing is written), then the writes.
_ONE = _statement("""
    claim AS MATERIALIZED (
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
        RETURNING b.balance, b.held
    ), line AS MATERIALIZED (
        SELECT CAST(%(member)s AS bigint) AS m, CAST(%(issuer)s AS bigint) AS party,
               CAST(%(kind)s AS text) AS kind, CAST(%(points)s AS bigint) AS p,
               CAST(%(reference)s AS text) AS r, CAST(%(details)s AS json) AS d,
               CAST(%(vests)s AS timestamptz) AS v, CAST(%(expires)s AS timestamptz) AS x,
               CAST(%(key)s AS text) AS k, CAST(%(digest)s AS text) AS h,
               moved.balance AS b, moved.held AS hd, """ + _IDS + """
        FROM moved
    )""", """SELECT claim.locked, claim.request_hash, claim.response AS stored,
           remembered.response AS new
    FROM claim LEFT JOIN remembered ON true""")

# A batch's lines: from the JSON document, in input order; one balance move per member.
_MANY = summary.compact(_statement("""
    line AS MATERIALIZED (
        SELECT r.*, CAST(%(party)s AS bigint) AS party, """ + _IDS + """
        FROM ROWS FROM (json_to_recordset(CAST(%(lines)s AS json)) AS (
                 m bigint, kind text, p bigint, r text, d json, v timestamptz, x timestamptz,
                 k text, h text, b bigint, hd bigint))
             WITH ORDINALITY AS r(m, kind, p, r, d, v, x, k, h, b, hd, n)
        ORDER BY r.n
    ), moved AS (
        UPDATE member_balances AS b SET balance = b.balance + t.delta, updated_at = %(at)s
        FROM (SELECT m, sum(p) AS delta FROM line GROUP BY m) AS t
        WHERE b.member_id = t.m
    )""", "SELECT entry_id, lot_id FROM line ORDER BY n"))



@functools.lru_cache(maxsize=8)
def _one(guard: str) -> str:
    """The one-earn statement with the observers' guard (network/ledger/observers.py: "true"
    when nobody observes this earn; false makes it book nothing and hand the earn to `book`)."""
    return summary.compact(_ONE.replace("{guard}", guard))


# Conflicts that mean "someone else got there first": the general way sorts them out.
_HAND_OVER = (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
              psycopg.errors.DeadlockDetected)


def earn_statement(statement: Callable[[str, Mapping[str, Any]], Any], *, scope: str, key: str,
                   digest: str, kind: str, issuer_id: int, member_id: int, points: int,
                   reference: str | None, details: dict[str, Any] | None, vests_at: datetime,
                   expires_at: datetime | None, at: datetime, booked_at: str,
                   guard: str = "true",
                   guard_params: Mapping[str, Any] | None = None) -> Receipt | None:
    """Book the earn, or replay it; None when the general way must handle it (`guard`, an SQL
    condition over `guard_params`, is false: someone observes this earn, observers.py)."""
    # Int8: psycopg types a Python int by its size; one type keeps one prepared statement.
    params = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope, "key": key,
              "digest": digest, "kind": kind, "issuer": Int8(issuer_id),
              "member": Int8(member_id), "points": Int8(points), "reference": reference,
              "details": json.dumps(details), "vests": vests_at, "expires": expires_at,
              "at": at, "booked_at": booked_at, **(guard_params or {})}
    try:
        row = statement(_one(guard), params)
    except _HAND_OVER:
        return None
    if not row.locked:
        raise IdempotencyInProgress(
            "a request with this idempotency key is still being processed; retry shortly",
            field="idempotencyKey")
    if row.request_hash is not None:
        return Receipt.from_dict(idempotency.check_replay(row.request_hash, digest, row.stored))
    return Receipt.from_dict(row.new) if row.new is not None else None


def book(conn: Connection, *, issuer_id: int, scope: str, bookings: list[Booking], at: datetime,
         booked_at: str) -> list[tuple[int, int]]:
    """Write every booking; returns (entry id, lot id) per booking, in order."""
    rows = [{"m": b.line.member_id, "kind": b.line.kind, "p": b.line.points,
             "r": b.line.reference, "d": b.line.details, "v": b.vests_at.isoformat(),
             "x": b.expires_at and b.expires_at.isoformat(), "k": b.line.key, "h": b.digest,
             "b": b.balance, "hd": b.held}
            for b in bookings]
    result = conn.exec_driver_sql(_MANY, {"lines": json.dumps(rows, separators=(",", ":")),
                                          "party": issuer_id, "scope": scope, "at": at,
                                          "booked_at": booked_at})
    return [(row.entry_id, row.lot_id) for row in result]
