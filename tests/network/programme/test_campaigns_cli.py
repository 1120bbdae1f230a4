"""`pointsnet campaigns …` end to end through the real command line, on both databases."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network import parties
from network.db.engine import Database
from network.programme import store


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    return CliRunner().invoke(main, list(args))


DOCUMENT = {
    "code": "cafe-double", "nameEn": "Double points", "nameFa": "امتیاز دوبرابر",
    "trigger": {"kind": "purchase"}, "effect": {"kind": "multiplier", "factor": "2"},
    "funder": [{"party": "cafe", "share": 5000}, {"party": "network", "share": 5000}],
    "startsAt": "2026-06-01T00:00:00+03:30", "conditions": {"partners": ["cafe"]},
    "limits": {"budgetPoints": 10000},
}


def test_create_activate_pause_end_from_the_command_line(db, monkeypatch, tmp_path):
    cafe = db.write(lambda conn: parties.create(conn, kind="partner", code="cafe", name="Cafe"))
    store.forget_cache()
    path = tmp_path / "c.json"
    path.write_text(json.dumps(DOCUMENT, ensure_ascii=False), encoding="utf-8")
    created = _cli(db, monkeypatch, "campaigns", "create", "--file", str(path), "--owner", "cafe")
    assert created.exit_code == 0, created.output
    assert created.output.startswith("created cafe-double  #1  draft  Double points  "
                                     "budget=0/10000")
    shown = json.loads(_cli(db, monkeypatch, "campaigns", "show", "cafe-double").output)
    assert shown["funder"] == [{"partyId": cafe, "share": 5000},
                               {"partyId": db.read(parties.network_party_id), "share": 5000}]
    assert shown["conditions"]["partners"] == [cafe] and shown["ownerPartyId"] == cafe
    for verb, status in (("activate", "active"), ("pause", "paused"), ("activate", "active"),
                         ("end", "ended")):
        moved = _cli(db, monkeypatch, "campaigns", verb, "cafe-double")
        assert moved.exit_code == 0, moved.output
        assert moved.output.startswith(f"{status} cafe-double  #1  {status}")
    refused = _cli(db, monkeypatch, "campaigns", "activate", "cafe-double")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("pointsnet: error: STATUS_CHANGE_NOT_ALLOWED: status: ")
    listed = _cli(db, monkeypatch, "campaigns", "list").output.splitlines()
    assert len(listed) == 1 and listed[0].startswith("cafe-double  #1  ended")


def test_every_problem_is_one_line_and_nothing_is_written(db, monkeypatch, tmp_path):
    db.write(lambda conn: parties.create(conn, kind="partner", code="cafe", name="Cafe"))
    path = tmp_path / "c.json"
    bad = DOCUMENT | {"effect": {"kind": "multiplier", "factor": "0.5"},
                      "conditions": {"partners": ["cafe"], "maxAmount": -1}}
    path.write_text(json.dumps(bad), encoding="utf-8")
    refused = _cli(db, monkeypatch, "campaigns", "create", "--file", str(path))
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "pointsnet: error: AMOUNT_NEGATIVE: conditions.maxAmount: conditions.maxAmount is a "
        "whole number of minor units, 0 or more, got -1",
        "pointsnet: error: MULTIPLIER_OUT_OF_RANGE: effect.factor: effect.factor must be above "
        "1 and at most 10, got 0.5"]
    path.write_text(json.dumps(DOCUMENT | {"funder": [{"party": "nobody", "share": 10000}]}))
    refused = _cli(db, monkeypatch, "campaigns", "create", "--file", str(path))
    assert refused.stderr == ("pointsnet: error: PARTY_UNKNOWN: funder[0].party: no party with "
                              "code 'nobody'\n")
    path.write_text("{not json")
    refused = _cli(db, monkeypatch, "campaigns", "create", "--file", str(path))
    assert refused.exit_code == 2 and refused.stderr.startswith("pointsnet: error: BAD_JSON: ")
    missing = _cli(db, monkeypatch, "campaigns", "show", "nope")
    assert missing.stderr == ("pointsnet: error: CAMPAIGN_NOT_FOUND: code: no campaign with code "
                              "'nope'\n")
    assert db.read(store.list_campaigns) == []
