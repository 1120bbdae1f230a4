"""The console's segments pages over HTTP on PostgreSQL: every staff role reads the list and a
segment's page (cards masked but for the last four digits); an operator creates static and rule
segments through segments_store.create (the CLI's codes and fields, nothing written when
refused), imports a static list all or nothing (each bad line named by its number) and
refreshes a rule segment now; each change is one audit entry; other roles get 403 on every
POST and write nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from network import audit, cards, parties
from network.db.engine import Database
from network.db.schema import members
from network.programme import segments_store
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock, browser

RULE = {"all": [{"earned": {"days": 90, "at_least": 1000}}]}


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe",
                                                name_fa="کافه"))
    rich = ww.enrol(pg_db, email="rich@example.com", by=cafe)
    poor = ww.enrol(pg_db, email="poor@example.com", by=cafe)
    now = dt.datetime.now(dt.UTC)
    ww.earn(pg_db, cafe, rich, 1500, at=now - dt.timedelta(days=3))
    ww.earn(pg_db, cafe, poor, 200, at=now - dt.timedelta(days=3))
    card = dict(pg_db.read(lambda c: c.execute(
        select(members.c.id, members.c.card_number)).tuples().all()))
    return {"cafe": cafe, "rich": card[rich], "poor": card[poor]}


def _segment(db: Database, code: str) -> segments_store.Segment | None:
    found = db.read(segments_store.list_segments)
    return next((s for s in found if s.code == code), None)


def test_an_operator_creates_imports_and_refreshes_each_audited(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    op = browser(app, bw.person(pg_db, "operator"), clock)
    assert op.get("/console/segments").status_code == 200
    made = op.post("/console/segments", {"code": "vip", "name_en": "VIP", "name_fa": "ویژه",
                                         "kind": "static", "rule": ""})
    assert made.status_code == 303
    assert made.headers["location"] == "/console/segments/vip?done=created"
    # A list with a bad line: refused whole, the line named, nothing imported.
    op.get("/console/segments/vip")
    bad = f"card_number\n{world['rich']}\n1234\n{world['rich']}\n"
    refused = op.post("/console/segments/vip/import",
                      files={"file": ("vip.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 400
    assert 'data-line="3"' in refused.text and 'data-code="CARD_MALFORMED"' in refused.text
    assert 'data-line="4"' in refused.text and 'data-code="CARD_DUPLICATE"' in refused.text
    assert _segment(pg_db, "vip").members == 0
    good = f"card_number\n{world['rich']}\n{world['poor']}\n"
    imported = op.post("/console/segments/vip/import",
                       files={"file": ("vip.csv", good.encode("utf-8-sig"), "text/csv")})
    assert imported.status_code == 303
    assert _segment(pg_db, "vip").members == 2
    page = op.get("/console/segments/vip").text
    assert f"•••• {world['rich'][-4:]}" in page and world["rich"] not in page
    # A rule segment gets its members at once; a refresh re-evaluates it.
    rule = op.post("/console/segments", {"code": "big-earners", "name_en": "Big earners",
                                         "name_fa": "پرامتیازها", "kind": "rule",
                                         "rule": json.dumps(RULE)})
    assert rule.status_code == 303
    assert _segment(pg_db, "big-earners").members == 1
    op.get("/console/segments/big-earners")
    assert op.post("/console/segments/big-earners/refresh").status_code == 303
    # A static segment has no rule to refresh.
    assert op.post("/console/segments/vip/refresh").status_code == 404
    logged = pg_db.read(lambda c: audit.entries(c))
    assert sorted((e.action, e.subject) for e in logged) == [
        ("segment.created", "segment:big-earners"), ("segment.created", "segment:vip"),
        ("segment.imported", "segment:vip"), ("segment.refreshed", "segment:big-earners")]
    imported_entry = next(e for e in logged if e.action == "segment.imported")
    assert (imported_entry.before, imported_entry.after) == (
        {"members": 0}, {"members": 2, "added": 2, "removed": 0})


@pytest.mark.parametrize(("form", "code", "field"), [
    ({"code": "VIP!"}, "SEGMENT_CODE_INVALID", "code"),
    ({"name_fa": " "}, "SEGMENT_NAME_INVALID", "name_fa"),
    ({"code": "rfm-mine"}, "SEGMENT_KIND_RESERVED", "code"),
    ({"kind": "rule", "rule": "{not json"}, "RULE_INVALID", "rule"),
    ({"kind": "rule", "rule": json.dumps({"all": [{"tier": ["platinum-x"]}]})},
     "RULE_UNKNOWN_TIER", "rule.all[0].tier"),
    ({"kind": "rule", "rule": json.dumps({"all": [{"visited": {"partner": "nope",
                                                              "days": 30}}]})},
     "RULE_UNKNOWN_PARTNER", "rule.all[0].visited.partner"),
])
def test_a_refused_segment_names_the_cli_code_and_writes_nothing(
        pg_db: Database, app, clock: Clock, world: dict,  # type: ignore[no-untyped-def]
        form: dict[str, str], code: str, field: str) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/segments")
    sent = {"code": "vip", "name_en": "VIP", "name_fa": "ویژه", "kind": "static", "rule": "",
            **form}
    refused = op.post("/console/segments", sent)
    assert refused.status_code == 400
    assert f'data-code="{code}" data-field="{field}"' in refused.text
    assert pg_db.read(segments_store.list_segments) == []
    assert pg_db.read(lambda c: audit.entries(c)) == []


def test_an_existing_code_and_an_unknown_card_list_are_refused(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/segments")
    assert op.post("/console/segments", {"code": "vip", "name_en": "VIP", "name_fa": "ویژه",
                                         "kind": "static"}).status_code == 303
    op.get("/console/segments")
    again = op.post("/console/segments", {"code": "vip", "name_en": "V", "name_fa": "و",
                                          "kind": "static"})
    assert again.status_code == 400 and 'data-code="SEGMENT_EXISTS"' in again.text
    op.get("/console/segments/vip")
    unknown = "4" * 15 + cards.luhn_check_digit("4" * 15)
    refused = op.post("/console/segments/vip/import",
                      files={"file": ("x.csv", f"{unknown}\n".encode(), "text/csv")})
    assert refused.status_code == 400 and 'data-code="CARD_UNKNOWN"' in refused.text
    assert _segment(pg_db, "vip").members == 0
    assert op.post("/console/segments/nope/import",
                   files={"file": ("x.csv", b"1\n", "text/csv")}).status_code == 404


@pytest.mark.parametrize("role", ["support", "finance", "viewer"])
def test_other_staff_read_but_every_post_is_403(
        pg_db: Database, app, clock: Clock, world: dict, role: str) -> None:  # type: ignore[no-untyped-def]
    pg_db.write(lambda c: segments_store.create(c, code="vip", name_en="VIP", name_fa="ویژه",
                                                rule=None, now=dt.datetime.now(dt.UTC)))
    pg_db.write(segments_store.import_static, "vip", f"{world['rich']}\n",
                dt.datetime.now(dt.UTC))
    reader = browser(app, bw.person(pg_db, role), clock)
    listing = reader.get("/console/segments")
    assert listing.status_code == 200 and 'data-segment="vip"' in listing.text
    assert 'data-testid="segment-form"' not in listing.text
    shown = reader.get("/console/segments/vip")
    assert shown.status_code == 200 and 'data-testid="segment-import-form"' not in shown.text
    assert reader.post("/console/segments", {"code": "x", "name_en": "X", "name_fa": "ایکس",
                                             "kind": "static"}).status_code == 403
    assert reader.post("/console/segments/vip/import",
                       files={"file": ("x.csv", b"", "text/csv")}).status_code == 403
    assert reader.post("/console/segments/vip/refresh").status_code == 403
    assert [s.code for s in pg_db.read(segments_store.list_segments)] == ["vip"]
    assert _segment(pg_db, "vip").members == 1
    assert pg_db.read(lambda c: audit.entries(c)) == []


def test_a_partner_user_cannot_open_segments(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]
    manager = bw.signed_in(app, bw.person(pg_db, "manager", partner_id=world["cafe"]), clock,
                           door="/partner/signin")
    assert manager.get("/console/segments").status_code == 403
