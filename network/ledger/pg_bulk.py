"""PostgreSQL statements for the batch earn: one `INSERT … SELECT FROM json_to_recordset(…)` per
table.

All rows travel as ONE JSON document per statement: a single string parameter is cheap to send,
where psycopg escapes every element of a text array in Python and SQLAlchemy's multi-row VALUES
form costs more to build and parse than the insert itself. Ids come from the table's sequence in
insertion order, and rows are inserted in input order (ORDER BY ordinality), so sorting the
returned ids gives them back in input order.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from network.ledger.accounts import AccountKind

if TYPE_CHECKING:
    from network.ledger.bulk_earn import BulkLine

_ENTRIES = text("""
    INSERT INTO journal_entries (kind, member_id, party_id, points, reference, details, booked_at)
    SELECT 'earn', r.m, :party, r.p, r.r, r.d, :at
    FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS (m bigint, p bigint, r text, d json))
         WITH ORDINALITY AS r(m, p, r, d, n)
    ORDER BY r.n
    RETURNING id
""")

_POSTINGS = text("""
    INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
    SELECT r.e, r.k, r.m, r.pa, r.p
    FROM json_to_recordset(CAST(:rows AS json)) AS r(e bigint, k text, m bigint, pa bigint,
                                                     p bigint)
""")

_LOTS = text("""
    INSERT INTO lots (member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                      expires_at, created_at)
    SELECT r.m, r.e, :party, r.p, r.p, r.v, r.x, :at
    FROM ROWS FROM (json_to_recordset(CAST(:rows AS json))
                    AS (m bigint, e bigint, p bigint, v timestamptz, x timestamptz))
         WITH ORDINALITY AS r(m, e, p, v, x, n)
    ORDER BY r.n
    RETURNING id
""")

_BALANCES = text("""
    UPDATE member_balances SET balance = member_balances.balance + r.d, updated_at = :at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(m bigint, d bigint)
    WHERE member_balances.member_id = r.m
""")

_IDEMPOTENCY = text("""
    INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
    SELECT r.s, r.k, r.h, r.r, :at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(s text, k text, h text, r json)
""")


def _rows(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=str)


def insert_entries(conn: Connection, party_id: int, lines: list[BulkLine],
                   at: datetime) -> list[int]:
    rows = [{"m": line.member_id, "p": line.points, "r": line.reference, "d": line.details}
            for line in lines]
    ids = conn.execute(_ENTRIES, {"party": party_id, "at": at, "rows": _rows(rows)})
    return sorted(ids.scalars().all())


def insert_postings(conn: Connection, party_id: int, lines: list[BulkLine],
                    entry_ids: list[int]) -> None:
    rows = []
    for line, entry_id in zip(lines, entry_ids, strict=True):
        # Every posting carries its entry's member (the ledger's shard key), party ones too.
        rows.append({"e": entry_id, "k": AccountKind.ISSUANCE.value, "m": line.member_id,
                     "pa": party_id, "p": -line.points})
        rows.append({"e": entry_id, "k": AccountKind.MEMBER_WALLET.value, "m": line.member_id,
                     "pa": None, "p": line.points})
    conn.execute(_POSTINGS, {"rows": _rows(rows)})


def insert_lots(conn: Connection, party_id: int, lines: list[BulkLine], entry_ids: list[int],
                at: datetime) -> list[int]:
    rows = [{"m": line.member_id, "e": entry_id, "p": line.points,
             "v": line.vests_at.isoformat(), "x": line.expires_at.isoformat()}
            for line, entry_id in zip(lines, entry_ids, strict=True)]
    ids = conn.execute(_LOTS, {"party": party_id, "at": at, "rows": _rows(rows)})
    return sorted(ids.scalars().all())


def update_balances(conn: Connection, deltas: dict[int, int], at: datetime) -> None:
    rows = [{"m": member_id, "d": deltas[member_id]} for member_id in sorted(deltas)]
    conn.execute(_BALANCES, {"at": at, "rows": _rows(rows)})


def insert_idempotency(conn: Connection, rows: list[dict[str, Any]], at: datetime) -> None:
    payload = [{"s": r["scope"], "k": r["key"], "h": r["request_hash"], "r": r["response"]}
               for r in rows]
    conn.execute(_IDEMPOTENCY, {"at": at, "rows": _rows(payload)})
