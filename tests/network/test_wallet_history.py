"""The history read model against the ledger: every kind of entry, its wallet effect equal to
its postings, reversal links both ways, keyset paging, per-partner totals and the tier."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select

from network import ledger
from network.db.engine import Database
from network.db.schema import journal_entries, postings
from network.programme import tier_facts, tiers
from network.wallet import history, totals, view
from network.wallet.errors import WalletError
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

T0 = ww.T0
DAY = dt.timedelta(days=1)


@pytest.fixture
def booked(db: Database) -> dict[str, int]:
    """One member with an entry of every kind the ledger writes."""
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    mahak = w.charity(db, "mahak")
    sara, ali = ww.enrol(db, email="s@example.com"), ww.enrol(db, email="a@example.com")
    at = iter(T0 + i * dt.timedelta(hours=1) for i in range(100))

    def scope(p: int) -> dict[str, object]:
        return {"scope": f"partner:{p}", "idempotency_key": w.key(), "now": next(at)}

    first = ww.earn(db, cafe, sara, 1000, at=next(at), expires_in=40 * DAY, reference="E-1")
    ledger.award_bonus(db, scope="system", idempotency_key=w.key(), member_id=sara, points=50,
                       reason="welcome", expires_at=T0 + 400 * DAY, now=next(at))
    redeem = ledger.redeem(db, partner_id=shop, member_id=sara, points=200, reference="R-1",
                           **scope(shop))
    ledger.reverse_redemption(db, partner_id=shop, entry_id=redeem.entry_id, points=50,
                              **scope(shop))
    hold = ledger.authorize_hold(db, partner_id=cafe, member_id=sara, points=300, **scope(cafe))
    ledger.capture_hold(db, partner_id=cafe, hold_id=hold.hold_id, points=120, **scope(cafe))
    second = ledger.authorize_hold(db, partner_id=cafe, member_id=sara, points=40, **scope(cafe))
    ledger.void_hold(db, partner_id=cafe, hold_id=second.hold_id, **scope(cafe))
    ledger.reverse_earn(db, partner_id=cafe, entry_id=first.entry_id, points=100, **scope(cafe))
    ledger.donate(db, scope=f"member:{sara}", idempotency_key=w.key(), member_id=sara,
                  charity_id=mahak, points=60, now=next(at))
    ledger.transfer(db, scope="system", idempotency_key=w.key(), from_member_id=sara,
                    to_member_id=ali, points=10, allowed=True, now=next(at))
    ledger.transfer(db, scope="system", idempotency_key=w.key(), from_member_id=ali,
                    to_member_id=sara, points=5, allowed=True, now=next(at))
    ledger.expire_due(db, now=T0 + 41 * DAY)
    return {"sara": sara, "cafe": cafe, "shop": shop, "mahak": mahak, "first": first.entry_id,
            "redeem": redeem.entry_id}


def test_every_kind_shows_exactly_what_its_postings_moved(db, booked):
    page = db.read(history.page, booked["sara"], first=100)
    kinds = {e.kind for e in page.entries}
    assert kinds == {"earn", "bonus", "redeem", "reverse_redemption", "hold", "capture", "void",
                     "reverse_earn", "donate", "transfer_out", "transfer_in", "expire"}
    moved = dict(db.read(lambda c: c.execute(
        select(postings.c.entry_id, func.sum(postings.c.points))
        .where(postings.c.member_id == booked["sara"], postings.c.account_kind == "member_wallet")
        .group_by(postings.c.entry_id)).all()))
    for entry in page.entries:
        assert entry.wallet_points == moved.get(entry.id, 0), entry
    capture = next(e for e in page.entries if e.kind == "capture")
    assert (capture.points, capture.wallet_points) == (120, 180)  # the rest of the hold came back


def test_reversal_links_point_both_ways(db, booked):
    entries = {e.id: e for e in db.read(history.page, booked["sara"], first=100).entries}
    for entry in entries.values():
        if entry.reverses_entry_id is not None:
            assert entry.id in entries[entry.reverses_entry_id].reversed_by
    assert len(entries[booked["redeem"]].reversed_by) == 1
    assert len(entries[booked["first"]].reversed_by) == 1


def test_pages_are_newest_first_and_cover_everything_once(db, booked):
    seen: list[int] = []
    after = None
    while True:
        page = db.read(history.page, booked["sara"], first=3, after=after)
        seen += [e.id for e in page.entries]
        if page.next_cursor is None:
            break
        after = history.decode_cursor(page.next_cursor)
    ledger_order = db.read(lambda c: c.execute(
        select(journal_entries.c.id).where(journal_entries.c.member_id == booked["sara"])
        .order_by(journal_entries.c.booked_at.desc(), journal_entries.c.id.desc())
    ).scalars().all())
    assert seen == list(ledger_order)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("cursor", [
    "", "!!", "aDE6eDox", "eDoxOjI=", "aDE6MTox"[:-1],
    # Well formed but out of range: an id past BIGINT, a time past year 9999, a negative id.
    _cursor("h1:1:99999999999999999999999"), _cursor("h1:99999999999999999999:1"),
    _cursor("h1:1:-5"),
])
def test_bad_cursors_are_named(cursor):
    with pytest.raises(WalletError) as refused:
        history.decode_cursor(cursor)
    assert (refused.value.code, refused.value.field) == ("INVALID_CURSOR", "after")


def test_entry_of_another_member_is_none(db, booked):
    other = ww.enrol(db, email="o@example.com")
    assert db.read(history.entry, other, booked["first"]) is None
    assert db.read(history.entry, booked["sara"], booked["first"]).points == 1000


def test_totals_and_tier_follow_the_ledger(db, booked):
    now = T0 + 50 * DAY
    done = db.read(totals.activity, booked["sara"], now)
    by_code = {t.party.code: (t.earned, t.spent) for t in done.partners}
    assert by_code == {"cafe": (900, 120), "shop": (0, 150), "mahak": (0, 60), "network": (50, 0)}
    assert done.tier_points == 950 == db.read(tier_facts.earned_in_window, booked["sara"], now)
    assert db.read(tier_facts.status, booked["sara"], now).name == "blue"
    later = db.read(totals.activity, booked["sara"], T0 + 400 * DAY)
    assert later.tier_points == 0  # outside the twelve-month window


def test_tier_thresholds():
    assert tiers.status_for(0, tiers.DEFINITIONS).name == "blue"
    assert tiers.status_for(1999, tiers.DEFINITIONS).next_name == "silver"
    silver = tiers.status_for(2000, tiers.DEFINITIONS)
    assert (silver.name, silver.remaining, silver.progress, silver.span) == ("silver", 8000, 0,
                                                                             8000)
    top = tiers.status_for(60_000, tiers.DEFINITIONS)
    assert (top.name, top.next_name, top.remaining) == ("platinum", None, 0)


def test_view_loads_everything_for_the_page(db, booked):
    loaded = db.read(view.load, booked["sara"], ww.SECRET, T0 + 50 * DAY, first=5)
    assert loaded.member.email == "s@example.com"
    assert len(loaded.history.entries) == 5 and loaded.history.next_cursor
    assert loaded.balance.total == loaded.balance.spendable + loaded.balance.pending
    assert db.read(view.load, 99999, ww.SECRET, T0) is None


def test_an_entry_reversed_twice_links_both_reversals(db, booked):
    scope = {"scope": f"partner:{booked['shop']}", "partner_id": booked["shop"],
             "entry_id": booked["redeem"]}
    again = ledger.reverse_redemption(db, idempotency_key=w.key(), points=20,
                                      now=T0 + 2 * DAY, **scope)
    entries = {e.id: e for e in db.read(history.page, booked["sara"], first=100).entries}
    links = entries[booked["redeem"]].reversed_by
    assert len(links) == 2 and links[-1] == again.entry_id
    assert all(entries[i].reverses_entry_id == booked["redeem"] for i in links)


def test_reads_leave_pooled_connections_as_they_found_them(db):
    """Database.read and pg_statement run in autocommit on PostgreSQL and snapshot in
    REPEATABLE READ; the next transaction on the pooled connection must not inherit either."""
    from sqlalchemy import text

    from network.wallet import reads

    def settings_of(conn):  # type: ignore[no-untyped-def]
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "postgresql":  # the level in effect, and no autocommit left on
            return raw.autocommit, conn.execute(text("SHOW transaction_isolation")).scalar()
        return raw.isolation_level, conn.execute(text("PRAGMA read_uncommitted")).scalar()

    before = db.write(settings_of)
    assert db.read(lambda c: c.execute(text("SELECT 2")).scalar()) == 2
    if db.dialect == "postgresql":
        assert db.pg_statement("SELECT 4 AS four", {}).four == 4
    assert reads.snapshot(db, lambda c: c.execute(text("SELECT 3")).scalar()) == 3
    assert db.write(settings_of) == before
    if db.dialect == "postgresql":
        assert before == (False, "read committed")
