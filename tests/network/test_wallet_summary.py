"""The wallet's sums (network/ledger/summary.py) equal a recomputation from the journal after a
mixed workload through every writer, on both databases; the wallet and the tier read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from network import ledger
from network.clock import as_utc
from network.db.engine import Database
from network.db.schema import journal_entries, wallet_earned_days, wallet_summary
from network.ledger import summary
from network.ledger.bulk_earn import earn_batch
from network.ledger.rules import Credit
from network.ledger.verify import verify
from network.programme import tier_facts, tiers_store
from network.wallet import totals
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    """A batch line as the earn seam reads it: the member, and what identifies the request."""
    member_id: int
    reference: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def request(self) -> dict[str, int]:
        return {"member": self.member_id}


def _stored(db: Database) -> tuple[dict, dict]:
    def read(conn):  # type: ignore[no-untyped-def]
        parties = {(r.member_id, r.party_id): (r.earned, r.spent)
                   for r in conn.execute(select(wallet_summary))}
        days = {(r.member_id, r.day): r.earned for r in conn.execute(select(wallet_earned_days))
                if r.earned != 0}
        return parties, days
    return db.read(read)


def _recomputed(db: Database) -> tuple[dict, dict]:
    rows = db.read(lambda c: c.execute(select(journal_entries)).all())
    parties, days = summary.deltas(
        summary.Entry(r.member_id, r.party_id, r.kind, r.points, as_utc(r.booked_at))
        for r in rows)
    return parties, {k: v for k, v in days.items() if v != 0}


def test_every_writer_keeps_the_sums_equal_to_the_entries(db: Database) -> None:
    cafe, shop, kids = w.partner(db, "cafe"), w.partner(db, "shop"), w.charity(db, "kids")
    ann, bob = w.member(db), w.member(db)

    def earn(member: int, issuer: int, points: int, at: datetime) -> ledger.Receipt:
        return ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=issuer,
                           member_id=member, points=points, expires_at=T0 + timedelta(days=40),
                           now=at)

    first = earn(ann, cafe, 500, T0)
    earn(ann, shop, 300, T0 + timedelta(hours=13))  # the next UTC day
    earn(bob, cafe, 80, T0)
    earn_batch(db, scope="p", batch_key="b-1", issuer_id=shop,
               lines=[Line(ann), Line(bob), Line(ann)], plan=lambda line: Credit(25),
               now=T0 + timedelta(days=1))
    ledger.award_bonus(db, scope="p", idempotency_key=w.key(), member_id=ann, points=40,
                       reason="birthday", now=T0 + timedelta(days=1))
    spent = ledger.redeem(db, scope="p", idempotency_key=w.key(), partner_id=shop, member_id=ann,
                          points=120, now=T0 + timedelta(days=2))
    ledger.donate(db, scope="p", idempotency_key=w.key(), member_id=ann, charity_id=kids,
                  points=30, now=T0 + timedelta(days=2))
    hold = ledger.authorize_hold(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                                 member_id=ann, points=70, now=T0 + timedelta(days=3))
    ledger.capture_hold(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                        hold_id=hold.hold_id, points=50, now=T0 + timedelta(days=3))  # type: ignore[arg-type]
    voided = ledger.authorize_hold(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                                   member_id=ann, points=10, now=T0 + timedelta(days=3))
    ledger.void_hold(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                     hold_id=voided.hold_id, now=T0 + timedelta(days=3))  # type: ignore[arg-type]
    ledger.reverse_redemption(db, scope="p", idempotency_key=w.key(), partner_id=shop,
                              entry_id=spent.entry_id, points=20, now=T0 + timedelta(days=4))
    ledger.reverse_earn(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                        entry_id=first.entry_id, points=100, now=T0 + timedelta(days=4))
    ledger.transfer(db, scope="p", idempotency_key=w.key(), from_member_id=ann, to_member_id=bob,
                    points=15, allowed=True, now=T0 + timedelta(days=5))
    assert ledger.expire_due(db, now=T0 + timedelta(days=41)).points > 0

    stored, recomputed = _stored(db), _recomputed(db)
    assert stored == recomputed
    assert stored[0][(ann, cafe)] == (500 - 100, 50)  # earn less reversal; the capture
    assert stored[0][(ann, shop)] == (300 + 50, 120 - 20)  # earn and two batch lines; redeemed
    assert stored[0][(ann, kids)] == (0, 30)
    assert stored[1][(ann, T0.date() + timedelta(days=1))] == 300 + 50 + 40
    assert verify(db) == []


def test_the_wallet_reads_the_sums_and_the_tier_window_starts_inside_a_day(db: Database) -> None:
    cafe, ann = w.partner(db, "cafe"), w.member(db)
    for hours in (0, 2, 4, 30):  # three earns on T0's day, one the day after
        ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=cafe, member_id=ann,
                    points=10 ** (hours % 5 + 1) if hours < 30 else 7,
                    now=T0 + timedelta(hours=hours))
    # 10 at 12:00, 1,000 at 14:00, 100,000 at 16:00 on T0's day; 7 the next day.
    since = T0 + timedelta(hours=1)  # between the first and the second earn, on their day
    assert db.read(lambda c: summary.earned_since(c, ann, since)) == 1_000 + 100_000 + 7
    assert db.read(lambda c: summary.earned_since(c, ann, T0 - timedelta(seconds=1))) == 101_017
    assert db.read(lambda c: summary.earned_since(c, ann, T0 + timedelta(hours=5))) == 7
    # A batch's standings read the window the same way: the first day's entries after its start.
    window = timedelta(days=30)
    for start, points in ((since, 101_007), (T0 + timedelta(hours=5), 7)):
        read = db.read(lambda c, at=start + window: tiers_store.standings(c, [ann], at, window))
        assert read == {ann: (None, points)}
    now = since + tier_facts.tiers.window(tier_facts.tiers.DEFINITIONS)
    assert db.read(lambda c: tier_facts.earned_in_window(c, ann, now)) == 101_007
    done = db.read(lambda c: totals.activity(c, ann, now))
    assert done.tier_points == 101_007
    assert [(t.party.id, t.earned, t.spent) for t in done.partners] == [(cafe, 101_017, 0)]
    # A member with nothing yet reads an empty table and no tier points.
    bob = w.member(db)
    empty = db.read(lambda c: totals.activity(c, bob, now))
    assert (empty.partners, empty.tier_points) == ([], 0)


def test_the_one_statement_writers_stay_short_enough_for_psycopg_to_cache_their_parse() -> None:
    import psycopg._queries

    from network.db import engine
    from network.ledger import pg_debit, pg_writer
    from partners import nonces
    assert psycopg._queries.MAX_CACHED_STATEMENT_LENGTH == engine.HOT_STATEMENT_LENGTH
    # the plain earn, every shape of the programme's, with the nonce claim, by id or by card
    shapes = (None, (False, False), (True, False), (False, True), (True, True))
    for statement in ([pg_writer._one("true", shape, claim, by_card) for shape in shapes
                       for claim in (None, nonces.IN_STATEMENT) for by_card in (False, True)]
                      + [pg_writer._MANY, pg_debit._call("true")]):
        assert "--" not in statement
        assert len(statement) <= engine.HOT_STATEMENT_LENGTH
