"""The verifiable lottery: pure rules, the draw's life on both databases, and the published files
checked the way anyone would (`lottery.verify`, what `pointsnet lottery verify` runs)."""

from __future__ import annotations

import collections
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from network import ledger, members
from network.db.schema import consumptions, journal_entries
from network.ledger.verify import verify as verify_ledger
from network.notifications.schema import notification_outbox
from network.programme import lottery
from network.programme import lottery_store as store
from network.programme.lottery_schema import lottery_draws, lottery_entries
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SEED = bytes(range(32))


def hashes(n: int) -> list[str]:
    return [hashlib.sha256(f"e{i}".encode()).hexdigest() for i in range(n)]


# --- Pure rules ---------------------------------------------------------------------------------


def test_winners_are_a_function_of_seed_and_the_set_of_entries():
    entries = hashes(50)
    first = lottery.winners(SEED, "phone", entries, 3)
    assert first == lottery.winners(SEED, "phone", list(reversed(entries)), 3)  # order-free
    assert len(set(first)) == 3 and set(first) <= set(entries)
    assert lottery.winners(bytes(32), "phone", entries, 3) != first  # the seed decides
    assert lottery.winners(SEED, "other", entries, 3) != first  # and the draw's code
    assert lottery.winners(SEED, "phone", entries, 80) == lottery.winners(
        SEED, "phone", entries, 50)  # more prizes than entries: everyone wins once


def test_the_shuffle_is_uniform_enough_to_show_no_modulo_bias():
    """3 entries, 6000 seeds: each entry wins the first prize about 2000 times."""
    entries = hashes(3)
    counts = collections.Counter(
        lottery.winners(i.to_bytes(32, "big"), "d", entries, 1)[0] for i in range(6000))
    assert all(1800 < counts[e] < 2200 for e in entries), counts


def published_files(n_entries: int = 20, prizes: int = 3) -> dict[str, str]:
    entries = hashes(n_entries)
    return lottery.Published("phone", prizes, lottery.commitment(SEED), entries=tuple(entries),
                             seed=SEED, winners=tuple(lottery.winners(SEED, "phone", entries,
                                                                      prizes))).files()


def test_verify_matches_a_true_draw():
    assert lottery.verify(published_files()) == []


def _flip_hex(text: str, at: int) -> str:
    return text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1:]


@pytest.mark.parametrize("name, tamper, expected", [
    (lottery.COMMITMENT, lambda t: t.replace("prizes 3", "prizes 2"), "winners listed"),
    (lottery.COMMITMENT, lambda t: _flip_hex(t, t.index("commitment ") + 11), "commitment"),
    (lottery.ENTRIES, lambda t: "\n".join(t.splitlines()[1:]) + "\n", ""),  # one dropped
    (lottery.ENTRIES, lambda t: t + "f" * 64 + "\n", ""),  # one stuffed in at the end
    (lottery.ENTRIES, lambda t: _flip_hex(t, 5), ""),
    (lottery.SEED, lambda t: _flip_hex(t, 0), "sha256 of the seed"),
    (lottery.WINNERS, lambda t: _flip_hex(t, 3), "position 1"),
    (lottery.WINNERS, lambda t: "".join(t.splitlines(True)[:-1]), "winners listed"),
])
def test_verify_finds_each_tampered_file(name, tamper, expected):
    files = published_files()
    files[name] = tamper(files[name])
    problems = lottery.verify(files)
    assert problems, f"tampering with {name} went unnoticed"
    assert expected in " ".join(problems)


def test_a_seed_that_does_not_match_the_commitment_is_named():
    files = published_files()
    other = bytes(32)
    entries = hashes(20)
    files[lottery.SEED] = other.hex() + "\n"
    files[lottery.WINNERS] = "".join(f"{i} {h}\n" for i, h in enumerate(
        lottery.winners(other, "phone", entries, 3), 1))  # winners consistent with the new seed
    problems = lottery.verify(files)
    assert problems == [f"{lottery.SEED}: sha256 of the seed is {lottery.commitment(other)}, but "
                        f"the commitment published when the draw opened is "
                        f"{lottery.commitment(SEED)}"]


def test_a_missing_file_is_named():
    files = published_files()
    del files[lottery.SEED]
    assert lottery.verify(files) == [f"{lottery.SEED}: missing (published by the draw)"]


# --- A draw in the database ---------------------------------------------------------------------


@pytest.fixture
def world(db):
    cafe = w.partner(db, "cafe")
    return {"cafe": cafe, "members": [w.member(db) for _ in range(4)]}


def open_draw(db, sponsor, *, price=50, per_member=3, prizes=(2, 1)):
    return store.open_draw(
        db, code="phone", name_en="A phone", name_fa="یک گوشی", opens_at=T0,
        closes_at=T0 + 24 * HOUR, entry_price=price, max_entries_per_member=per_member,
        sponsor_party_id=sponsor,
        prizes=[store.Prize(n, f"Prize {i}", f"جایزه {i}") for i, n in enumerate(prizes, 1)],
        now=T0 - HOUR)


def fund(db, partner, member, points=1000):
    ledger.earn(db, scope=f"partner:{partner}", idempotency_key=w.key(), issuer_id=partner,
                member_id=member, points=points, vests_at=T0 - HOUR, expires_at=T0 + 900 * HOUR,
                now=T0 - HOUR)


def test_a_paid_entry_is_a_redemption_at_the_sponsor_and_idempotent(db, world):
    cafe, m = world["cafe"], world["members"][0]
    fund(db, cafe, m, 120)
    draw = open_draw(db, cafe)
    first = store.enter(db, member_id=m, draw_id=draw.id, idempotency_key="e1", now=T0 + HOUR)
    again = store.enter(db, member_id=m, draw_id=draw.id, idempotency_key="e1", now=T0 + HOUR)
    assert again == first and first.points == 50 and first.balance == 70
    rows = db.read(lambda c: c.execute(select(consumptions.c.kind, consumptions.c.sink_party_id,
                                              consumptions.c.points)).all())
    assert [tuple(r) for r in rows] == [("redemption", cafe, 50)]
    kind = db.read(lambda c: c.execute(select(journal_entries.c.kind).where(
        journal_entries.c.id == first.journal_entry_id)).scalar_one())
    assert kind == "lottery"
    assert verify_ledger(db) == []
    # The hash is the entry id under the draw's secret salt: nothing about the member, and no
    # one without the salt can tell which entry id it is.
    salt = db.read(lambda c: c.execute(select(lottery_draws.c.salt)).scalar_one())
    assert first.entry_hash == lottery.entry_hash(bytes(salt), "phone", first.entry_id)
    assert first.entry_hash != hashlib.sha256(f"phone:{first.entry_id}".encode()).hexdigest()


def test_entries_are_refused_with_specific_codes_and_write_nothing(db, world):
    cafe, m = world["cafe"], world["members"][0]
    fund(db, cafe, m, 120)
    draw = open_draw(db, cafe, per_member=2)
    store.enter(db, member_id=m, draw_id=draw.id, idempotency_key="a", now=T0 + HOUR)
    before = w.row_counts(db)

    def code_of(**kw):
        args = {"member_id": m, "draw_id": draw.id, "idempotency_key": w.key(),
                "now": T0 + HOUR} | kw
        with pytest.raises(Exception) as info:
            store.enter(db, **args)
        return info.value.code

    assert code_of(now=T0 - HOUR) == "DRAW_NOT_OPEN"
    assert code_of(now=T0 + 24 * HOUR) == "DRAW_NOT_OPEN"
    assert code_of(draw_id=999) == "DRAW_NOT_FOUND"
    assert code_of(member_id=world["members"][1]) == "INSUFFICIENT_POINTS"
    store.enter(db, member_id=m, draw_id=draw.id, idempotency_key="b", now=T0 + HOUR)
    before = w.row_counts(db)
    assert code_of() == "ENTRY_LIMIT_REACHED"
    assert w.row_counts(db) == before


def test_free_entries_cost_nothing_and_paid_ones_are_refused_when_the_draw_is_free(db, world):
    cafe, m = world["cafe"], world["members"][0]
    draw = open_draw(db, cafe, price=0)
    with pytest.raises(store.LotteryError) as info:
        store.enter(db, member_id=m, draw_id=draw.id, idempotency_key="x", now=T0 + HOUR)
    assert info.value.code == "ENTRY_BY_GRANT_ONLY"
    given = store.enter(db, member_id=m, draw_id=draw.id, idempotency_key="g", free_by="staff:1",
                        now=T0 + HOUR)
    assert given.points == 0 and given.journal_entry_id is None


def run_draw(db, world, secret=w.SECRET):
    cafe, ms = world["cafe"], world["members"]
    draw = open_draw(db, cafe)
    for m in ms:
        fund(db, cafe, m)
        for _ in range(3):
            store.enter(db, member_id=m, draw_id=draw.id, idempotency_key=w.key(), now=T0 + HOUR)
    with pytest.raises(store.LotteryError) as info:
        store.close(db, "phone", now=T0 + 2 * HOUR)
    assert info.value.code == "DRAW_STILL_OPEN"
    with pytest.raises(store.LotteryError) as info:
        store.draw_winners(db, "phone", secret=secret, now=T0 + 2 * HOUR)
    assert info.value.code == "DRAW_NOT_CLOSED"
    before_close = db.read(store.published, "phone")
    assert before_close.entries is None and before_close.seed is None
    store.close(db, "phone", now=T0 + 25 * HOUR)
    closed = db.read(store.published, "phone")
    assert closed.entries is not None and len(closed.entries) == 12 and closed.seed is None
    store.draw_winners(db, "phone", secret=secret, now=T0 + 26 * HOUR)
    return draw


def test_a_real_draw_verifies_from_its_published_files(db, world):
    draw = run_draw(db, world)
    published = db.read(store.published, "phone")
    assert published.commitment == draw.commitment  # what was public since it opened
    assert lottery.verify(published.files()) == []
    assert len(published.winners or ()) == 3
    # Drawing again changes nothing: the winners are fixed.
    store.draw_winners(db, "phone", secret=w.SECRET, now=T0 + 27 * HOUR)
    assert db.read(store.published, "phone").files() == published.files()
    assert verify_ledger(db) == []


def test_winners_are_told_through_the_outbox_in_their_language(db):
    cafe = w.partner(db, "cafe")
    ids = [members.enrol(db, secret=w.SECRET, scope="system", idempotency_key=w.key(),
                         enrolled_by=None, email=f"m{i}@example.com",
                         locale="fa" if i % 2 else "en").id for i in range(4)]
    run_draw(db, {"cafe": cafe, "members": ids})
    won = db.read(lambda c: c.execute(select(
        lottery_entries.c.member_id, lottery_entries.c.won_position).where(
        lottery_entries.c.won_position.is_not(None))).all())
    queued = db.read(lambda c: c.execute(select(
        notification_outbox.c.member_id, notification_outbox.c.recipient,
        notification_outbox.c.subject, notification_outbox.c.kind)).all())
    draw = db.read(store.get, "phone")
    # One lifecycle message (messages.lottery_won) per prize won, in the winner's language (a
    # member whose two entries both won hears of each prize).
    expected = sorted(
        (member_id, f"m{ids.index(member_id)}@example.com",
         f"برنده شدید: {draw.prize_at(position).label_fa}" if ids.index(member_id) % 2
         else f"You won: {draw.prize_at(position).label_en}", "lottery_won")
        for member_id, position in won)
    assert len(won) == 3 and sorted(tuple(q) for q in queued) == expected
    # Drawing again tells no one twice.
    store.draw_winners(db, "phone", secret=w.SECRET, now=T0 + 30 * HOUR)
    assert db.read(lambda c: len(c.execute(select(notification_outbox.c.id)).all())) == 3


def test_each_member_finds_their_own_hashes_among_the_entries(db, world):
    run_draw(db, world)
    published = db.read(store.published, "phone")
    draw = db.read(store.get, "phone")
    for m in world["members"]:
        mine = db.read(store.entries_of, m, draw.id)
        assert len(mine) == 3
        assert {e.entry_hash for e in mine} <= set(published.entries or ())


def test_racing_entries_respect_the_member_limit_and_the_points_on_postgresql(pg_db):
    """12 threads enter for one member: the limit (3) holds exactly, and the points paid are
    exactly 3 prices; another member with points for 2 entries gets exactly 2."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from network.ledger.errors import LedgerError

    cafe = w.partner(pg_db, "cafe")
    rich, poor = w.member(pg_db), w.member(pg_db)
    fund(pg_db, cafe, rich, 1000)
    fund(pg_db, cafe, poor, 100)
    draw = open_draw(pg_db, cafe, price=50, per_member=3)
    start = threading.Barrier(12)

    def enter(i: int) -> str:
        start.wait()
        try:
            store.enter(pg_db, member_id=rich if i % 2 else poor, draw_id=draw.id,
                        idempotency_key=f"race-{i}", now=T0 + HOUR)
            return f"ok-{i % 2}"
        except (LedgerError, store.LotteryError) as exc:
            return f"{exc.code}-{i % 2}"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = collections.Counter(pool.map(enter, range(12)))
    assert outcomes == {"ok-1": 3, "ENTRY_LIMIT_REACHED-1": 3, "ok-0": 2,
                        "INSUFFICIENT_POINTS-0": 4}
    assert verify_ledger(pg_db) == []


def test_closing_while_members_enter_freezes_exactly_the_entries_on_postgresql(pg_db):
    """Entries in flight when `close` runs either make the frozen list or wait and are refused:
    the draw afterwards finds the very list it froze (it refuses to draw otherwise)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from network.ledger.errors import LedgerError

    cafe = w.partner(pg_db, "cafe")
    ms = [w.member(pg_db) for _ in range(16)]
    for m in ms:
        fund(pg_db, cafe, m, 100)
    draw = open_draw(pg_db, cafe, price=10, per_member=5)
    start = threading.Barrier(17)

    def enter(m: int) -> str:
        start.wait()
        outcome = "ok"
        for _ in range(5):
            try:
                store.enter(pg_db, member_id=m, draw_id=draw.id, idempotency_key=w.key(),
                            now=draw.closes_at - timedelta(seconds=1))
            except (LedgerError, store.LotteryError) as exc:
                outcome = exc.code
        return outcome

    def close(_: int) -> str:
        start.wait()
        store.close(pg_db, "phone", now=draw.closes_at)
        return "closed"

    with ThreadPoolExecutor(max_workers=17) as pool:
        results = list(pool.map(lambda i: close(i) if i == 16 else enter(ms[i]), range(17)))
    assert "closed" in results and set(results) <= {"ok", "DRAW_NOT_OPEN", "closed"}
    store.draw_winners(pg_db, "phone", secret=w.SECRET, now=draw.closes_at + HOUR)
    published = pg_db.read(store.published, "phone")
    assert lottery.verify(published.files()) == []
    paid = pg_db.read(lambda c: c.execute(select(journal_entries.c.id).where(
        journal_entries.c.kind == "lottery")).all())
    assert len(paid) == len(published.entries or ())  # every paid entry is on the list
    assert verify_ledger(pg_db) == []
