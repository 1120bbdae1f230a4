"""The console's campaign form and simulation over HTTP on PostgreSQL: a bad field is shown beside
its input with the API's code, the typed values stay, nothing is written; fixed, the campaign is
saved as a draft (a staff write: no approval asked) and audited with its document; an edit is
audited before and after; a stored campaign and the form's unsaved draft are simulated over a
past month; support, finance and viewers are refused every write by the server."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from network import audit
from network.console import campaign_form, programme_messages
from network.db.engine import Database
from network.ledger.earning import earn
from network.programme import approval, management, store
from network.programme.validation import Problem
from partners.registry import create_partner
from partners.terms import Terms
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock, browser

TEHRAN = ZoneInfo("Asia/Tehran")


def test_both_languages_have_every_word() -> None:
    assert set(programme_messages.EN) == set(programme_messages.FA)


def test_the_form_types_values_as_people_do_and_passes_the_rest_on_as_typed() -> None:
    values = {"code": " spring ", "trigger.kind": "purchase", "effect.kind": "multiplier",
              "effect.factor": "۱٫۵", "effect.points": "ignored: not the chosen effect",
              "funder[0].party": "cafe", "funder[0].share": "33.33",
              "funder[2].party": "network", "funder[2].share": "66.67",
              "startsAt": "2026-06-01T00:00", "endsAt": "not a time",
              "conditions.minAmount": "12.50", "conditions.maxAmount": "12.505",
              "conditions.weekdays": ["3", "4"], "conditions.categories": "coffee, pastry",
              "limits.perMemberDay": "۲", "limits.budgetPoints": "lots"}
    doc, rows = campaign_form.document(values, zone=TEHRAN, currency="EUR")
    assert doc["code"] == "spring" and doc["effect"] == {"kind": "multiplier", "factor": "1.5"}
    assert doc["funder"] == [{"party": "cafe", "share": 3333},
                             {"party": "network", "share": 6667}] and rows == [0, 2]
    assert doc["startsAt"] == "2026-06-01T00:00:00+03:30" and doc["endsAt"] == "not a time"
    assert doc["conditions"] == {"minAmount": 1250, "maxAmount": "12.505",
                                 "weekdays": [3, 4], "categories": ["coffee", "pastry"]}
    assert doc["limits"] == {"perMemberDay": 2, "budgetPoints": "lots"}
    placed = campaign_form.by_input(
        (Problem("funder[1].share", "SHARE_OUT_OF_RANGE", "m"),
         Problem("funder[1].partyId", "PARTY_UNKNOWN", "m"),
         Problem("effect", "EFFECT_NOT_AVAILABLE", "m")), rows)
    assert sorted(placed) == ["effect.kind", "funder[2].party", "funder[2].share"]


@pytest.fixture
def cafe(pg_db: Database) -> int:
    return pg_db.write(lambda c: create_partner(
        c, code="cafe", name="Cafe", name_fa="کافه", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        terms=Terms(earn_points_per_unit=Decimal("10"),
                    clearing_price_per_point=Decimal("0.5")))).id


FORM = {"owner": "cafe", "code": "double", "nameEn": "Double points", "nameFa": "دوبرابر",
        "trigger.kind": "purchase", "effect.kind": "multiplier", "effect.factor": "0",
        "funder[0].party": "cafe", "funder[0].share": "50",
        "funder[1].party": "network", "funder[1].share": "50",
        "startsAt": "2027-06-01T00:00", "conditions.partners": "cafe",
        "limits.budgetPoints": "10000", "priority": "0", "stacking": "stackable"}


def test_an_operator_creates_fixes_and_edits_a_campaign(pg_db: Database, app, clock: Clock,
                                                       cafe: int) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    assert op.get("/console/campaigns/new").status_code == 200
    # The document's shape first (as the API: the codec), then its values (validation).
    shape = op.post("/console/campaigns/new", FORM | {"limits.perMemberDay": "two"})
    assert shape.status_code == 400
    assert 'data-field="limits.perMemberDay" data-code="WRONG_TYPE"' in shape.text
    assert 'name="limits.perMemberDay" value="two"' in shape.text  # kept as typed
    bad = op.post("/console/campaigns/new", FORM)
    assert bad.status_code == 400
    assert 'data-field="effect.factor" data-code="MULTIPLIER_OUT_OF_RANGE"' in bad.text
    assert 'name="nameFa" value="دوبرابر"' in bad.text
    assert 'name="effect.factor" value="0"' in bad.text
    assert pg_db.read(store.list_campaigns) == [] and pg_db.read(audit.entries) == []

    saved = op.post("/console/campaigns/new", FORM | {"effect.factor": "2"})
    assert saved.status_code == 303, saved.text
    stored = pg_db.read(store.get, "double")
    assert stored.campaign.status == "draft" and stored.owner_party_id == cafe
    assert [(f.share) for f in stored.campaign.funder] == [5000, 5000]
    assert str(stored.campaign.effect.factor) == "2"
    # Funds the network's points: a partner asking would wait; the network's own write does not.
    [managed] = pg_db.read(lambda c: management.view(c, [stored]))
    assert managed.approval == "APPROVED"
    again = op.post("/console/campaigns/new", FORM | {"effect.factor": "2"})
    assert 'data-field="code" data-code="CAMPAIGN_CODE_TAKEN"' in again.text

    form = op.get("/console/campaigns/double/edit").text
    assert 'name="effect.factor" value="2"' in form and 'value="cafe" checked' in form
    assert op.post("/console/campaigns/double/edit",
                   FORM | {"effect.factor": "3", "code": "double"}).status_code == 303
    assert str(pg_db.read(store.get, "double").campaign.effect.factor) == "3"
    entries = pg_db.read(audit.entries)
    assert [(e.action, e.subject) for e in entries] == [
        ("campaign.created", "campaign:double"), ("campaign.edited", "campaign:double")]
    assert entries[1].before["effect"]["factor"] == "2"
    assert entries[1].after["effect"]["factor"] == "3"


def test_a_partners_pending_request_edited_by_staff_is_the_networks_own(
        pg_db: Database, app, clock: Clock, cafe: int) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/campaigns/new")
    assert op.post("/console/campaigns/new", FORM | {"effect.factor": "2"}).status_code == 303
    pg_db.write(lambda c: approval.ask(c, store.get(c, "double").campaign, True))
    op.get("/console/campaigns")
    waiting = op.get("/console/campaigns").text
    assert 'data-approval="PENDING_APPROVAL"' in waiting
    assert 'data-reason="FUNDS_OTHER_PARTY"' in waiting  # why it waits, for the approver
    op.get("/console/campaigns/double/edit")
    op.post("/console/campaigns/double/edit", FORM | {"effect.factor": "2.5"})
    assert 'data-approval="APPROVED"' in op.get("/console/campaigns").text


@pytest.mark.parametrize("role", ["support", "finance", "viewer"])
def test_only_operators_write_campaigns(pg_db: Database, app, clock: Clock, cafe: int,
                                        role: str) -> None:
    reader = browser(app, bw.person(pg_db, role), clock)
    listing = reader.get("/console/campaigns")
    assert listing.status_code == 200 and "/console/campaigns/new" not in listing.text
    assert reader.get("/console/campaigns/new").status_code == 403
    assert reader.post("/console/campaigns/new", FORM | {"effect.factor": "2"}).status_code == 403
    assert pg_db.read(store.list_campaigns) == []


def test_simulate_a_stored_campaign_and_the_forms_draft(pg_db: Database, app, clock: Clock,
                                                        cafe: int) -> None:
    m1, m2 = ww.enrol(pg_db, by=cafe), ww.enrol(pg_db, by=cafe)
    for key, member, amount, points, day in (("a", m1, 1000, 100, 2), ("b", m2, 2000, 200, 9),
                                             ("c", m1, 3000, 300, 20)):
        earn(pg_db, scope="test", idempotency_key=key, issuer_id=cafe, member_id=member,
             points=points, details={"amount_minor": amount, "currency": "EUR"},
             now=dt.datetime(2026, 10, day, 12, tzinfo=dt.UTC))
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/campaigns/new")
    op.post("/console/campaigns/new", FORM | {"effect.factor": "1.5"})
    viewer = browser(app, bw.person(pg_db, "viewer"), clock)
    page = viewer.get("/console/campaigns/simulation?campaign=double&period=2026-10")
    assert page.status_code == 200, page.text
    assert 'data-testid="sim-members">2<' in page.text
    assert 'data-testid="sim-points">300<' in page.text
    assert 'data-funder="cafe" data-points="150" data-value="75' in page.text
    assert 'data-funder="network" data-points="150" data-value=""' in page.text

    op.get("/console/campaigns/new")
    draft = op.post("/console/campaigns/simulation",
                    FORM | {"code": "draft", "effect.factor": "2", "period": "2026-10",
                            "funder[1].party": "", "funder[1].share": "",
                            "funder[0].share": "100"})
    assert draft.status_code == 200, draft.text
    assert 'data-testid="sim-points">600<' in draft.text
    assert 'data-funder="cafe" data-points="600" data-value="300' in draft.text
    wrong = op.post("/console/campaigns/simulation", FORM | {"period": "2026-10"})
    assert wrong.status_code == 400  # back to the form, the problem beside its input
    assert 'data-field="effect.factor" data-code="MULTIPLIER_OUT_OF_RANGE"' in wrong.text
    assert 'name="nameEn" value="Double points"' in wrong.text
    future = viewer.get("/console/campaigns/simulation?campaign=double&period=2999-01")
    assert future.status_code == 400 and 'data-code="PERIOD_IN_FUTURE"' in future.text
    assert [e.action for e in pg_db.read(audit.entries)] == ["campaign.created"]


def test_the_tier_ladder_and_how_many_members_hold_each_tier(pg_db: Database, app,
                                                             clock: Clock, cafe: int) -> None:
    from network.programme import tiers, tiers_store

    gold_member, _ = ww.enrol(pg_db, by=cafe), ww.enrol(pg_db, by=cafe)
    decision = tiers.TierDecision(tiers.DEFINITIONS[2], dt.date(2027, 1, 1), True)
    pg_db.write(lambda c: tiers_store.apply(
        c, gold_member, None, decision, earned=10_000, at=clock.now, reason="recalc",
        definitions=tiers.DEFINITIONS, zone=ZoneInfo("UTC")))
    viewer = browser(app, bw.person(pg_db, "viewer"), clock)
    page = viewer.get("/console/tiers")
    assert page.status_code == 200
    assert 'data-tier="silver" data-threshold="2000" data-multiplier="1.25" data-retention="90"' \
        in page.text
    assert 'data-tier="blue" data-members="1"' in page.text
    assert 'data-tier="gold" data-members="1"' in page.text
    assert 'data-tier="silver" data-members="0"' in page.text
