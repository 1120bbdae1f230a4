"""Reading a period's inputs from the ledger: aggregated in SQL, never row by row.

One GROUP BY over the consumptions booked in [start, end) gives a few thousand totals from
millions of rows (PostgreSQL uses the booked_at index and a parallel hash aggregate). The
segment of a row (which contract versions apply) is a CASE on booked_at, so a contract change
inside the month costs nothing extra. The query names no consumption kind: every kind is grouped
(a few rows more) and the kinds settlement does not clear are set aside here, so the scan costs
the same whatever kinds the programme adds (infra/bench/settlement_preview.py holds it within
1.5x of a bare GROUP BY issuer, sink). Reversal rows are the negative redemption rows the
ledger writes with `reversal_of_id` set.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, case, func, select

from network.db.schema import consumptions, journal_entries, parties, postings
from partners import contracts
from settlement.clearing import UNSETTLED_KINDS, ConsumptionTotal
from settlement.controls import consumption_bucket
from settlement.terms import ContractTerms, Segment


def consumption_totals(conn: Connection, segments: list[Segment]) -> list[ConsumptionTotal]:
    c = consumptions.c
    start, end = segments[0].start, segments[-1].end
    # The segment is a grouping key only when a contract changes inside the period: a constant
    # key still costs a hash input per row.
    keys = [c.issuer_party_id, c.sink_party_id, c.kind]
    if len(segments) > 1:
        keys.append(case(*[(c.booked_at >= s.start, s.index) for s in reversed(segments[1:])],
                         else_=0).label("segment"))
    reversal = c.reversal_of_id.is_not(None)
    # All rows and the reversal rows among them, originals by difference: one filter to test per
    # row instead of three, and a smaller hash key than grouping by reversal-or-not.
    query = (
        select(*keys, func.sum(c.points).label("points"), func.count().label("rows"),
               func.sum(c.points).filter(reversal).label("reversed_points"),
               func.count(c.reversal_of_id).label("reversed_rows"))
        .where(c.booked_at >= start, c.booked_at < end)
        .group_by(*keys)
    )
    out: list[ConsumptionTotal] = []
    for r in conn.execute(query):
        if r.kind in UNSETTLED_KINDS:
            continue
        segment = int(r.segment) if len(segments) > 1 else 0
        reversed_points = int(r.reversed_points or 0)
        if r.rows > r.reversed_rows:
            out.append(ConsumptionTotal(r.issuer_party_id, r.sink_party_id, r.kind, False,
                                        segment, int(r.points) - reversed_points,
                                        r.rows - r.reversed_rows))
        if r.reversed_rows:
            out.append(ConsumptionTotal(r.issuer_party_id, r.sink_party_id, r.kind, True,
                                        segment, reversed_points, int(r.reversed_rows)))
    return out


def contract_terms(conn: Connection, until: datetime) -> list[ContractTerms]:
    """Every contract version that took effect before `until` (older ones are still needed
    when they are the version in force at the period's start), read through the partners' one
    mapper of stored terms."""
    return [ContractTerms(party_id, effective_from, t.clearing_price_per_point,
                          t.network_fee_bps, t.donation_value_per_point,
                          t.breakage_price_per_point, t.own_redemption_fee_per_point)
            for party_id, effective_from, t in contracts.versions_before(conn, until)]


def party_kinds(conn: Connection) -> dict[int, str]:
    return {r.id: r.kind for r in conn.execute(select(parties.c.id, parties.c.kind))}


def ledger_points(conn: Connection, start: datetime, end: datetime) -> dict[str, int]:
    """The ledger's own view: points credited to redemption, donation and expiry accounts by
    entries booked in the period (negative redemption postings are reversals)."""
    p, j = postings.c, journal_entries.c
    negative = p.points < 0
    query = (
        select(p.account_kind, negative.label("negative"), func.sum(p.points))
        .select_from(postings.join(journal_entries, j.id == p.entry_id))
        .where(and_(j.booked_at >= start, j.booked_at < end),
               p.account_kind.in_(("redemption", "donation", "expiry")))
        .group_by(p.account_kind, negative)
    )
    out: dict[str, int] = {}
    for kind, is_negative, points in conn.execute(query):
        bucket = consumption_bucket(kind, bool(is_negative))
        out[bucket] = out.get(bucket, 0) + int(points)
    return out
