"""Buying a reward on PostgreSQL in pg_buy's one call: the same ledger rows, purchases,
codes, stock, messages, stored answers and userErrors as the general path, for the same
requests (success, out of stock, over the member's limit, not enough points, no codes left, a
replay, a key reused); and how many statements a purchase sends, so that it cannot creep back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from network import ledger, members
from network.db.engine import Database
from network.ledger.errors import LedgerError
from network.ledger.verify import verify
from network.notifications import preferences
from network.programme import reward_codes, rewards_buy, rewards_store
from network.programme.rewards import RewardError, RewardSpec
from tests.conftest import _reset_postgres
from tests.support import ledger_world as w

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)

# Every table a purchase writes, in an order that does not depend on the path (no times of
# day: each path books at NOW).
_TABLES = {
    "journal_entries": "SELECT id, kind, member_id, party_id, points, reference, booked_at "
                       "FROM journal_entries ORDER BY id",
    "postings": "SELECT entry_id, account_kind, member_id, party_id, points FROM postings "
                "ORDER BY id",
    "consumptions": "SELECT entry_id, member_id, lot_id, issuer_party_id, kind, sink_party_id, "
                    "points, booked_at FROM consumptions ORDER BY id",
    "lots": "SELECT id, remaining FROM lots ORDER BY id",
    "member_balances": "SELECT member_id, balance, held, debt FROM member_balances "
                       "ORDER BY member_id",
    "reward_purchases": "SELECT * FROM reward_purchases ORDER BY id",
    "reward_codes": "SELECT * FROM reward_codes ORDER BY id",
    "rewards": "SELECT id, stock, status, updated_at FROM rewards ORDER BY id",
    "notification_outbox": "SELECT member_id, channel, recipient, subject, body, status, "
                           "created_at, next_attempt_at, kind, html_body, unsubscribe_url "
                           "FROM notification_outbox ORDER BY id",
    "answers": "SELECT scope, key, request_hash, response FROM idempotency_keys "
               "WHERE scope LIKE 'member:%' ORDER BY scope, key",
}


def _spec(**over: Any) -> RewardSpec:
    return RewardSpec(**({"kind": "coupon", "name_en": "Free coffee", "name_fa": "قهوه",
                          "price_points": 300} | over))


def _publish(db: Database, partner: int, name: str, **over: Any) -> int:
    r = rewards_store.create(db, partner_id=partner, spec=_spec(**over), scope="staff:1",
                             idempotency_key=f"create-{name}", now=NOW)
    rewards_store.set_status(db, partner_id=partner, reward_id=r.id, status="active",
                             scope="staff:1", idempotency_key=f"status-{name}", now=NOW)
    return r.id


def _member(db: Database, issuer: int, name: str, points: int, email: str | None = None) -> int:
    m = members.enrol(db, secret=w.SECRET, scope="system", idempotency_key=f"enrol-{name}",
                     enrolled_by=issuer).id
    if email:
        members.update_contact(db, secret=w.SECRET, member_id=m, email=email)
    for n, (share, days) in enumerate(((points // 3, 40), (points - points // 3, 10))):
        if share:  # two lots, the later-made one first to go
            ledger.earn(db, scope="p", idempotency_key=f"earn-{name}-{n}", issuer_id=issuer,
                        member_id=m, points=share, now=NOW - dt.timedelta(days=1),
                        expires_at=NOW + dt.timedelta(days=days))
    return m


def _scenario(db: Database, monkeypatch: pytest.MonkeyPatch, thread_connection: bool = False
              ) -> tuple[list[Any], dict, str]:
    """The same requests on an emptied database; what each answered and what the tables hold.
    `thread_connection`: the GraphQL threads' way, where a member with no contact buys in one
    autocommit call."""
    _reset_postgres(db)
    drawn = itertools.count(1)  # hub codes as a fixed sequence, so both paths draw the same
    monkeypatch.setattr(reward_codes, "generate",
                        lambda: f"{next(drawn):0{reward_codes.HUB_CODE_LENGTH}d}")
    cafe, pharmacy = w.partner(db, "cafe"), w.partner(db, "pharmacy")
    charity = w.charity(db, "trees")
    limited = _publish(db, pharmacy, "limited", stock=2, per_member_limit=1)
    pool = _publish(db, cafe, "pool", code_source="pool", price_points=100)
    rewards_store.upload_codes(db, partner_id=cafe, reward_id=pool, csv_text="code\nABC-111\n",
                               scope="partner:1", idempotency_key="upload", now=NOW)
    pledge = _publish(db, cafe, "pledge", kind="charity_pledge", charity_id=charity,
                      code_source="none", price_points=50)
    sara = _member(db, cafe, "sara", 1000, email="sara@example.com")
    ali = _member(db, cafe, "ali", 1000, email="ali@example.com")
    db.write(lambda c: preferences.save(  # his own zone and quiet hours: read by both paths
        c, ali, preferences.Preferences(), preferences.Preferences(
            quiet=(0, 1439), time_zone="Asia/Tehran"), source="test", now=NOW))
    poor = _member(db, cafe, "poor", 50)
    late = _member(db, cafe, "late", 1000)
    tight = _member(db, pharmacy, "tight", 250)

    answers: list[Any] = []

    def buy(member: int, reward: int, key: str) -> None:
        try:
            answers.append(rewards_buy.buy_named(
                db, member_id=member, reward_id=reward, idempotency_key=key, secret=w.SECRET,
                now=NOW, thread_connection=thread_connection)[0])
        except (RewardError, LedgerError) as exc:
            answers.append((type(exc).__name__, exc.code, str(exc)))

    buy(sara, limited, "b1")  # bought
    buy(sara, limited, "b2")  # over the limit
    buy(sara, limited, "b1")  # a replay: the same purchase
    buy(sara, pool, "b1")  # the key again for another request
    buy(poor, limited, "b3")  # not enough points
    buy(ali, limited, "b4")  # the last one
    buy(late, limited, "b5")  # out of stock
    buy(sara, pool, "b6")  # the pool's one code
    buy(ali, pool, "b7")  # no codes left
    buy(ali, pledge, "b8")  # a pledge: a donation to the charity
    buy(tight, limited, "b9")  # out of stock again, with too few points: the points first
    tables = db.read(lambda c: {name: [dict(r._mapping) for r in c.execute(text(sql))]
                                for name, sql in _TABLES.items()})
    assert verify(db) == []
    # What a refused purchase leaves behind differs only in the numbers it drew and gave back:
    # the general path writes the purchase row before it finds the stock gone (a purchase id
    # skipped), pg_buy draws a hub code before its transaction. Purchases are named by their
    # order, hub codes by the order of those kept: the same on both paths.
    rank = {row["id"]: n for n, row in enumerate(tables["reward_purchases"])}
    for row in tables["reward_purchases"]:
        row["id"] = rank[row["id"]]
    for row in tables["reward_codes"]:
        row["purchase_id"] = rank.get(row["purchase_id"])
    answers = [dataclasses.replace(a, id=rank[a.id]) if isinstance(a, rewards_buy.Purchase)
               else a for a in answers]
    seen = repr((answers, tables))
    kept = [row["code"] for row in tables["reward_codes"] if row["code"].isdigit()]
    for n, code in enumerate(kept):
        seen = seen.replace(reward_codes.printable(code, True), f"hub-{n}")
        seen = seen.replace(code, f"hub-{n}")
    return answers, tables, seen


@pytest.mark.parametrize("thread_connection", [False, True])
def test_both_paths_write_and_answer_the_same(pg_db: Database, monkeypatch: pytest.MonkeyPatch,
                                              thread_connection: bool) -> None:
    with statements(pg_db, direct=False) as sent:
        fast_answers, fast_tables, fast = _scenario(pg_db, monkeypatch, thread_connection)
        purchases = [s for s in sent if "INSERT INTO reward_purchases" in s]
    assert purchases == []  # none through SQLAlchemy: the call bought them all
    monkeypatch.setattr(rewards_buy, "_buy_on_postgresql", lambda *a, **k: None)
    _, general_tables, general = _scenario(pg_db, monkeypatch)
    for name in _TABLES:  # table by table first, for a readable failure
        assert len(fast_tables[name]) == len(general_tables[name]), name
    assert fast == general, next(  # the first difference, readable
        (fast[i - 80:i + 80], general[i - 80:i + 80])
        for i, (a, b) in enumerate(zip(fast, general, strict=False)) if a != b)
    # The scenario covered what it says it does.
    assert [a[1] if isinstance(a, tuple) else "ok" for a in fast_answers] == [
        "ok", "MEMBER_LIMIT_REACHED", "ok", "IDEMPOTENCY_KEY_REUSED", "INSUFFICIENT_POINTS",
        "ok", "OUT_OF_STOCK", "ok", "CODES_EXHAUSTED", "ok", "INSUFFICIENT_POINTS"]
    told = [row["recipient"] for row in fast_tables["notification_outbox"]]
    assert sorted(told) == ["ali@example.com"] * 2 + ["sara@example.com"] * 2
    assert fast_answers[0] == fast_answers[2]


def test_over_the_limit_is_said_before_not_enough_points(pg_db: Database) -> None:
    """As the general path checks the limit before the points move."""
    cafe = w.partner(pg_db, "cafe")
    reward = _publish(pg_db, cafe, "once", per_member_limit=1)
    member = _member(pg_db, cafe, "m", 400)
    rewards_buy.buy(pg_db, member_id=member, reward_id=reward, idempotency_key="a",
                    secret=w.SECRET, now=NOW)
    with pytest.raises(RewardError) as caught:
        rewards_buy.buy(pg_db, member_id=member, reward_id=reward, idempotency_key="b",
                        secret=w.SECRET, now=NOW)
    assert caught.value.code == "MEMBER_LIMIT_REACHED"


def test_the_answer_names_the_reward_as_a_read_would(pg_db: Database) -> None:
    """buy_named's name comes from the purchase's own reads on the fast path, and from
    `name_for_member` on a replay: the same name either way, in the member's language."""
    cafe = w.partner(pg_db, "cafe")
    reward = _publish(pg_db, cafe, "named")
    persian = _member(pg_db, cafe, "fa", 1000)
    members.update_contact(pg_db, secret=w.SECRET, member_id=persian, locale="fa")
    english = _member(pg_db, cafe, "en", 1000)
    for member, expected in ((persian, "قهوه"), (english, "Free coffee")):
        bought, name = rewards_buy.buy_named(pg_db, member_id=member, reward_id=reward,
                                             idempotency_key="k", secret=w.SECRET, now=NOW)
        replayed, again = rewards_buy.buy_named(pg_db, member_id=member, reward_id=reward,
                                                idempotency_key="k", secret=w.SECRET, now=NOW)
        assert name == again == expected == pg_db.read(rewards_buy.name_for_member, reward,
                                                       member)
        assert replayed == bought


@pytest.mark.parametrize("thread_connection", [False, True])
def test_a_changed_reward_is_bought_as_it_is_now(pg_db: Database,
                                                 thread_connection: bool) -> None:
    """The reward kept from an earlier purchase is stale once changed: the purchase is booked
    at the new price (by the general path, which reads it again), never the old one; the
    call's debit at the old price rolls back (in its transaction, or as its one statement)."""
    cafe = w.partner(pg_db, "cafe")
    reward = _publish(pg_db, cafe, "r")
    member = _member(pg_db, cafe, "m", 1000)

    def buy(key: str) -> rewards_buy.Purchase:
        return rewards_buy.buy_named(pg_db, member_id=member, reward_id=reward,
                                     idempotency_key=key, secret=w.SECRET, now=NOW,
                                     thread_connection=thread_connection)[0]

    first = buy("a")
    rewards_store.update_reward(pg_db, partner_id=cafe, reward_id=reward,
                                changes={"price_points": 200}, scope="staff:1",
                                idempotency_key="price", now=NOW)
    second = buy("b")
    third = buy("c")
    assert (first.points, second.points, third.points) == (300, 200, 200)
    assert pg_db.read(lambda c: c.execute(text(
        "SELECT balance FROM member_balances WHERE member_id = :m"), {"m": member}).scalar_one()
    ) == 300
    assert verify(pg_db) == []


@contextmanager
def statements(db: Database, *, direct: bool = True) -> Iterator[list[str]]:
    """Every statement sent: SQLAlchemy's, and (`direct`) those `pg_transaction` and
    `pg_statement` send straight through psycopg."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        sent.append(statement)

    original = db.pg_transaction
    alone = db.pg_statement

    def counted_alone(sql, params):  # type: ignore[no-untyped-def]
        sent.append(sql)
        return alone(sql, params)

    def counted(fn, **how):  # type: ignore[no-untyped-def]
        def with_count(execute):  # type: ignore[no-untyped-def]
            def execute_counted(sql, params):  # type: ignore[no-untyped-def]
                sent.append(sql)
                return execute(sql, params)
            return fn(execute_counted)
        return original(with_count, **how)

    event.listen(db.engine, "before_cursor_execute", record)
    if direct:
        db.pg_transaction = counted  # type: ignore[method-assign]
        db.pg_statement = counted_alone  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.pg_transaction = original  # type: ignore[method-assign]
        db.pg_statement = alone  # type: ignore[method-assign]


def test_a_purchase_is_one_statement(pg_db: Database) -> None:
    """In one transaction: the call (the debit and the purchase); for a member with a contact,
    the contact and message preferences, and one more per message queued. Nothing else, before
    or after."""
    cafe = w.partner(pg_db, "cafe")
    reward = _publish(pg_db, cafe, "r", price_points=10, stock=100)
    quiet = _member(pg_db, cafe, "quiet", 1000)
    told = _member(pg_db, cafe, "told", 1000, email="t@example.com")
    rewards_buy.buy(pg_db, member_id=quiet, reward_id=reward, idempotency_key="warm",
                    secret=w.SECRET, now=NOW)  # the reward is read once, then kept
    for member, expected in ((quiet, 1), (told, 3)):
        with statements(pg_db) as sent:
            rewards_buy.buy(pg_db, member_id=member, reward_id=reward,
                            idempotency_key=f"k{member}", secret=w.SECRET, now=NOW)
        assert len(sent) == expected, sent
    assert verify(pg_db) == []


def test_the_general_path_is_what_sqlite_runs(sqlite_db: Database) -> None:
    """SQLite has no pg_transaction: the portable path buys, as before."""
    cafe = w.partner(sqlite_db, "cafe")
    reward = _publish(sqlite_db, cafe, "r")
    member = _member(sqlite_db, cafe, "m", 1000)
    bought = rewards_buy.buy(sqlite_db, member_id=member, reward_id=reward,
                             idempotency_key="a", secret=w.SECRET, now=NOW)
    assert bought.points == 300 and bought.status == "issued"
    assert dataclasses.replace(bought) == rewards_buy.buy(
        sqlite_db, member_id=member, reward_id=reward, idempotency_key="a", secret=w.SECRET,
        now=NOW)


def test_on_the_threads_own_connection_no_pooled_one_is_taken(pg_db: Database) -> None:
    """The GraphQL threads' way (`thread_connection`): the same purchase, statements and
    refusals, on the thread's connection, with no checkout from the pool (a replay still reads
    its purchase back through it); a refusal rolls back and leaves the connection fit for the
    next purchase."""
    cafe = w.partner(pg_db, "cafe")
    reward = _publish(pg_db, cafe, "r", price_points=300, stock=10)
    rich, poor = _member(pg_db, cafe, "rich", 1000), _member(pg_db, cafe, "poor", 100)
    rewards_buy.buy(pg_db, member_id=rich, reward_id=reward, idempotency_key="warm",
                    secret=w.SECRET, now=NOW)  # the reward is read once, then kept
    checkouts: list[object] = []

    def checkout(*args: object) -> None:
        checkouts.append(args)

    event.listen(pg_db.engine, "checkout", checkout)
    try:
        with statements(pg_db) as sent:
            bought, name = rewards_buy.buy_named(
                pg_db, member_id=rich, reward_id=reward, idempotency_key="a", secret=w.SECRET,
                now=NOW, thread_connection=True)
        assert len(sent) == 1 and checkouts == []  # one autocommit call: a quiet member
        assert (bought.points, bought.status, name) == (300, "issued", "Free coffee")
        with pytest.raises(LedgerError) as refused:
            rewards_buy.buy_named(pg_db, member_id=poor, reward_id=reward, idempotency_key="b",
                                  secret=w.SECRET, now=NOW, thread_connection=True)
        assert refused.value.code == "INSUFFICIENT_POINTS"
        assert checkouts == []
        again, _ = rewards_buy.buy_named(pg_db, member_id=rich, reward_id=reward,
                                         idempotency_key="a", secret=w.SECRET, now=NOW,
                                         thread_connection=True)
        assert again == bought  # a replay, which reads its purchase back
    finally:
        event.remove(pg_db.engine, "checkout", checkout)
    counts = pg_db.read(lambda c: c.execute(text(
        "SELECT (SELECT count(*) FROM reward_purchases), (SELECT stock FROM rewards)")).one())
    assert tuple(counts) == (2, 8)
    assert verify(pg_db) == []


def test_a_member_with_a_contact_is_told_in_the_purchase_transaction(pg_db: Database) -> None:
    """On the threads' own connection, a member the message can reach answers "loud" to the
    one-statement call, which writes nothing; the purchase is then booked in a transaction
    with its message, and the member's next purchase goes there straight away."""
    cafe = w.partner(pg_db, "cafe")
    reward = _publish(pg_db, cafe, "r", price_points=10, stock=100)
    told = _member(pg_db, cafe, "told", 1000, email="t@example.com")
    quiet = _member(pg_db, cafe, "quiet", 1000)
    rewards_buy.buy(pg_db, member_id=quiet, reward_id=reward, idempotency_key="warm",
                    secret=w.SECRET, now=NOW)  # the reward is read once, then kept
    counts = []
    for key in ("a", "b"):
        with statements(pg_db) as sent:
            rewards_buy.buy_named(pg_db, member_id=told, reward_id=reward, idempotency_key=key,
                                  secret=w.SECRET, now=NOW, thread_connection=True)
        counts.append(len(sent))
    # a probe answered "loud", then call, contact, message; then no probe
    assert counts == [4, 3]
    rows = pg_db.read(lambda c: c.execute(text(
        "SELECT (SELECT count(*) FROM reward_purchases), (SELECT stock FROM rewards),"
        " (SELECT count(*) FROM notification_outbox WHERE recipient = 't@example.com')")).one())
    assert tuple(rows) == (3, 97, 2)
    assert verify(pg_db) == []
