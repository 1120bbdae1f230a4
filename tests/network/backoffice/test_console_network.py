"""The console's network pages over HTTP on PostgreSQL: partners (contract versions from a
future date, key revocation), charities (create, edit), campaigns (pause, activate, approve a
partner's request), each with the same refusals as the CLI and API, each change audited, each
action refused to a viewer by the server."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from network import audit, parties
from network.db.engine import Database
from network.programme import approval, store
from network.programme.campaigns import Conditions, sole_funder
from partners import contracts, keys
from partners.registry import create_partner
from partners.terms import Terms
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock, browser
from tests.network.programme.values import campaign


@pytest.fixture
def cafe(pg_db: Database) -> int:
    now = dt.datetime.now(dt.UTC)
    partner = pg_db.write(lambda c: create_partner(
        c, code="cafe", name="Cafe", name_fa="کافه", now=now - dt.timedelta(days=30),
        terms=Terms(earn_points_per_unit=Decimal("10"))))
    return partner.id


def test_partner_pages_revoke_a_key_and_add_a_rate_from_a_date(pg_db: Database, app, clock: Clock,
                                                               cafe: int) -> None:
    key, _ = pg_db.write(lambda c: keys.create_key(c, party_id=cafe, now=clock.now))
    viewer = browser(app, bw.person(pg_db, "viewer"), clock)
    assert 'data-partner="cafe"' in viewer.get("/console/partners").text
    viewer.get("/console/partners/cafe")
    assert viewer.post(f"/console/partners/cafe/keys/{key.key_id}/revoke").status_code == 403
    assert viewer.post("/console/partners/cafe/contracts",
                       {"from": "2099-01-01", "earn_rate": "5"}).status_code == 403
    op = browser(app, bw.person(pg_db, "operator"), clock)
    page = op.get("/console/partners/cafe")
    assert f'data-key="{key.key_id}" data-status="active"' in page.text
    done = op.post(f"/console/partners/cafe/keys/{key.key_id}/revoke")
    assert done.status_code == 303
    assert pg_db.read(keys.find_key, key.key_id).revoked_at is not None
    past = op.post("/console/partners/cafe/contracts", {"from": "2020-01-01", "earn_rate": "5"})
    assert past.status_code == 400 and 'data-code="CONTRACT_START_IN_PAST"' in past.text
    bad = op.post("/console/partners/cafe/contracts", {"from": "2099-01-01", "earn_rate": "x"})
    assert bad.status_code == 400 and 'data-code="BAD_NUMBER"' in bad.text
    future = (clock.now + dt.timedelta(days=40)).date()
    added = op.post("/console/partners/cafe/contracts",
                    {"from": future.isoformat(), "earn_rate": "۱۲"})
    assert added.status_code == 303
    versions = pg_db.read(contracts.versions, cafe)
    assert [t.earn_points_per_unit for _, t in versions] == [Decimal("12"), Decimal("10")]
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c))] == [
        "partner.key_revoked", "partner.contract_added"]


def test_charities_create_and_edit(pg_db: Database, app, clock: Clock) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/charities")
    made = op.post("/console/charities", {"code": "mahak", "name": "Mahak", "name_fa": "محک"})
    assert made.status_code == 303
    twice = op.post("/console/charities", {"code": "mahak", "name": "Mahak"})
    assert twice.status_code == 400 and 'data-code="DUPLICATE_CODE"' in twice.text
    op.post("/console/charities/mahak", {"name": "Mahak Society", "name_fa": "محک"})
    [found] = pg_db.read(lambda c: parties.list_parties(c, "charity"))
    assert (found.name, found.name_fa) == ("Mahak Society", "محک")
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c))] == [
        "charity.created", "charity.edited"]


def test_campaigns_pause_activate_and_approve(pg_db: Database, app, clock: Clock,
                                              cafe: int) -> None:
    own = campaign(1, funder=sole_funder(cafe), conditions=Conditions(partners=frozenset({cafe})))
    wide = campaign(2, funder=sole_funder(cafe))  # every partner's sales: needs approval

    def seed(conn):  # type: ignore[no-untyped-def]
        store.create(conn, own, owner_party_id=cafe)
        store.set_status(conn, "c1", "active")
        stored = store.create(conn, wide, owner_party_id=cafe)
        approval.ask(conn, stored.campaign, True)

    pg_db.write(seed)
    op = browser(app, bw.person(pg_db, "operator"), clock)
    page = op.get("/console/campaigns")
    assert 'data-campaign="c2" data-status="draft" data-approval="PENDING_APPROVAL"' in page.text
    early = op.post("/console/campaigns/c2/activate")
    assert early.status_code == 409 and 'data-code="APPROVAL_REQUIRED"' in early.text
    assert op.post("/console/campaigns/c1/pause").status_code == 303
    assert op.post("/console/campaigns/c2/approve").status_code == 303
    assert op.post("/console/campaigns/c2/activate").status_code == 303
    statuses = {s.campaign.code: s.campaign.status for s in pg_db.read(store.list_campaigns)}
    assert statuses == {"c1": "paused", "c2": "active"}
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c))] == [
        "campaign.paused", "campaign.approved", "campaign.active"]
    support = browser(app, bw.person(pg_db, "support"), clock)
    support.get("/console/campaigns")
    assert support.post("/console/campaigns/c2/pause").status_code == 403
