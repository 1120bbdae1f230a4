"""The join, profile and privacy pages over HTTP (ASGI): CSRF on every form, what joining says
to a member's address, the language a profile chooses, the JSON download's headers, erasure's
confirm step; and the audit log's CLI. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from infra.cli import main
from network import members
from network.config import get_settings
from network.db.engine import Database
from network.db.schema import members as members_table
from network.notifications.schema import notification_outbox
from tests.network import wallet_world as ww
from tests.network.test_wallet_pages import Browser, make_browser

ADDRESS = "neda@example.com"


@pytest.fixture
def browser(db: Database) -> Browser:
    return make_browser(db, ww.Clock())


def join(browser: Browser, address: str = ADDRESS, **form: str) -> object:
    browser.get("/join")
    assert browser.post("/join", {"address": address, **form}).status_code == 303
    code = browser.inbox().code_for(address)
    browser.get("/join/code")
    return browser.post("/join/code", {"code": code})


def test_the_sign_in_page_links_to_join_and_a_referral_link_fills_the_code(browser):
    assert 'href="/join"' in browser.get("/signin").text
    page = browser.get("/join?ref=AB12CD34EF")
    assert page.status_code == 200 and 'value="AB12CD34EF"' in page.text


def test_joining_opens_the_wallet_with_the_card(browser, db):
    done = join(browser)
    assert done.headers["location"] == "/wallet?done=joined"
    wallet = browser.get("/wallet?done=joined")
    assert "Your card is ready" in wallet.text and "<svg" in wallet.text
    member = db.read(lambda c: members.find(c, ww.SECRET, email=ADDRESS))
    assert member is not None and member.enrolled_by_party_id is None


def test_a_members_address_on_the_join_page_just_signs_them_in(browser, db):
    sara = ww.enrol(db, email=ADDRESS, name="Neda")
    done = join(browser)
    assert done.headers["location"] == "/wallet?done=already_member"
    assert "already had a card" in browser.get("/wallet?done=already_member").text
    assert db.read(lambda c: c.execute(select(members_table.c.id)).scalars().all()) == [sara]


def test_forms_without_the_csrf_token_do_nothing(browser, db):
    browser.get("/join")
    assert browser.post("/join", {"address": ADDRESS}, csrf="forged").status_code == 403
    assert db.read(lambda c: c.execute(select(notification_outbox)).all()) == []
    join(browser)
    browser.get("/wallet/privacy/erase")
    assert browser.post("/wallet/privacy/erase", {"confirm": "yes"},
                        csrf="forged").status_code == 403
    assert browser.post("/wallet/profile", {"city": "Yazd"}, csrf="forged").status_code == 403
    member = db.read(lambda c: members.find(c, ww.SECRET, email=ADDRESS))
    assert member is not None and not member.card_number.startswith("erased")


def test_a_bad_referral_code_is_named_on_the_join_page(browser, db):
    browser.get("/join")
    page = browser.post("/join", {"address": ADDRESS, "referrer": "ZZZZZZZZZZ"})
    assert page.status_code == 400 and 'id="referrerCode-error"' in page.text
    assert 'data-code="REFERRER_NOT_FOUND"' in page.text
    assert db.read(lambda c: c.execute(select(notification_outbox)).all()) == []


def test_the_profiles_language_opens_the_wallet_on_any_browser(browser, db):
    join(browser)
    browser.get("/wallet/profile")
    saved = browser.post("/wallet/profile", {"displayName": "Neda", "language": "fa",
                                             "birthDate": "", "city": ""})
    assert saved.headers["location"] == "/wallet?done=profile"
    assert 'lang="fa"' in browser.get("/wallet").text
    other = make_browser(db, ww.Clock())  # a new browser, asking for English
    other.get("/signin")
    other.post("/signin", {"address": ADDRESS})
    code = other.inbox().code_for(ADDRESS)
    other.get("/signin/code")
    other.post("/signin/code", {"code": code})
    assert 'lang="fa" dir="rtl"' in other.get("/wallet").text


def test_a_bad_profile_is_named_and_nothing_is_saved(browser, db):
    join(browser)
    browser.get("/wallet/profile")
    page = browser.post("/wallet/profile", {"displayName": "Neda", "birthDate": "2999-01-01",
                                            "city": "Yazd", "language": "en"})
    assert page.status_code == 400 and 'id="birthDate-error"' in page.text
    assert 'value="Yazd"' in page.text  # what was typed stays in the form
    assert db.read(lambda c: c.execute(select(members_table.c.display_name)).scalar()) is None


def test_the_download_is_json_with_everything_and_is_never_cached(browser):
    join(browser)
    response = browser.get("/wallet/privacy/export.json")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == \
        'attachment; filename="pointsnet-my-data.json"'
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.text)
    assert data["member"]["email"] == ADDRESS and data["sessions"]
    assert ADDRESS in browser.get("/wallet/privacy").text

def test_the_download_needs_a_signed_in_member(db):
    stranger = make_browser(db, ww.Clock())
    answer = stranger.get("/wallet/privacy/export.json", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"


def test_erasure_needs_the_confirm_box_then_signs_out(browser, db):
    join(browser)
    browser.get("/wallet/privacy/erase")
    refused = browser.post("/wallet/privacy/erase", {})
    assert refused.status_code == 400 and 'data-code="ERASURE_NOT_CONFIRMED"' in refused.text
    done = browser.post("/wallet/privacy/erase", {"confirm": "yes"})
    assert done.headers["location"] == "/signin?done=erased"
    assert "personal data is erased" in browser.get("/signin?done=erased").text
    assert browser.get("/wallet", follow_redirects=False).headers["location"] == "/signin"
    assert db.read(lambda c: members.find(c, ww.SECRET, email=ADDRESS)) is None


def test_operators_list_and_export_the_audit_log(browser, db, monkeypatch):
    join(browser)
    browser.get("/wallet/privacy/erase")
    browser.post("/wallet/privacy/erase", {"confirm": "yes"})
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", ww.SECRET)
    get_settings.cache_clear()
    listed = CliRunner().invoke(main, ["audit", "list", "--action", "erasure.*"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 2 and "erasure.requested  member:1" in lines[0]
    assert "erasure.completed  member:1" in lines[1] and ADDRESS not in listed.output
    exported = CliRunner().invoke(main, ["audit", "export", "--csv", "--subject", "member:1"])
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [r["action"] for r in rows] == ["erasure.requested", "erasure.completed"]
    assert json.loads(rows[1]["after"])["sessions"] == 1
    bad = CliRunner().invoke(main, ["audit", "list", "--since", "yesterday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output
    get_settings.cache_clear()
