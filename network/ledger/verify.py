"""`pointsnet ledger verify`: every invariant of the ledger, checked over the whole database.

Each check is one set-based query that returns the offending rows, so the whole run costs a few
table scans and can follow every concurrency test. The invariants:

1. every journal entry has postings, they sum to zero, and each carries the entry's member (and
   every posting has its entry), every entry's member and party exist, every lot's entry exists
   and is its member's and its issuer exists, and every consumption's entry and lot exist and
   belong to its member, and every campaign award's campaign and funder exist;
2. each member's running balance and held points equal the sums of their postings;
3. each member's lots (debt lots negative) equal the balance, and open hold allocations equal held;
4. every lot is conserved: points = remaining + consumed + held by allocations (positive lots), and
   remaining = points + repaid (debt lots);
5. the consumptions of each entry equal the points it spent (kind by kind);
6. the debt column equals the member's open debt lots, and a balance is negative only by that debt;
7. an authorised hold's allocations equal its points, a closed hold has none.
8. the wallet's sums (earned/spent per party, earned per day) equal the entries'.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from network.db.engine import Database
from network.ledger import summary

LIMIT = 20  # offending rows reported per check; the count says how many there are in all

# Points an entry of each kind takes out of positive lots (sum of its non-debt consumption rows).
_SPENT_BY_KIND = """
    CASE e.kind
      WHEN 'redeem' THEN e.points WHEN 'donate' THEN e.points WHEN 'expire' THEN e.points
      WHEN 'capture' THEN e.points WHEN 'transfer_out' THEN e.points WHEN 'lottery' THEN e.points
      WHEN 'gift_out' THEN e.points WHEN 'reward' THEN e.points
      WHEN 'reverse_redemption' THEN -e.points
      WHEN 'reverse_earn' THEN e.points + COALESCE(
          (SELECT SUM(d.points) FROM lots d WHERE d.entry_id = e.id AND d.points < 0), 0)
      ELSE 0 END
"""

# An entry's UTC day, as network/ledger/summary.py buckets it (SQLite stores UTC text).
_DAY_OF_BOOKED_AT = {"postgresql": "CAST(timezone('UTC', booked_at) AS date)",
                     "sqlite": "date(booked_at)"}

CHECKS: dict[str, str] = {
    "entry postings sum to zero": """
        SELECT e.id, COALESCE(SUM(p.points), 0) AS total, COUNT(p.id) AS n
        FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
        GROUP BY e.id HAVING COALESCE(SUM(p.points), 0) <> 0 OR COUNT(p.id) = 0
    """,
    # No foreign key holds a posting to its entry (issue 21: the writers insert both together),
    # so this names a posting whose entry is missing (entry_member NULL) as well.
    "posting belongs to its entry's member": """
        SELECT p.id, p.entry_id, p.member_id, e.member_id AS entry_member
        FROM postings p LEFT JOIN journal_entries e ON e.id = p.entry_id
        WHERE e.id IS NULL OR p.member_id <> e.member_id
    """,
    # No foreign key holds an entry to its party (issue 21, migration 0031: the partner's row
    # was locked by every redemption at that partner), so verify names an entry whose party is
    # missing.
    "entry names an existing party": """
        SELECT e.id, e.kind, e.party_id FROM journal_entries e
        LEFT JOIN parties p ON p.id = e.party_id
        WHERE e.party_id IS NOT NULL AND p.id IS NULL
    """,
    # Nor an entry to its member (migration 0037: the key locked the member's row per entry).
    "entry's member exists": """
        SELECT e.id, e.kind, e.member_id FROM journal_entries e
        LEFT JOIN members m ON m.id = e.member_id
        WHERE m.id IS NULL
    """,
    # Nor a lot to its entry and its issuer (migration 0037: the writers insert the lot with
    # its entry, from the issuer they checked): a missing entry, one of another member (so the
    # lot's member exists as the entry's does), or a missing issuer is named here.
    "lot belongs to its entry's member": """
        SELECT l.id, l.member_id, l.entry_id, e.member_id AS entry_member
        FROM lots l LEFT JOIN journal_entries e ON e.id = l.entry_id
        WHERE e.id IS NULL OR e.member_id <> l.member_id
    """,
    "lot names an existing issuer": """
        SELECT l.id, l.entry_id, l.issuer_party_id FROM lots l
        LEFT JOIN parties p ON p.id = l.issuer_party_id
        WHERE p.id IS NULL
    """,
    # Nor a consumption to its entry and its lot (migration 0031: the writers insert all three
    # together): a missing entry or lot, or one of another member, is named here.
    "consumption belongs to its entry's and lot's member": """
        SELECT c.id, c.member_id, c.entry_id, e.member_id AS entry_member, c.lot_id,
               l.member_id AS lot_member
        FROM consumptions c
        LEFT JOIN journal_entries e ON e.id = c.entry_id
        LEFT JOIN lots l ON l.id = c.lot_id
        WHERE e.id IS NULL OR e.member_id <> c.member_id
           OR l.id IS NULL OR l.member_id <> c.member_id
    """,
    # Nor a campaign award to its campaign and its funder (migration 0038: each key locked a
    # row every programme earn shares): an award whose campaign (a tier effect's has none) or
    # funder is missing is named here. Its entry keeps its key (belongs_to).
    "award names an existing campaign": """
        SELECT a.id, a.entry_id, a.campaign_id FROM campaign_awards a
        LEFT JOIN campaigns c ON c.id = a.campaign_id
        WHERE a.campaign_id IS NOT NULL AND c.id IS NULL
    """,
    "award names an existing funder": """
        SELECT a.id, a.entry_id, a.funder_party_id FROM campaign_awards a
        LEFT JOIN parties p ON p.id = a.funder_party_id
        WHERE p.id IS NULL
    """,
    "member balance equals wallet postings": """
        SELECT b.member_id, b.balance, COALESCE(s.total, 0) AS postings
        FROM member_balances b LEFT JOIN (
            SELECT member_id, SUM(points) AS total FROM postings
            WHERE account_kind = 'member_wallet' GROUP BY member_id) s
          ON s.member_id = b.member_id
        WHERE b.balance <> COALESCE(s.total, 0)
    """,
    "member held equals hold postings": """
        SELECT b.member_id, b.held, COALESCE(s.total, 0) AS postings
        FROM member_balances b LEFT JOIN (
            SELECT member_id, SUM(points) AS total FROM postings
            WHERE account_kind = 'member_hold' GROUP BY member_id) s
          ON s.member_id = b.member_id
        WHERE b.held <> COALESCE(s.total, 0)
    """,
    "member lots equal balance": """
        SELECT b.member_id, b.balance, COALESCE(s.total, 0) AS lots
        FROM member_balances b LEFT JOIN (
            SELECT member_id, SUM(remaining) AS total FROM lots GROUP BY member_id) s
          ON s.member_id = b.member_id
        WHERE b.balance <> COALESCE(s.total, 0)
    """,
    "hold allocations equal held": """
        SELECT b.member_id, b.held, COALESCE(s.total, 0) AS allocated
        FROM member_balances b LEFT JOIN (
            SELECT member_id, SUM(points) AS total FROM hold_allocations GROUP BY member_id) s
          ON s.member_id = b.member_id
        WHERE b.held <> COALESCE(s.total, 0)
    """,
    "positive lot conserved": """
        SELECT l.id, l.points, l.remaining, COALESCE(c.total, 0) AS consumed,
               COALESCE(a.total, 0) AS allocated
        FROM lots l
        LEFT JOIN (SELECT lot_id, SUM(points) AS total FROM consumptions GROUP BY lot_id) c
          ON c.lot_id = l.id
        LEFT JOIN (SELECT lot_id, SUM(points) AS total FROM hold_allocations GROUP BY lot_id) a
          ON a.lot_id = l.id
        WHERE l.points > 0
          AND l.points <> l.remaining + COALESCE(c.total, 0) + COALESCE(a.total, 0)
    """,
    "debt lot conserved": """
        SELECT l.id, l.points, l.remaining, COALESCE(c.total, 0) AS repaid
        FROM lots l LEFT JOIN (
            SELECT debt_lot_id, SUM(points) AS total FROM consumptions
            WHERE debt_lot_id IS NOT NULL GROUP BY debt_lot_id) c ON c.debt_lot_id = l.id
        WHERE l.points < 0 AND l.remaining <> l.points + COALESCE(c.total, 0)
    """,
    "entry consumptions equal points spent": f"""
        SELECT e.id, e.kind, COALESCE(c.total, 0) AS consumed, {_SPENT_BY_KIND} AS expected
        FROM journal_entries e LEFT JOIN (
            SELECT entry_id, SUM(points) AS total FROM consumptions
            WHERE debt_lot_id IS NULL GROUP BY entry_id) c ON c.entry_id = e.id
        WHERE COALESCE(c.total, 0) <> {_SPENT_BY_KIND}
    """,
    "debt equals open debt lots": """
        SELECT b.member_id, b.debt, COALESCE(-s.total, 0) AS debt_lots
        FROM member_balances b LEFT JOIN (
            SELECT member_id, SUM(remaining) AS total FROM lots WHERE points < 0
            GROUP BY member_id) s ON s.member_id = b.member_id
        WHERE b.debt <> COALESCE(-s.total, 0)
    """,
    "negative balance only by debt": """
        SELECT member_id, balance, held, debt FROM member_balances
        WHERE held < 0 OR debt < 0 OR balance < -debt
    """,
    "lot remaining within its points": """
        SELECT id, points, remaining FROM lots
        WHERE (points > 0 AND (remaining < 0 OR remaining > points))
           OR (points < 0 AND (remaining > 0 OR remaining < points)) OR points = 0
    """,
    # The wallet's sums (network/ledger/summary.py) equal a recomputation from the entries; a
    # difference of zero in a missing row is no difference.
    "wallet summary equals entries": f"""
        SELECT member_id, party_id, SUM(earned) AS earned_off, SUM(spent) AS spent_off FROM (
            SELECT member_id, party_id, earned, spent FROM wallet_summary
            UNION ALL
            SELECT member_id, party_id, -({summary.earned_sql("kind", "points")}),
                   -({summary.spent_sql("kind", "points")})
            FROM journal_entries WHERE party_id IS NOT NULL) d
        GROUP BY member_id, party_id HAVING SUM(earned) <> 0 OR SUM(spent) <> 0
    """,
    "wallet earned days equal entries": f"""
        SELECT member_id, day, SUM(earned) AS earned_off FROM (
            SELECT member_id, day, earned FROM wallet_earned_days
            UNION ALL
            SELECT member_id, {{day_of_booked_at}},
                   -({summary.earned_sql("kind", "points")}) FROM journal_entries) d
        GROUP BY member_id, day HAVING SUM(earned) <> 0
    """,
    "hold allocations match hold": """
        SELECT h.id, h.status, h.points, COALESCE(a.total, 0) AS allocated
        FROM holds h LEFT JOIN (
            SELECT hold_id, SUM(points) AS total FROM hold_allocations GROUP BY hold_id) a
          ON a.hold_id = h.id
        WHERE (h.status = 'authorized' AND COALESCE(a.total, 0) <> h.points)
           OR (h.status <> 'authorized' AND COALESCE(a.total, 0) <> 0)
    """,
}


@dataclass(frozen=True)
class Violation:
    check: str
    count: int
    examples: list[dict[str, object]]

    def __str__(self) -> str:
        shown = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in self.examples)
        return f"{self.check}: {self.count} violation(s): {shown}"


def _run_checks(conn: Connection) -> list[Violation]:
    found: list[Violation] = []
    day = _DAY_OF_BOOKED_AT[conn.dialect.name]
    for name, sql in CHECKS.items():
        rows = conn.execute(text(sql.replace("{day_of_booked_at}", day))).mappings().all()
        if rows:
            found.append(Violation(name, len(rows), [dict(r) for r in rows[:LIMIT]]))
    return found


def verify(db: Database) -> list[Violation]:
    """All violations; an empty list means the ledger is sound."""
    return db.read(_run_checks)
