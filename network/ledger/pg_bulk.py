"""The batch earn's writes on PostgreSQL: one statement for the whole batch.

Entries, postings, lots, the balance moves and the remembered receipts are one `INSERT … WITH`
statement fed by ONE JSON document (a single string parameter is cheap to send, where psycopg
escapes every element of an array in Python and SQLAlchemy's multi-row VALUES form costs more to
build and parse than the insert itself). Each line draws its entry and lot ids from the tables'
sequences up front, so the postings and the lot name their entry directly and the caller gets the
ids back in input order; the receipt each key remembers is built in SQL with exactly Receipt's
fields, as in `pg_earn`.

The caller (bulk_earn.book_earns, through `stores.EarnStore`) has already locked the members'
balance rows, dropped replays, members in debt and unknown members, and computed each line's
balance after it (`rules.plan_batch`).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, text

from network.ledger.rules import Booking

_BOOK = text("""
    WITH line AS MATERIALIZED (
        SELECT r.*, nextval('journal_entries_id_seq') AS entry_id,
               nextval('lots_id_seq') AS lot_id
        FROM ROWS FROM (json_to_recordset(CAST(:lines AS json)) AS (
                 m bigint, p bigint, r text, d json, v timestamptz, x timestamptz,
                 k text, h text, b bigint, hd bigint))
             WITH ORDINALITY AS r(m, p, r, d, v, x, k, h, b, hd, n)
        ORDER BY r.n
    ), entry AS (
        INSERT INTO journal_entries (id, kind, member_id, party_id, points, reference, details,
                                     booked_at)
        SELECT entry_id, 'earn', m, :party, p, r, d, :at FROM line
    ), posted AS (
        -- Both postings carry the entry's member (the ledger's shard key), the party's too.
        INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
        SELECT line.entry_id, side.kind, line.m, side.party, side.points
        FROM line CROSS JOIN LATERAL (VALUES ('issuance', CAST(:party AS bigint), -line.p),
                                             ('member_wallet', NULL, line.p))
             AS side(kind, party, points)
    ), lot AS (
        INSERT INTO lots (id, member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                          expires_at, created_at)
        SELECT lot_id, m, entry_id, :party, p, p, v, x, :at FROM line
    ), moved AS (
        UPDATE member_balances AS b SET balance = b.balance + t.delta, updated_at = :at
        FROM (SELECT m, sum(p) AS delta FROM line GROUP BY m) AS t
        WHERE b.member_id = t.m
    ), remembered AS (
        INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
        SELECT :scope, k, h, json_build_object(
                   'entry_id', entry_id, 'kind', 'earn', 'member_id', m, 'points', p,
                   'booked_at', CAST(:booked_at AS text), 'balance', b, 'held', hd,
                   'hold_id', NULL, 'lot_id', lot_id, 'debt', 0),
               :at
        FROM line
    )
    SELECT entry_id, lot_id FROM line ORDER BY n
""")


def book(conn: Connection, *, issuer_id: int, scope: str, bookings: list[Booking], at: datetime,
         booked_at: str) -> list[tuple[int, int]]:
    """Write every booking; returns (entry id, lot id) per booking, in order."""
    rows = [{"m": b.line.member_id, "p": b.line.points, "r": b.line.reference,
             "d": b.line.details, "v": b.line.vests_at.isoformat(),
             "x": b.line.expires_at and b.line.expires_at.isoformat(), "k": b.line.key,
             "h": b.digest, "b": b.balance, "hd": b.held}
            for b in bookings]
    result = conn.execute(_BOOK, {"lines": json.dumps(rows, separators=(",", ":")),
                                  "party": issuer_id, "scope": scope, "at": at,
                                  "booked_at": booked_at})
    return [(row.entry_id, row.lot_id) for row in result]
