"""`sources.consumption_totals`, the one GROUP BY a settlement run reads millions of rows with:
on both databases its totals are exactly those of a plain Python fold over the same rows, with a
contract change inside the period (two segments), reversals and kinds settlement sets aside."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from network import ledger
from network.db.schema import consumptions, journal_entries, lots
from settlement.clearing import UNSETTLED_KINDS, ConsumptionTotal
from settlement.sources import consumption_totals
from settlement.terms import Segment
from tests.support import ledger_world as w

START = datetime(2026, 10, 1, tzinfo=UTC)
CUT = datetime(2026, 10, 17, 9, 30, tzinfo=UTC)  # a contract version takes effect here
END = datetime(2026, 11, 1, tzinfo=UTC)


def expected(rows: list[dict[str, object]], segments: list[Segment]) -> list[ConsumptionTotal]:
    sums: dict[tuple[object, ...], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        at = r["booked_at"]
        assert isinstance(at, datetime)
        if not START <= at < END or r["kind"] in UNSETTLED_KINDS:
            continue
        segment = max(s.index for s in segments if s.start <= at)
        key = (r["issuer_party_id"], r["sink_party_id"], r["kind"],
               r["reversal_of_id"] is not None, segment)
        sums[key][0] += int(r["points"])  # type: ignore[call-overload]
        sums[key][1] += 1
    return sorted((ConsumptionTotal(i, s, k, rev, seg, pts, n)  # type: ignore[arg-type]
                   for (i, s, k, rev, seg), (pts, n) in sums.items()), key=order)


def order(t: ConsumptionTotal) -> tuple[object, ...]:
    return (t.issuer_party_id, t.sink_party_id or 0, t.kind, t.reversal, t.segment)


def test_totals_are_the_rows_folded_by_issuer_sink_kind_reversal_and_segment(db):
    cafe, telco = w.partner(db, "cafe"), w.partner(db, "telco")
    trees = w.charity(db, "trees")
    member = w.member(db)
    ledger.earn(db, scope="system", idempotency_key=w.key(), issuer_id=cafe, member_id=member,
                points=10_000, now=START - timedelta(days=40))

    def parents(conn):  # type: ignore[no-untyped-def]
        entry = conn.execute(select(journal_entries.c.id).limit(1)).scalar_one()
        lot = conn.execute(select(lots.c.id).limit(1)).scalar_one()
        return entry, lot

    entry, lot = db.read(parents)
    kinds = [("redemption", telco), ("redemption", cafe), ("donation", trees),
             ("expiry", None), ("transfer", None)]
    rows = []
    for n in range(120):
        kind, sink = kinds[n % len(kinds)]
        reversal = kind == "redemption" and n % 4 == 0
        rows.append({"entry_id": entry, "member_id": member, "lot_id": lot,
                     "issuer_party_id": (cafe, telco)[n % 2], "kind": kind,
                     "sink_party_id": sink, "points": -(n + 1) if reversal else 3 * n + 1,
                     "reversal_of_id": n if reversal else None,
                     # both sides of the cut, one row exactly on it, some outside the period
                     "booked_at": CUT + timedelta(hours=7 * (n - 60))})
    rows.append({**rows[1], "booked_at": CUT})
    db.write(lambda conn: conn.execute(insert(consumptions), rows))

    one = [Segment(0, START, END)]
    two = [Segment(0, START, CUT), Segment(1, CUT, END)]
    for segments in (one, two):
        got = db.read(consumption_totals, segments)
        assert sorted(got, key=order) == expected(rows, segments)
    assert any(t.reversal for t in got) and {t.segment for t in got} == {0, 1}
