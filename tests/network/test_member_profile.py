"""Birth dates, referral codes and the lifecycle facts the network raises (enrolled, birthday,
referral converted), on SQLite and PostgreSQL; the code and link on the wallet page and in `me`."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import func, select

from infra.app import create_app
from infra.cli import main
from infra.migrate import downgrade, upgrade
from network import members, referrals
from network.db.engine import Database
from network.db.schema import idempotency_keys
from network.db.schema import members as members_table
from network.ledger.errors import LedgerError
from network.notifications import inline
from network.programme import birthdays, event_specs, event_types, inbox
from network.programme.facts import LifecycleEvent
from network.programme.schema import member_events
from tests.conftest import PG_ADMIN_URL, _libpq
from tests.network import wallet_world as ww
from tests.network.test_wallet_graphql import Api
from tests.network.test_wallet_pages import make_browser, text_of
from tests.partners.conftest import TestClient
from tests.support import ledger_world as w

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def enrol(db: Database, **kw: object) -> members.Member:
    return members.enrol(db, secret=ww.SECRET, scope="system", idempotency_key=w.key("enrol"),
                         enrolled_by=None, now=T0, **kw)  # type: ignore[arg-type]


def counts(db: Database) -> tuple[int, int, int]:
    return db.read(lambda conn: tuple(  # type: ignore[return-value]
        conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (members_table, member_events, idempotency_keys)))


def facts(db: Database, kind: str) -> list[LifecycleEvent]:
    def read(conn: sa.Connection) -> list[LifecycleEvent]:
        ids = conn.execute(select(member_events.c.id).where(member_events.c.type == kind)
                           .order_by(member_events.c.id)).scalars().all()
        return [inbox.get(conn, i).fact for i in ids]  # type: ignore[union-attr,misc]

    return db.read(read)


def test_every_member_gets_a_code_of_their_own_and_is_enrolled_once(db: Database) -> None:
    sara = enrol(db, email="sara@example.com", birth_date=dt.date(1990, 5, 17))
    assert referrals.normalize(sara.referral_code) == sara.referral_code
    assert sara.birth_date == dt.date(1990, 5, 17) and sara.referred_by is None
    ali = enrol(db, referrer_code=sara.referral_code.lower()[:5] + "-" + sara.referral_code[5:])
    assert ali.referred_by == sara.id and ali.referral_code != sara.referral_code
    enrolled = facts(db, "enrolled")
    assert [(f.member_id, dict(f.attributes)) for f in enrolled] == [
        (sara.id, {"referred": False}), (ali.id, {"referred": True})]
    assert enrolled[0].at == T0
    # a retried enrolment is the same member and raises nothing twice
    again = members.enrol(db, secret=ww.SECRET, scope="system", idempotency_key="same",
                          enrolled_by=None, phone="+989121234567", now=T0)
    before = counts(db)
    assert members.enrol(db, secret=ww.SECRET, scope="system", idempotency_key="same",
                         enrolled_by=None, phone="+989121234567", now=T0).id == again.id
    assert counts(db) == before


@pytest.mark.parametrize(("kw", "code", "field"), [
    ({"referrer_code": "ZZZZZZZZZZ"}, "REFERRER_NOT_FOUND", "referrerCode"),
    ({"referrer_code": "not a code!"}, "REFERRER_NOT_FOUND", "referrerCode"),
    ({"birth_date": dt.date(2026, 3, 2)}, "INVALID_INPUT", "birthDate"),  # after "today"
    ({"birth_date": dt.date(1899, 12, 31)}, "INVALID_INPUT", "birthDate"),
])
def test_a_refused_enrolment_writes_nothing(db: Database, kw: dict[str, object], code: str,
                                            field: str) -> None:
    enrol(db)
    before = counts(db)
    with pytest.raises(LedgerError) as refused:
        enrol(db, email="new@example.com", **kw)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert counts(db) == before


def test_birthdays_are_raised_once_a_year(db: Database) -> None:
    sara = enrol(db, birth_date=dt.date(1990, 5, 17)).id
    leap = enrol(db, birth_date=dt.date(2000, 2, 29)).id
    enrol(db, birth_date=dt.date(1990, 5, 18))
    enrol(db)  # no birth date
    first = birthdays.raise_due(db, dt.date(2026, 5, 17), zone="Asia/Tehran")
    assert (first.due, first.raised) == (1, [sara])
    again = birthdays.raise_due(db, dt.date(2026, 5, 17), zone="Asia/Tehran")
    assert (again.due, again.raised) == (1, [])
    [fact] = facts(db, "birthday")
    assert fact.member_id == sara and fact.attributes["year"] == 2026
    assert fact.at == dt.datetime(2026, 5, 16, 20, 30, tzinfo=dt.UTC)  # midnight in Tehran
    assert birthdays.raise_due(db, dt.date(2027, 5, 17)).raised == [sara]  # next year again
    # 29 February is celebrated on 28 February when the year has none, and on the day otherwise
    assert birthdays.raise_due(db, dt.date(2027, 2, 28)).raised == [leap]
    assert birthdays.raise_due(db, dt.date(2028, 2, 28)).raised == []
    assert birthdays.raise_due(db, dt.date(2028, 2, 29)).raised == [leap]
    assert len(facts(db, "birthday")) == 4


def test_birthdays_command(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    enrol(db, birth_date=dt.date(1990, 5, 17))
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", ww.SECRET)
    runner = CliRunner()
    first = runner.invoke(main, ["programme", "birthdays", "--date", "2026-05-17"])
    assert first.exit_code == 0, first.output
    assert first.output == "2026-05-17: 1 birthdays, 1 raised now, 0 raised before\n"
    second = runner.invoke(main, ["programme", "birthdays", "--date", "2026-05-17"])
    assert second.output == "2026-05-17: 1 birthdays, 0 raised now, 1 raised before\n"


def test_the_migration_creates_the_standard_types(sqlite_db: Database) -> None:
    """A migrated database (the SQLite template; PostgreSQL tests empty every table) holds the
    network's standard event types, owned by the network, with the specs the code declares."""
    found = {t.code: t for t in sqlite_db.read(event_types.listed)}
    assert {code: t.spec.as_json() for code, t in found.items()} == event_specs.STANDARD
    assert all(t.owner_party_id is None for t in found.values())


def test_events_types_command(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", ww.SECRET)
    runner = CliRunner()
    spec = '{"minutes": {"type": "integer", "required": true, "min": 1}}'
    added = runner.invoke(main, ["events", "types", "add", "gym_visit", "--attributes", spec])
    assert added.exit_code == 0, added.output
    assert "registered gym_visit" in added.output
    listed = runner.invoke(main, ["events", "types", "list"])
    assert "gym_visit\tnetwork\t" in listed.output
    taken = runner.invoke(main, ["events", "types", "add", "gym_visit"])
    assert taken.exit_code == 2 and "EVENT_TYPE_EXISTS" in taken.output
    bad = runner.invoke(main, ["events", "types", "add", "pool",
                               "--attributes", '{"n": {"type": "float"}}'])
    assert bad.exit_code == 2 and "INVALID_ATTRIBUTE_SPEC" in bad.output


def test_a_referred_members_first_earn_converts_once(db: Database) -> None:
    cafe = w.partner(db, "cafe")
    sara = enrol(db)
    ali = enrol(db, referrer_code=sara.referral_code)
    assert db.read(inbox.referral_conversion_due, sara.id) is None  # nobody referred Sara
    due = db.read(inbox.referral_conversion_due, ali.id)
    assert due == inbox.ReferralConversion(referrer_id=sara.id, referred_member_id=ali.id)
    at = T0 + dt.timedelta(days=3)
    recorded = db.write(lambda conn: inbox.record_referral_conversion(
        conn, ali.id, partner_id=cafe, at=at))
    assert recorded is not None and recorded.new
    assert recorded.fact.member_id == sara.id and recorded.fact.partner_id == cafe
    assert dict(recorded.fact.attributes) == {"referredMemberId": ali.id}
    assert db.read(inbox.referral_conversion_due, ali.id) is None
    assert db.write(lambda conn: inbox.record_referral_conversion(
        conn, ali.id, partner_id=cafe, at=at)) is None
    assert len(facts(db, "referral_converted")) == 1


def test_conversions_due_for_a_batch(db: Database) -> None:
    sara = enrol(db)
    ali = enrol(db, referrer_code=sara.referral_code)
    reza = enrol(db, referrer_code=sara.referral_code)
    nima = enrol(db)
    assert db.read(inbox.referral_conversions_due, []) == {}
    due = db.read(inbox.referral_conversions_due, [sara.id, ali.id, reza.id, nima.id, ali.id])
    assert due == {ali.id: inbox.ReferralConversion(sara.id, ali.id),
                   reza.id: inbox.ReferralConversion(sara.id, reza.id)}
    db.write(lambda conn: inbox.record_referral_conversion(conn, ali.id, partner_id=None, at=T0))
    assert set(db.read(inbox.referral_conversions_due, [ali.id, reza.id])) == {reza.id}


def test_one_fact_when_two_runs_race(pg_db: Database) -> None:
    """Two birthday runs at once on PostgreSQL: the unique (scope, key) and a rerun of the
    losing transaction leave exactly one fact, and neither run fails."""
    members_ = [enrol(pg_db, birth_date=dt.date(1990, 5, 17)).id for _ in range(30)]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: birthdays.raise_due(pg_db, dt.date(2026, 5, 17)),
                             range(4)))
    assert sorted(m for run in runs for m in run.raised) == members_
    assert len(facts(pg_db, "birthday")) == 30


def test_the_wallet_and_me_show_the_code_and_link(db: Database,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")  # the test delivers codes itself
    inline._drainers.clear()
    sara = ww.enrol(db, email="sara@example.com", name="Sara")
    code = db.read(members.get, sara, ww.SECRET).referral_code  # type: ignore[union-attr]
    link = f"{ww.settings().base_url}/join?ref={code}"
    browser = make_browser(db, ww.Clock(dt.datetime.now(dt.UTC)))
    browser.sign_in("sara@example.com")
    english = browser.get("/wallet").text
    assert text_of(english, "referral-code") == code
    assert text_of(english, "referral-link") == link and f'href="{link}"' in english
    assert "Invite friends" in english
    persian = browser.get("/wallet", headers={"Accept-Language": "fa"}).text
    assert 'dir="rtl"' in persian and "دعوت از دوستان" in persian
    assert text_of(persian, "referral-code") == code  # typed in, so Latin as on the card
    api = Api(db, TestClient(create_app(ww.settings(), db)))
    me = api.call("{ me { referralCode referralLink birthDate } }",
                  token=api.sign_in("sara@example.com"))["data"]["me"]
    assert me == {"referralCode": code, "referralLink": link, "birthDate": None}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: this test migrates down, which the shared ones must not see."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"pointsnet_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_gives_existing_members_codes(empty_url: str) -> None:
    upgrade(empty_url, "0010_member_events")
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as conn:
            for i in range(5):
                conn.execute(sa.text("INSERT INTO members (card_number, locale, created_at) "
                                     "VALUES (:card, 'en', :t)"), {"card": f"card-{i}", "t": T0})
        upgrade(empty_url, "heads")
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT referral_code FROM members")).scalars().all()
        assert len(set(found)) == 5
        assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{10}", code) for code in found)
        assert all(referrals.normalize(code) == code for code in found)
        downgrade(empty_url, "0010_member_events")
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("members")}
        assert "referral_code" not in columns and "birth_date" not in columns
        upgrade(empty_url, "heads")
    finally:
        engine.dispose()
