"""The wallet's per-member sums, kept up to date by the writers of journal entries.

The wallet shows earned and spent per partner and the points that count for the tier (earned in
a trailing window). Summed from the entries at read time, that read grows with a member's
history; instead every writer adds its entries' effect here in the entry's own transaction:

- `wallet_summary`: earned and spent per (member, party);
- `wallet_earned_days`: points earned per (member, UTC day), so the tier's window sums at most a
  window's days plus the entries of the one day the window starts in (`earned_since`).

Earned counts earns and bonuses net of earn reversals; spent counts redemptions, rewards,
captured holds, donations and lottery tickets net of redemption refunds. Open holds, expiries and
transfers are not spending. The writers: `journal.book` and `portable_bulk.book` call `add`; the
one-statement PostgreSQL writers (pg_writer, pg_debit) carry the same upserts as CTEs built from
`earned_sql`/`spent_sql`. `pointsnet ledger verify` recomputes both tables from the entries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Connection, Date, and_, bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from network.clock import as_utc
from network.db.clauses import in_codes
from network.db.schema import Timestamp, wallet_earned_days, wallet_summary
from network.db.schema import journal_entries as je

# Sign of each kind's points in the two sums; kinds not listed count in neither.
EARNED = {"earn": 1, "bonus": 1, "reverse_earn": -1}
SPENT = {"redeem": 1, "reward": 1, "capture": 1, "reverse_redemption": -1, "donate": 1,
         "lottery": 1}


@dataclass(frozen=True)
class Entry:
    """What the sums need of one journal entry."""
    member_id: int
    party_id: int | None
    kind: str
    points: int
    booked_at: dt.datetime


def day_of(at: dt.datetime) -> dt.date:
    return as_utc(at).date()


def deltas(entries: Iterable[Entry]) -> tuple[dict[tuple[int, int], tuple[int, int]],
                                              dict[tuple[int, dt.date], int]]:
    """The entries' net effect: (earned, spent) per (member, party), earned per (member, day).
    Pure; zero effects are left out (an entry of another kind writes nothing)."""
    parties: dict[tuple[int, int], tuple[int, int]] = {}
    days: dict[tuple[int, dt.date], int] = {}
    for e in entries:
        earned, spent = sides(e.kind, e.points)
        if earned == 0 and spent == 0:
            continue
        if e.party_id is not None:  # the per-partner table names a party
            was = parties.get((e.member_id, e.party_id), (0, 0))
            parties[(e.member_id, e.party_id)] = (was[0] + earned, was[1] + spent)
        if earned:
            key = (e.member_id, day_of(e.booked_at))
            days[key] = days.get(key, 0) + earned
    return parties, days


def _upsert(conn: Connection):  # type: ignore[no-untyped-def]
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)


def add(conn: Connection, entries: Iterable[Entry]) -> None:
    """Add the entries' effect to the sums, in the caller's transaction. Rows in key order, so
    two transactions touching the same members lock their rows in the same order."""
    parties, days = deltas(entries)
    insert = _upsert(conn)
    if parties:
        stmt = insert(wallet_summary)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["member_id", "party_id"],
            set_={"earned": wallet_summary.c.earned + stmt.excluded.earned,
                  "spent": wallet_summary.c.spent + stmt.excluded.spent}),
            [{"member_id": m, "party_id": p, "earned": e, "spent": s}
             for (m, p), (e, s) in sorted(parties.items())])
    if days:
        stmt = insert(wallet_earned_days)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["member_id", "day"],
            set_={"earned": wallet_earned_days.c.earned + stmt.excluded.earned}),
            [{"member_id": m, "day": d, "earned": e} for (m, d), e in sorted(days.items())])


def _signed_sql(signs: dict[str, int], kind: str, points: str) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {'' if s > 0 else '-'}{points}" for k, s in signs.items())
    return f"CASE {kind} {whens} ELSE 0 END"


def earned_sql(kind: str, points: str) -> str:
    """SQL for an entry's earned effect, given SQL for its kind and points (the PostgreSQL
    one-statement writers and `ledger verify` use it, so the rule is written once)."""
    return _signed_sql(EARNED, kind, points)


def spent_sql(kind: str, points: str) -> str:
    return _signed_sql(SPENT, kind, points)


def pg_upserts(source: str, member: str, party: str, earned: str, spent: str, at: str) -> str:
    """Three CTEs (`side`, `summed`, `dayed`, led by a comma) for a PostgreSQL `WITH` statement
    that writes entries: they add the rows of `source` (one per entry; the other arguments are
    SQL over it: `earned`/`spent` from `earned_sql`/`spent_sql`, or parameters the caller set
    from `sides`) to the sums. Grouped, so a batch touches each summary row once, as ON CONFLICT
    requires; `at` is the entries' booking time."""
    return f""", side AS (
        SELECT {member} AS m, {party} AS pa, {earned} AS e, {spent} AS s FROM {source}
    ), summed AS (
        INSERT INTO wallet_summary (member_id, party_id, earned, spent)
        SELECT m, pa, sum(e), sum(s) FROM side WHERE pa IS NOT NULL AND (e <> 0 OR s <> 0)
        GROUP BY m, pa ORDER BY m, pa
        ON CONFLICT (member_id, party_id) DO UPDATE
        SET earned = wallet_summary.earned + EXCLUDED.earned,
            spent = wallet_summary.spent + EXCLUDED.spent
    ), dayed AS (
        INSERT INTO wallet_earned_days (member_id, day, earned)
        SELECT m, CAST(timezone('UTC', CAST({at} AS timestamptz)) AS date), sum(e) FROM side
        WHERE e <> 0 GROUP BY m ORDER BY m
        ON CONFLICT (member_id, day) DO UPDATE
        SET earned = wallet_earned_days.earned + EXCLUDED.earned
    )"""


def sides(kind: str, points: int) -> tuple[int, int]:
    """(earned, spent) of one entry of `kind`."""
    return EARNED.get(kind, 0) * points, SPENT.get(kind, 0) * points


def compact(sql: str) -> str:
    """`sql` without its `--` comments and with each run of whitespace made one space: shorter
    to send on every execution, and within the length psycopg caches its placeholder parse
    for (network/db/engine.HOT_STATEMENT_LENGTH). Only for SQL with no literal holding `--` or
    runs of spaces (the writers' statements pass their values as parameters)."""
    return " ".join(re.sub(r"--[^\n]*", "", sql).split())


# Points earned after `since`: whole days after since's day from wallet_earned_days, and the
# entries of since's own day booked after it (exact, and bounded by one day's entries).
MEMBER = bindparam("member_id", type_=BigInteger)
_SINCE = bindparam("since", type_=Timestamp)
_SINCE_DAY = bindparam("since_day", type_=Date)
_NEXT_DAY = bindparam("next_day", type_=Timestamp)
_DAYS = (select(func.coalesce(func.sum(wallet_earned_days.c.earned), 0))
         .where(wallet_earned_days.c.member_id == MEMBER, wallet_earned_days.c.day > _SINCE_DAY)
         .scalar_subquery())
_EDGE = (select(func.coalesce(func.sum(
            case(*((je.c.kind == k, s * je.c.points) for k, s in EARNED.items()), else_=0)), 0))
         .where(and_(je.c.member_id == MEMBER, je.c.booked_at > _SINCE,
                     je.c.booked_at < _NEXT_DAY, in_codes(je.c.kind, EARNED)))
         .scalar_subquery())
EARNED_SINCE = _DAYS + _EDGE  # a column expression; bind it with `since_params`


def since_params(member_id: int, since: dt.datetime) -> dict[str, object]:
    day = day_of(since)
    return {"member_id": member_id, "since": since, "since_day": day,
            "next_day": dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)}


def earned_since(conn: Connection, member_id: int, since: dt.datetime) -> int:
    """Points earned after `since`, net of reversals (may be negative)."""
    return int(conn.execute(select(EARNED_SINCE), since_params(member_id, since)).scalar_one())
