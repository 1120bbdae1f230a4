"""Segments in the database, on SQLite and PostgreSQL: definitions, CSV imports, rule and RFM
refreshes over real ledger entries, the earn's read, and a refresh's statement count."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert, select

from network import cards, ledger
from network.db.engine import Database
from network.db.schema import journal_entries, members
from network.programme import segments_store as store
from network.programme.segments import RFM_CODES, SegmentError
from network.programme.segments_schema import member_rfm, segment_members
from tests.support import ledger_world as w
from tests.support.statements import statements

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def card_of(db: Database, member_id: int) -> str:
    return db.read(lambda c: c.execute(select(members.c.card_number)
                                       .where(members.c.id == member_id)).scalar_one())


def in_segments(db: Database, member_id: int) -> frozenset[str]:
    return db.read(store.segments_of, member_id)


def earn(db: Database, partner: int, member: int, points: int, at: dt.datetime) -> int:
    return ledger.earn(db, scope=f"partner:{partner}", idempotency_key=w.key(),
                       issuer_id=partner, member_id=member, points=points, vests_at=at,
                       expires_at=at + 700 * DAY, now=at).entry_id


def create(db: Database, code: str, rule: dict[str, Any] | None = None) -> store.Segment:
    return db.write(lambda c: store.create(c, code=code, name_en=code.title(), name_fa="بخش",
                                           rule=rule, now=NOW))


def test_segments_are_created_listed_and_refused_without_writing(db):
    cafe = w.partner(db, "cafe")
    vip = create(db, "vip")
    regulars = create(db, "cafe-regulars", {"all": [{"visited": {"partner": "cafe",
                                                                  "days": 30}}]})
    assert (vip.kind, vip.rule, vip.members, vip.name("fa")) == ("static", None, 0, "بخش")
    assert regulars.kind == "rule" and regulars.rule["all"][0]["visited"]["partner"] == "cafe"
    assert [s.code for s in db.read(store.list_segments)] == ["cafe-regulars", "vip"]
    assert db.read(store.codes) == {"vip", "cafe-regulars"}
    before = w.row_counts(db)
    refusals = [
        (dict(code="vip"), "SEGMENT_EXISTS", "code"),
        (dict(code="Bad Code"), "SEGMENT_CODE_INVALID", "code"),
        (dict(code="rfm-mine"), "SEGMENT_KIND_RESERVED", "code"),
        (dict(code="ok", name_fa=" "), "SEGMENT_NAME_INVALID", "name_fa"),
        (dict(code="ok", rule={"all": [{"visited": {"partner": "bank", "days": 3}}]}),
         "RULE_UNKNOWN_PARTNER", "rule.all[0].visited.partner"),
    ]
    for args, code, field in refusals:
        values = {"name_en": "Name", "name_fa": "نام", "rule": None, "now": NOW, **args}
        with pytest.raises(SegmentError) as refused:
            db.write(lambda c, v=values: store.create(c, **v))
        assert (refused.value.code, refused.value.field) == (code, field)
    with pytest.raises(SegmentError) as missing:
        db.read(store.get, "nope")
    assert missing.value.code == "SEGMENT_NOT_FOUND"
    assert w.row_counts(db) == before
    assert cafe


def test_a_bad_line_refuses_the_whole_csv_and_names_every_line(db):
    known = [w.member(db) for _ in range(2)]
    create(db, "vip")
    good = [card_of(db, m) for m in known]
    stranger = cards.generate()
    text = "\n".join(["card_number", good[0], "70123", good[1][:-1] + "x", stranger, good[0],
                      good[1]])
    before = w.row_counts(db)
    with pytest.raises(store.CsvRefused) as refused:
        db.write(store.import_static, "vip", text, NOW)
    assert [(p.line, p.code) for p in refused.value.problems] == [
        (3, "CARD_MALFORMED"), (4, "CARD_MALFORMED"), (5, "CARD_UNKNOWN"),
        (6, "CARD_DUPLICATE")]
    assert refused.value.code == "CSV_BAD_LINES" and refused.value.field == "file"
    assert w.row_counts(db) == before  # nothing imported
    with pytest.raises(SegmentError) as empty:
        db.write(store.import_static, "vip", "card_number\n\n", NOW)
    assert empty.value.code == "CSV_EMPTY"
    assert w.row_counts(db) == before


def test_skip_bad_imports_the_good_lines_and_a_new_file_replaces_the_list(db):
    a, b, c = (w.member(db) for _ in range(3))
    create(db, "vip")
    text = f"{card_of(db, a)}\n{cards.generate()}\n{card_of(db, b)}\n"
    first = db.write(store.import_static, "vip", text, NOW, skip_bad=True)
    assert (first.members, first.added, first.removed) == (2, 2, 0)
    assert [(p.line, p.code) for p in first.skipped] == [(2, "CARD_UNKNOWN")]
    assert in_segments(db, a) == {"vip"} and in_segments(db, c) == frozenset()

    later = NOW + DAY
    second = db.write(store.import_static, "vip", f"{card_of(db, b)}\n{card_of(db, c)}", later)
    assert (second.members, second.added, second.removed, second.skipped) == (2, 1, 1, ())
    added = dict(db.read(lambda conn: conn.execute(
        select(segment_members.c.member_id, segment_members.c.added_at)).all()))
    assert set(added) == {b, c}
    assert added[b].replace(tzinfo=dt.UTC) == NOW  # staying members keep when they joined
    assert added[c].replace(tzinfo=dt.UTC) == later
    assert db.read(store.get, "vip").members == 2


def test_only_static_segments_take_a_list(db):
    w.partner(db, "cafe")
    m = w.member(db)
    create(db, "regulars", {"all": [{"visited": {"partner": "cafe", "days": 30}}]})
    with pytest.raises(SegmentError) as refused:
        db.write(store.import_static, "regulars", card_of(db, m), NOW)
    assert refused.value.code == "SEGMENT_NOT_STATIC"


def test_rule_segments_follow_the_ledger(db):
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    regular = w.member(db, now=NOW - 400 * DAY)  # silver, visits the café
    lapsed = w.member(db, now=NOW - 400 * DAY)  # café, but two months ago
    newcomer = w.member(db, now=NOW - 3 * DAY)
    returned = w.member(db, now=NOW - 400 * DAY)  # earned at the café, then brought it back
    spender = w.member(db, now=NOW - 400 * DAY)
    earn(db, cafe, regular, 2_500, NOW - 100 * DAY)
    earn(db, cafe, regular, 40, NOW - 5 * DAY)
    earn(db, cafe, lapsed, 3_000, NOW - 60 * DAY)
    earn(db, shop, newcomer, 900, NOW - 2 * DAY)
    entry = earn(db, cafe, returned, 2_000, NOW - 10 * DAY)
    ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key=w.key(), partner_id=cafe,
                        entry_id=entry, now=NOW - 9 * DAY)
    earn(db, shop, spender, 1_000, NOW - 20 * DAY)
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=w.key(), partner_id=shop,
                  member_id=spender, points=600, now=NOW - 10 * DAY)

    rules = {
        "cafe-30": {"all": [{"visited": {"partner": "cafe", "days": 30}}]},
        "silver-up": {"all": [{"tier": ["silver", "gold", "platinum"]}]},
        "new": {"all": [{"enrolled_days": {"below": 30}}]},
        "earners": {"all": [{"earned": {"days": 30, "at_least": 500}}]},
        "spenders": {"all": [{"spent": {"days": 30, "at_least": 500}},
                             {"visited": {"partner": "shop", "days": 30}}]},
    }
    for code, rule in rules.items():
        create(db, code, rule)
    sizes = db.write(store.refresh_rules, NOW)
    assert sizes == {"cafe-30": 2, "earners": 2, "new": 1, "silver-up": 2, "spenders": 1}
    assert in_segments(db, regular) == {"cafe-30", "silver-up"}
    assert in_segments(db, lapsed) == {"silver-up"}
    assert in_segments(db, newcomer) == {"new", "earners"}
    # the reversal takes the points back, not the visit
    assert in_segments(db, returned) == {"cafe-30"}
    assert in_segments(db, spender) == {"earners", "spenders"}

    # a month on, the windows have moved and the refresh follows
    db.write(store.refresh_rules, NOW + 30 * DAY)
    assert in_segments(db, regular) == {"silver-up"}
    assert in_segments(db, newcomer) == frozenset()
    assert db.read(store.get, "cafe-30").members == 0


def test_rfm_scores_and_segments(db):
    cafe = w.partner(db, "cafe")
    people = [w.member(db, now=NOW - 400 * DAY) for _ in range(10)]
    idle = w.member(db, now=NOW - 400 * DAY)  # nothing in the window: not scored
    earn(db, cafe, idle, 100, NOW - 500 * DAY)
    for rank, m in enumerate(people):  # later ones come more recently, more often, for more
        for visit in range(rank + 1):
            earn(db, cafe, m, 10 * (rank + 1), NOW - (100 - 10 * rank + visit) * DAY)
    result = store.refresh_rfm(db, NOW)
    assert result.scored == 10
    assert sum(result.segments.values()) == 10 and set(result.segments) == set(RFM_CODES)
    assert in_segments(db, people[-1]) == {"rfm-champions"}
    assert in_segments(db, people[0]) == {"rfm-hibernating"}
    assert in_segments(db, idle) == frozenset()
    scores = {r.member_id: r for r in db.read(lambda c: c.execute(select(member_rfm)).all())}
    top = scores[people[-1]]
    assert (top.recency, top.frequency, top.monetary, top.entries, top.points) == (
        5, 5, 5, 10, 1_000)
    assert set(scores) == set(people)

    # run again later: memberships are replaced, never doubled
    again = store.refresh_rfm(db, NOW + 200 * DAY)
    members_now = db.read(lambda c: c.execute(select(segment_members.c.member_id)).all())
    assert len(members_now) == again.scored == 0 + sum(again.segments.values())
    assert len(db.read(store.list_segments)) == len(RFM_CODES)


def test_segments_of_is_one_query(db):
    m = w.member(db)
    create(db, "vip")
    db.write(store.import_static, "vip", card_of(db, m), NOW)
    with statements(db) as sent:
        assert in_segments(db, m) == {"vip"}
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1


def _bulk_members(db: Database, count: int, cafe: int) -> None:
    """`count` members with earns and redemptions, inserted directly: the refresh reads only
    `members` and `journal_entries`, and a test of its statement count needs thousands fast."""
    def fill(conn: Any) -> None:
        first = conn.execute(select(members.c.id).order_by(members.c.id.desc())).scalar() or 0
        conn.execute(insert(members), [
            {"card_number": cards.generate(), "locale": "en", "created_at": NOW - (i % 900) * DAY}
            for i in range(count)])
        ids = list(conn.execute(select(members.c.id).where(members.c.id > first)).scalars())
        conn.execute(insert(journal_entries), [
            {"member_id": m, "kind": kind, "party_id": cafe, "points": 10 + i % 500,
             "booked_at": NOW - ((i * 7 + j) % 400) * DAY}
            for i, m in enumerate(ids) for j, kind in enumerate(("earn", "earn", "redeem"))
            if i % 10 != 0])

    db.write(fill)


def _kinds(sent: list[str]) -> Counter[str]:
    return Counter(" ".join(s.split()[:3]) for s in sent)


def test_a_refresh_takes_the_same_few_statements_for_200_or_2000_members(db, monkeypatch):
    from network.programme import ladder_store

    # The tier ladder's cached copy is looked at again every TTL seconds (one tiny read); the
    # 1,800 members below may take longer than that to insert on a busy machine, which is not
    # what this test counts (as in test_simulation's bounded-read test).
    monkeypatch.setattr(ladder_store, "TTL", 3_600.0)
    cafe = w.partner(db, "cafe")
    for code, rule in {
        "cafe-30": {"all": [{"visited": {"partner": "cafe", "days": 30}}]},
        "gold": {"all": [{"tier": ["gold"]}, {"enrolled_days": {"at_least": 100}}]},
        "big-90": {"all": [{"earned": {"days": 90, "at_least": 300}},
                           {"spent": {"days": 30, "below": 400}}]},
    }.items():
        create(db, code, rule)
    store.refresh_all(db, NOW)  # the first run also creates the RFM segments
    runs = []
    for size in (200, 1_800):  # 200 members, then 2,000 in all
        _bulk_members(db, size, cafe)
        with statements(db) as sent:
            done = store.refresh_all(db, NOW)
        runs.append(sent)
        assert done.rfm.scored == db.read(lambda c: len(store.rfm_facts(c, NOW)))
    small, large = (_kinds(run) for run in runs)
    # Ten times the members, the same statements: at most a bulk DELETE of leavers more (one
    # per transaction), which the first fill had nobody to remove.
    assert set((large - small).elements()) <= {"DELETE FROM segment_members"}, (small, large)
    assert len(runs[1]) <= 22, large
    total = db.read(lambda c: c.execute(select(segment_members.c.member_id)).all())
    assert len(total) > 2_000  # the memberships really were written


def test_refreshes_at_once_on_postgresql_queue_and_agree(pg_db):
    """Two refreshes (the worker's and an operator's) computing the same inserts: the second
    must wait for the first and then find nothing to add, not fail on the primary key."""
    cafe = w.partner(pg_db, "cafe")
    create(pg_db, "cafe-30", {"all": [{"visited": {"partner": "cafe", "days": 30}}]})
    _bulk_members(pg_db, 300, cafe)
    start = threading.Barrier(4)
    outcomes: list[object] = []

    def refresh() -> None:
        start.wait()
        try:
            outcomes.append(store.refresh_all(pg_db, NOW))
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            outcomes.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(o, store.Refreshed) for o in outcomes), outcomes
    assert len({(o.rules["cafe-30"], o.rfm.scored) for o in outcomes}) == 1  # type: ignore[union-attr]
    rows = pg_db.read(lambda c: c.execute(select(segment_members.c.member_id,
                                                 segment_members.c.segment_id)).all())
    assert len(rows) == len(set(rows)) == outcomes[0].rules["cafe-30"] + outcomes[0].rfm.scored  # type: ignore[union-attr]
