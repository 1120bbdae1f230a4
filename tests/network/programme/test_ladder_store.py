"""The tier ladder in the database, on SQLite and PostgreSQL: versions (the newest in force, the
seed when none is stored), a refused edit writes nothing, codes in use stay, every edit is
audited, the per-process cache is as fresh as the campaign index, and the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from infra.cli import main as cli
from network import audit, parties
from network.programme import ladder, ladder_store, rewards_store, segments_store, store, tier_facts
from network.programme.campaigns import Conditions, sole_funder
from network.programme.rewards import RewardSpec, Visibility
from network.programme.tiers import DEFINITIONS
from network.programme.tiers_schema import tier_ladders
from tests.network.programme.values import campaign
from tests.support import ledger_world as w

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SEED = ladder.to_document(DEFINITIONS)


def _edited(**tier2):
    doc = copy.deepcopy(SEED)
    doc["tiers"][2].update(tier2)
    return doc


def _save(db, doc, by="ops@example.org"):
    return db.write(lambda conn: ladder_store.save(conn, doc, actor_kind="staff", actor_id=7,
                                                   by=by, now=NOW))


def _stored(db) -> int:
    return db.read(lambda conn: conn.execute(select(func.count()).select_from(tier_ladders))
                   .scalar_one())


def test_a_saved_ladder_is_in_force_and_read_back_whole(db):
    before = db.read(ladder_store.versions)
    assert before[0].ladder == DEFINITIONS  # the seed: stored by the migration, or implied
    saved = _save(db, _edited(earnMultiplier="3", threshold=12_000))
    assert saved.ladder[2].earn_multiplier == Decimal(3) and saved.ladder[2].threshold == 12_000
    assert db.read(ladder_store.newest) == saved.ladder
    assert db.read(ladder_store.ladder) == saved.ladder  # this process's cache was dropped
    newest, *older = db.read(ladder_store.versions)
    assert (newest.id, newest.created_by, newest.ladder) == (saved.id, "ops@example.org",
                                                             saved.ladder)
    assert older[0].ladder == DEFINITIONS if older else before[0].id == 0
    # Every reader goes through it: the window points and the member's tier status.
    assert db.read(tier_facts.facts, 1, NOW).points_earned == 0


def test_an_edit_is_audited_with_before_and_after(db):
    _save(db, _edited(earnMultiplier="3"))
    [entry] = db.read(audit.entries, subject=ladder_store.AUDIT_SUBJECT)
    assert (entry.actor_kind, entry.actor_id, entry.action) == ("staff", "7", "tiers.ladder_set")
    assert entry.before["tiers"][2]["earnMultiplier"] == "1.5"
    assert entry.after["tiers"][2]["earnMultiplier"] == "3"


def test_a_refused_edit_writes_nothing(db):
    stored = _stored(db)
    with pytest.raises(ladder_store.TierLadderError) as caught:
        _save(db, _edited(earnMultiplier="0", threshold=100))
    assert {(p.field, p.code) for p in caught.value.problems} == {
        ("tiers[2].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE"),
        ("tiers[2].threshold", "TIER_THRESHOLD_NOT_RISING")}
    assert caught.value.code == "TIER_THRESHOLD_NOT_RISING"  # the first, in field order
    assert _stored(db) == stored and db.read(ladder_store.newest) == DEFINITIONS
    assert db.read(audit.entries, subject=ladder_store.AUDIT_SUBJECT) == []


def test_codes_in_use_by_campaigns_rewards_and_segments_stay(db):
    cafe = db.write(lambda conn: parties.create(conn, kind="partner", code="cafe", name="Cafe"))
    store.forget_cache()
    db.write(store.create, campaign(code="gold-days", funder=sole_funder(cafe),
                                    conditions=Conditions(tiers=frozenset({"gold"}))),
             owner_party_id=cafe)
    spec = RewardSpec(kind="coupon", name_en="Lounge", name_fa="سالن", price_points=100,
                      visibility=Visibility(tiers=("platinum",)))
    reward = rewards_store.create(db, partner_id=cafe, spec=spec, scope="staff:1",
                                  idempotency_key=w.key("reward"), now=NOW)
    db.write(lambda conn: segments_store.create(
        conn, code="silvers", name_en="Silver", name_fa="نقره‌ای",
        rule={"all": [{"tier": ["silver"]}]}, now=NOW))
    assert db.read(ladder_store.in_use) == {
        "gold": "campaign 'gold-days' (draft)", "platinum": f"reward #{reward.id}'s visibility",
        "silver": "segment 'silvers''s rule"}
    for index, code in ((1, "silver"), (2, "gold"), (3, "platinum")):
        doc = copy.deepcopy(SEED)
        del doc["tiers"][index]
        with pytest.raises(ladder_store.TierLadderError) as caught:
            _save(db, doc)
        assert caught.value.code == "TIER_IN_USE" and repr(code) in caught.value.message
    # Renaming the others and adding a tier is fine; blue stays as everyone's tier.
    doc = copy.deepcopy(SEED)
    doc["tiers"].append({"code": "diamond", "nameEn": "Diamond", "nameFa": "الماس",
                         "threshold": 100_000, "earnMultiplier": "2.5", "retentionDays": 30})
    assert [t.code for t in _save(db, doc).ladder][-1] == "diamond"


def test_the_cache_is_as_fresh_as_the_campaign_index(db):
    assert ladder_store.TTL == store.VERSION_TTL
    assert db.read(ladder_store.ladder, 1_000.0) == DEFINITIONS

    def elsewhere(doc):  # another process's save: the row only, this process's cache stays
        text = json.dumps(doc, ensure_ascii=False)
        db.write(lambda conn: conn.execute(tier_ladders.insert().values(
            document=text, created_by="elsewhere", created_at=NOW)))

    elsewhere(_edited(earnMultiplier="4"))
    ttl = ladder_store.TTL
    # Within TTL the cached ladder stands; after it, the new version is seen.
    assert db.read(ladder_store.ladder, 1_000.0 + ttl / 2) == DEFINITIONS
    assert db.read(ladder_store.ladder, 1_000.0 + ttl * 2)[2].earn_multiplier == Decimal(4)
    elsewhere(SEED)
    assert ladder_store.for_database(db, 1_000.0 + ttl * 2.5)[2].earn_multiplier == Decimal(4)
    assert ladder_store.for_database(db, 1_000.0 + ttl * 4) == DEFINITIONS
    # A save in this process is in force here at once.
    _save(db, _edited(earnMultiplier="5"))
    assert db.read(ladder_store.ladder, 1_000.0 + ttl * 4)[2].earn_multiplier == Decimal(5)


def test_the_cli_shows_the_ladder_and_sets_a_new_one(db, monkeypatch, tmp_path):
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["programme", "tiers", "show"])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc == SEED
    doc["tiers"][1]["earnMultiplier"] = "1.75"
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    done = runner.invoke(cli, ["programme", "tiers", "set", str(path)])
    assert done.exit_code == 0, done.output
    assert "silver from 2000 x1.75" in done.stdout
    assert db.read(ladder_store.newest)[1].earn_multiplier == Decimal("1.75")
    [entry] = db.read(audit.entries, subject=ladder_store.AUDIT_SUBJECT)
    assert (entry.actor_kind, entry.after["tiers"][1]["earnMultiplier"]) == ("system", "1.75")
    doc["tiers"][2]["threshold"] = 1
    doc["windowDays"] = 0
    path.write_text(json.dumps(doc))
    refused = runner.invoke(cli, ["programme", "tiers", "set", str(path)])
    assert refused.exit_code == 2
    assert "TIER_THRESHOLD_NOT_RISING: tiers[2].threshold" in refused.stderr
    assert "TIER_WINDOW_INVALID: windowDays" in refused.stderr
    assert db.read(ladder_store.newest)[1].earn_multiplier == Decimal("1.75")
