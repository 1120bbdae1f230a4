"""The console's tier ladder form over HTTP on PostgreSQL: a bad value is shown beside its input
with the CLI's code, the typed values stay, nothing is written; fixed, the ladder is in force and
audited before and after; a tier in use cannot be removed; support, finance and viewers read
the page and are refused the write by the server."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from network import audit, parties
from network.console import tier_form
from network.db.engine import Database
from network.programme import ladder, ladder_store, store
from network.programme.campaigns import Conditions, sole_funder
from network.programme.tiers import DEFINITIONS
from network.programme.validation import Problem
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock, browser
from tests.network.programme.values import campaign

FORM = tier_form.from_document(ladder.to_document(DEFINITIONS))  # four tiers and a blank row


def _posted(**changes: str) -> dict[str, str]:
    form = {k: str(v) for k, v in FORM.items()} | changes
    return form


def test_the_form_reads_people_s_digits_and_skips_blank_and_removed_rows() -> None:
    values = dict(FORM) | {"windowDays": "۱۸۰", "tiers[1].earnMultiplier": "۱٫۵",
                           "tiers[2].remove": "1", "tiers[4].code": "diamond",
                           "tiers[4].threshold": "100000"}
    doc, rows = tier_form.document(values)
    assert doc["windowDays"] == "180" and rows == [0, 1, 3, 4]
    assert doc["tiers"][1]["earnMultiplier"] == "1.5"
    assert [t["code"] for t in doc["tiers"]] == ["blue", "silver", "platinum", "diamond"]
    placed = tier_form.by_input((Problem("tiers[3].nameEn", "TIER_NAME_MISSING", "m"),
                                 Problem("tiers[2].name", "TIER_NAME_MISSING", "m"),
                                 Problem("tiers", "TIER_IN_USE", "m")), rows)
    assert sorted(placed) == ["tiers", "tiers[3].nameEn", "tiers[4].nameEn"]


def test_an_operator_fixes_and_saves_the_ladder(pg_db: Database, app, clock: Clock) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    page = op.get("/console/tiers")
    assert page.status_code == 200 and 'data-testid="tier-form"' in page.text
    bad = op.post("/console/tiers", _posted(**{"tiers[2].earnMultiplier": "0",
                                               "tiers[3].threshold": "5000"}))
    assert bad.status_code == 400
    assert 'data-field="tiers[2].earnMultiplier" data-code="TIER_MULTIPLIER_OUT_OF_RANGE"' \
        in bad.text
    assert 'data-field="tiers[3].threshold" data-code="TIER_THRESHOLD_NOT_RISING"' in bad.text
    assert 'name="tiers[3].threshold" value="5000"' in bad.text  # kept as typed
    assert pg_db.read(ladder_store.newest) == DEFINITIONS and pg_db.read(audit.entries) == []

    saved = op.post("/console/tiers", _posted(**{
        "tiers[2].earnMultiplier": "3", "tiers[4].code": "diamond",
        "tiers[4].nameEn": "Diamond", "tiers[4].nameFa": "الماس",
        "tiers[4].threshold": "100000", "tiers[4].earnMultiplier": "2.5",
        "tiers[4].retentionDays": "30"}))
    assert saved.status_code == 303, saved.text
    now_in_force = pg_db.read(ladder_store.newest)
    assert [t.code for t in now_in_force] == ["blue", "silver", "gold", "platinum", "diamond"]
    assert now_in_force[2].earn_multiplier == Decimal(3)
    [entry] = pg_db.read(audit.entries)
    assert (entry.action, entry.subject, entry.actor_kind) == (
        "tiers.ladder_set", "tier_ladder", "staff")
    assert entry.before["tiers"][2]["earnMultiplier"] == "1.5"
    assert entry.after["tiers"][4]["code"] == "diamond"
    shown = op.get("/console/tiers?done=1").text
    assert 'data-tier="diamond"' in shown and 'role="status"' in shown


def test_a_tier_in_use_cannot_be_removed_from_the_form(pg_db: Database, app,
                                                       clock: Clock) -> None:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe"))
    store.forget_cache()
    pg_db.write(store.create, campaign(code="gold-days", funder=sole_funder(cafe),
                                       conditions=Conditions(tiers=frozenset({"gold"}))),
                owner_party_id=cafe)
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/tiers")
    refused = op.post("/console/tiers", _posted(**{"tiers[2].remove": "1"}))
    assert refused.status_code == 400
    assert 'data-field="tiers" data-code="TIER_IN_USE"' in refused.text
    assert "gold-days" in refused.text
    assert 'name="tiers[2].remove" value="1" checked' in refused.text
    assert pg_db.read(ladder_store.newest) == DEFINITIONS
    # Platinum is named by nothing: it may go.
    assert op.post("/console/tiers", _posted(**{"tiers[3].remove": "1"})).status_code == 303
    assert [t.code for t in pg_db.read(ladder_store.newest)] == ["blue", "silver", "gold"]


@pytest.mark.parametrize("role", ["support", "finance", "viewer"])
def test_only_operators_edit_the_ladder(pg_db: Database, app, clock: Clock, role: str) -> None:
    reader = browser(app, bw.person(pg_db, role), clock)
    page = reader.get("/console/tiers")
    assert page.status_code == 200 and 'data-tier="gold"' in page.text
    assert 'data-testid="tier-form"' not in page.text
    assert reader.post("/console/tiers", _posted(**{"tiers[2].earnMultiplier": "3"})
                       ).status_code == 403
    assert pg_db.read(ladder_store.newest) == DEFINITIONS and pg_db.read(audit.entries) == []


def test_the_page_shows_who_set_the_ladder_in_force(pg_db: Database, app, clock: Clock) -> None:
    pg_db.write(lambda c: ladder_store.save(c, ladder.to_document(DEFINITIONS),
                                            actor_kind="system", actor_id=None, by="cli",
                                            now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)))
    viewer = browser(app, bw.person(pg_db, "viewer"), clock)
    assert "set by cli" in viewer.get("/console/tiers").text
