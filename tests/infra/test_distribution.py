"""The schema stays distributable on Citus by member (issue 22): the plan in
infra/distribution.py checked against the metadata (infra/tables.py), and the hot statements,
captured as they run on PostgreSQL through the real partner API, checked for the member id."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Table, UniqueConstraint, event

from infra.app import create_app
from infra.distribution import (
    EXCEPTIONS,
    FUNCTIONS,
    HOT_STATEMENT_EXCEPTIONS,
    LOCAL,
    MEMBER,
    OWN_KEY,
    PLACEMENTS,
    REFERENCE,
)
from infra.tables import metadata
from network.config import Settings
from network.db.engine import Database
from network.programme import conversions, explain
from network.programme import store as programme_store
from network.wallet import history
from network.wallet.reads import snapshot
from tests.partners.conftest import BASE_URL, CAFE_TERMS, SHOP_TERMS, Hub, operation

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

DISTRIBUTED = (MEMBER, OWN_KEY)


def _uniques(table: Table) -> list[list[str]]:
    found = [[c.name for c in con.columns] for con in table.constraints
             if isinstance(con, UniqueConstraint)]
    found += [[c.name for c in index.columns] for index in table.indexes if index.unique]
    return found


def violations(tables: list[Table] | None = None) -> dict[tuple[str, str], str]:
    """Every break of the distribution rules in `tables` (today's metadata by default):
    (table, rule) -> what."""
    found: dict[tuple[str, str], str] = {}
    for table in metadata.sorted_tables if tables is None else tables:
        place = PLACEMENTS[table.name]
        if place.kind in DISTRIBUTED:
            column = place.column
            assert column is not None and column in table.c, (table.name, column)
            if table.c[column].nullable and not table.c[column].primary_key:
                found[(table.name, f"null:{column}")] = f"{column} may be NULL"
            if column not in [c.name for c in table.primary_key.columns]:
                found[(table.name, "pk")] = f"primary key without {column}"
            for columns in _uniques(table):
                if column not in columns:
                    found[(table.name, f"unique:{','.join(columns)}")] = f"unique without {column}"
        for fk in table.foreign_key_constraints:
            target = PLACEMENTS[fk.referred_table.name]
            allowed = {REFERENCE: {REFERENCE}, LOCAL: {LOCAL, REFERENCE},
                       MEMBER: {REFERENCE}, OWN_KEY: {REFERENCE}}[place.kind]
            if target.kind in allowed:
                continue
            # Co-located: both distributed by member, and the key pairs this row's member
            # with the target's (alone, or beside the target's id).
            pairs = {(element.parent.name, element.column.name) for element in fk.elements}
            co_located = (place.kind == target.kind == MEMBER
                          and (place.column, target.column) in pairs)
            if not co_located:
                found[(table.name, f"fk:{','.join(fk.column_keys)}")] = (
                    f"{place.kind} -> {fk.referred_table.name} ({target.kind})")
    return found


def test_every_table_has_a_placement_and_every_placement_a_table() -> None:
    assert set(PLACEMENTS) == set(metadata.tables)


def test_the_schema_breaks_no_distribution_rule_but_the_listed_ones() -> None:
    found = violations()
    unlisted = {rule: what for rule, what in found.items() if rule not in EXCEPTIONS}
    gone = sorted(rule for rule in EXCEPTIONS if rule not in found)
    assert unlisted == {}, "fix these or list them, with why, in infra/distribution.py"
    assert gone == [], "these hold now: take them off infra/distribution.EXCEPTIONS"


def test_the_rules_catch_what_they_are_for() -> None:
    """The checker itself: a member table keyed on its own id, with a unique code and a key to
    a local table, breaks three rules."""
    from sqlalchemy import BigInteger, Column, ForeignKey, MetaData, String

    scratch = MetaData()
    Table("job_runs", scratch, Column("id", BigInteger, primary_key=True))
    Table("members", scratch, Column("id", BigInteger, primary_key=True))
    Table("lots", scratch, Column("id", BigInteger, primary_key=True),
          Column("member_id", BigInteger, ForeignKey("members.id"), nullable=False),
          Column("code", String, unique=True), Column("run_id", ForeignKey("job_runs.id")))
    found = violations(scratch.sorted_tables)
    assert set(found) == {("lots", "pk"), ("lots", "unique:code"), ("lots", "fk:run_id")}


def test_a_child_is_co_located_only_by_its_own_member() -> None:
    """A key (entry_id, member_id) -> (id, member_id) keeps the child on its parent's shard; one
    that pairs the entry with another member's column does not."""
    from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, MetaData, PrimaryKeyConstraint

    scratch = MetaData()
    Table("members", scratch, Column("id", BigInteger, primary_key=True))
    Table("journal_entries", scratch, Column("id", BigInteger), Column("member_id", BigInteger,
          nullable=False), PrimaryKeyConstraint("id", "member_id"))
    Table("postings", scratch, Column("id", BigInteger), Column("entry_id", BigInteger),
          Column("member_id", BigInteger, nullable=False), PrimaryKeyConstraint("id", "member_id"),
          ForeignKeyConstraint(["entry_id", "member_id"],
                               ["journal_entries.id", "journal_entries.member_id"]))
    Table("gifts", scratch, Column("id", BigInteger), Column("out_entry_id", BigInteger),
          Column("sender_member_id", BigInteger, nullable=False),
          Column("receiver_member_id", BigInteger, nullable=False),
          PrimaryKeyConstraint("id", "sender_member_id"),
          ForeignKeyConstraint(["out_entry_id", "receiver_member_id"],
                               ["journal_entries.id", "journal_entries.member_id"]))
    found = violations(scratch.sorted_tables)
    assert set(found) == {("gifts", "fk:out_entry_id,receiver_member_id")}


# ---- the hot statements -------------------------------------------------------------------------

_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?([a-z_]+)\"?", re.I)


def _unrouted(sql: str) -> list[str]:
    """Distributed tables the statement touches without naming their distribution column."""
    if any(re.search(pattern, sql) for pattern in HOT_STATEMENT_EXCEPTIONS):
        return []
    tables = set(_TABLE.findall(sql))
    # The column must route the statement: in its conditions or the values it writes, not
    # merely among the columns a SELECT returns.
    sql = re.sub(r"\bSELECT\b.*?\bFROM\b", "SELECT FROM", sql, flags=re.S | re.I)
    missing = []
    for name in tables:
        place = PLACEMENTS.get(name)
        if place is None or place.kind not in DISTRIBUTED:
            continue
        column = place.column if name != "members" else r"members\.id|\bid\b"
        if not re.search(rf"\b{column}\b" if name != "members" else column, sql):
            missing.append(name)
    return missing


@pytest.fixture
def captured(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement the hub sends to PostgreSQL, SQLAlchemy's and the hot path's own."""
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    event.listen(pg_db.engine, "before_cursor_execute", before)
    direct = pg_db.pg_statement

    def pg_statement(sql: str, params: Any) -> Any:
        statements.append(sql)
        return direct(sql, params)

    monkeypatch.setattr(pg_db, "pg_statement", pg_statement)
    try:
        yield statements
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", before)


def test_the_hot_statements_name_the_member(pg_db: Database, captured: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The prune of expired nonces (one request in PRUNE_EVERY, at random) is maintenance, not a
    # till's statement: on Citus it fans out like a job would. Kept out so the test is exact.
    from partners import nonces

    monkeypatch.setattr(nonces, "due_for_pruning", lambda: False)
    settings = Settings(database_url=pg_db.url, env="test", secret_key="test-secret")
    with TestClient(create_app(settings, pg_db), base_url=BASE_URL) as http:
        hub = Hub(pg_db, settings, http)
        hub.add_partner("cafe", CAFE_TERMS)
        hub.add_partner("shop", SHOP_TERMS)
        members = [hub.enrol(phone=f"+3120555{n:04d}") for n in range(3)]
        cards = [m.card_number for m in members]
        # Every process cache cold, so what a cache miss reads is checked too, whatever ran
        # before this test in the same process.
        conversions.forget()
        explain.forget_names()
        programme_store.forget_cache()
        captured.clear()  # from here: what partners' tills and members' wallets run all day
        with hub.client("cafe") as cafe:
            for card in cards:
                for _ in range(2):  # the second takes the warm path (cards and terms cached)
                    done = cafe.execute(operation("AwardPoints"), {"input": {
                        "cardNumber": card, "amount": 1000, "currency": "EUR"}})
                    assert done["data"]["awardPoints"]["userErrors"] == []
            lines = [{"cardNumber": card, "amount": 500, "currency": "EUR"} for card in cards]
            batch = cafe.execute(operation("AwardPointsBatch"), {"input": {"lines": lines}})
            assert batch["data"]["awardPointsBatch"]["accepted"] == 3
            redeemed = cafe.execute(operation("RedeemPoints"), {"input": {
                "cardNumber": cards[0], "points": 50}})
            assert redeemed["data"]["redeemPoints"]["userErrors"] == []
            held = cafe.execute(operation("AuthorizeHold"), {"input": {
                "cardNumber": cards[1], "points": 40}})
            hold_id = held["data"]["authorizeHold"]["hold"]["id"]
            captured_hold = cafe.execute(operation("CaptureHold"), {"input": {"holdId": hold_id}})
            assert captured_hold["data"]["captureHold"]["userErrors"] == []
        for member in members:
            snapshot(pg_db, history.page, member.id, first=20)
    assert len(captured) > 30
    unrouted = {sql: _unrouted(sql) for sql in captured if _unrouted(sql)}
    assert unrouted == {}, "\n\n".join(f"{t}: {s}" for s, t in unrouted.items())
    # and the exception is what it says: the card lookup ran, once per card (then cached)
    card_lookups = [sql for sql in captured
                    if any(re.search(p, sql) for p in HOT_STATEMENT_EXCEPTIONS)]
    assert 1 <= len(card_lookups) <= len(cards) * 2


def test_every_database_function_is_placed_by_its_member_argument(pg_db: Database) -> None:
    """The functions the migrations create (FUNCTIONS): each placed by an argument it has,
    co-located with a member-keyed table, and each statement in it names the member of every
    distributed table it touches, as a hot statement must."""
    rows = pg_db.read(lambda c: c.exec_driver_sql(
        "SELECT p.proname, p.proargnames, p.prosrc FROM pg_proc AS p"
        " JOIN pg_namespace AS n ON n.oid = p.pronamespace"
        " WHERE n.nspname = current_schema() AND p.prokind = 'f'"
        " AND p.prorettype <> 'trigger'::regtype").all())
    assert {row.proname for row in rows} == set(FUNCTIONS)
    for row in rows:
        place = FUNCTIONS[row.proname]
        assert place.argument in row.proargnames
        assert PLACEMENTS[place.colocate_with].kind == MEMBER
        statements = re.sub(r"--[^\n]*", "", row.prosrc).split(";")
        # the body was read: it names the table the function is co-located with
        assert any(place.colocate_with in statement for statement in statements)
        unrouted = {sql: _unrouted(sql) for sql in statements if _unrouted(sql)}
        assert unrouted == {}, unrouted
