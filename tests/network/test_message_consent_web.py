"""Preferences over HTTP: the wallet page (en/fa, CSRF, refusals), `me { preferences }` and
`updatePreferences`, the one-click unsubscribe link (RFC 8058) and SMS STOP from the provider."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import warnings

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Route

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network.notifications import inbound, inline, messages, preferences, unsubscribe
from network.notifications.config import NotificationSettings
from network.notifications.schema import notification_outbox as box
from network.notifications.senders import Message, SmtpSender
from network.wallet.pages import routes
from network.wallet.pages.site import Site
from tests.network import wallet_world as ww
from tests.network.test_wallet_graphql import Api
from tests.network.test_wallet_notifications import smtp_server  # noqa: F401  (fixture)
from tests.network.test_wallet_pages import Browser

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
BASE = "https://wallet.test"


@pytest.fixture
def sara(db) -> int:  # type: ignore[no-untyped-def]
    return ww.enrol(db, email="sara@example.com", phone="+989121234567", name="Sara")


@pytest.fixture
def browser(db) -> Browser:  # type: ignore[no-untyped-def]
    clock = ww.Clock(NOW)
    site = Site(db, ww.settings(), drainer=None, clock=clock)
    return Browser(TestClient(Starlette(routes=routes(site)), base_url=BASE), db, clock)


def checked(html: str, name: str) -> bool:
    found = re.search(rf'<input type="checkbox" name="{name}" ([^>]*)>', html)
    assert found, name
    return "checked" in found.group(1)


def prefs(db, member: int) -> preferences.Preferences:  # type: ignore[no-untyped-def]
    return db.read(preferences.load, member)


def test_the_page_shows_defaults_and_saves_choices_with_consent(db, sara, browser) -> None:
    browser.sign_in("sara@example.com")
    page = browser.get("/wallet/preferences")
    assert page.status_code == 200
    html = page.text
    assert checked(html, "programme_sms") and checked(html, "programme_email")
    assert not checked(html, "marketing_sms") and not checked(html, "marketing_email")
    assert checked(html, "quiet") and 'value="21:00"' in html
    assert preferences.WORDINGS[preferences.WORDING_VERSION]["en"] in html
    saved = browser.post("/wallet/preferences", {
        "programme_email": "on", "marketing_sms": "on", "quiet": "on", "quiet_start": "22:30",
        "quiet_end": "07:00", "time_zone": "Asia/Tehran",
        "wording_version": preferences.WORDING_VERSION})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/wallet/preferences?done=saved"
    after = prefs(db, sara)
    assert (after.programme_sms, after.programme_email, after.marketing_sms,
            after.marketing_email) == (False, True, True, False)
    assert after.quiet == (22 * 60 + 30, 7 * 60) and after.time_zone == "Asia/Tehran"
    consents = db.read(preferences.consents, sara)
    assert [(c.category, c.channel, c.granted) for c in consents] == [
        ("programme", "sms", False), ("marketing", "sms", True)]
    assert consents[1].wording == preferences.WORDINGS[preferences.WORDING_VERSION]["en"]
    assert "Your message choices are saved." in browser.get("/wallet/preferences?done=saved").text


def test_the_page_in_persian_records_the_persian_wording(db, sara, browser) -> None:
    browser.client.headers["Accept-Language"] = "fa-IR,fa;q=0.9"
    browser.sign_in("sara@example.com")
    page = browser.get("/wallet/preferences")
    assert 'lang="fa" dir="rtl"' in page.text and "پیام‌هایی که برایتان می‌فرستیم" in page.text
    browser.post("/wallet/preferences", {"programme_sms": "on", "programme_email": "on",
                                         "marketing_email": "on",
                                         "wording_version": preferences.WORDING_VERSION})
    consent = db.read(preferences.consents, sara)[-1]
    assert consent.wording == preferences.WORDINGS[preferences.WORDING_VERSION]["fa"]
    assert prefs(db, sara).quiet is None  # the box was not ticked: no quiet hours


def test_refusals_write_nothing(db, sara, browser) -> None:
    browser.sign_in("sara@example.com")
    browser.get("/wallet/preferences")
    bad_clock = browser.post("/wallet/preferences", {"quiet": "on", "quiet_start": "25:00",
                                                     "quiet_end": "07:00"})
    assert bad_clock.status_code == 400 and 'data-code="INVALID_QUIET_HOURS"' in bad_clock.text
    old_words = browser.post("/wallet/preferences", {"marketing_sms": "on",
                                                     "wording_version": "2020-old"})
    assert old_words.status_code == 400
    assert 'data-code="CONSENT_WORDING_OUTDATED"' in old_words.text
    forged = browser.post("/wallet/preferences", {"marketing_sms": "on"}, csrf="forged")
    assert forged.status_code == 403
    assert prefs(db, sara) == preferences.Preferences()
    assert db.read(preferences.consents, sara) == []


def test_the_page_needs_a_signed_in_member(browser) -> None:
    response = browser.get("/wallet/preferences", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


PREFS = """query { me { preferences { programmeSms programmeEmail marketingSms marketingEmail
  quietHours { start end } timeZone effectiveTimeZone
  marketingWording { version text(language: "fa") } } } }"""
UPDATE = """mutation($input: UpdatePreferencesInput!) { updatePreferences(input: $input) {
  preferences { programmeSms marketingEmail quietHours { start end } timeZone }
  userErrors { field code message } } }"""


@pytest.fixture
def api(db, monkeypatch: pytest.MonkeyPatch) -> Api:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    inline._drainers.clear()
    return Api(db, TestClient(create_app(ww.settings(), db)))


def test_graphql_reads_and_updates_preferences(db, sara, api) -> None:
    token = api.sign_in("sara@example.com")
    got = api.call(PREFS, token=token)["data"]["me"]["preferences"]
    assert got == {"programmeSms": True, "programmeEmail": True, "marketingSms": False,
                   "marketingEmail": False, "quietHours": {"start": "21:00", "end": "08:00"},
                   "timeZone": None, "effectiveTimeZone": "UTC",
                   "marketingWording": {"version": preferences.WORDING_VERSION,
                                        "text": preferences.WORDINGS[
                                            preferences.WORDING_VERSION]["fa"]}}
    done = api.call(UPDATE, {"input": {
        "programmeSms": False, "marketingEmail": True,
        "wordingVersion": preferences.WORDING_VERSION, "language": "fa",
        "quietHours": None, "timeZone": "Europe/Berlin"}}, token=token)["data"]
    assert done["updatePreferences"] == {
        "preferences": {"programmeSms": False, "marketingEmail": True, "quietHours": None,
                        "timeZone": "Europe/Berlin"}, "userErrors": []}
    assert db.read(preferences.consents, sara)[-1].source == "api"


@pytest.mark.parametrize(("given", "field", "code"), [
    ({"marketingSms": True}, "wordingVersion", "CONSENT_WORDING_OUTDATED"),
    ({"quietHours": {"start": "9pm", "end": "08:00"}}, "quietHours.start",
     "INVALID_QUIET_HOURS"),
    ({"timeZone": "Mars/Olympus"}, "timeZone", "INVALID_TIME_ZONE"),
])
def test_graphql_refusals_are_field_keyed_and_write_nothing(db, sara, api, given, field,
                                                            code) -> None:
    token = api.sign_in("sara@example.com")
    answer = api.call(UPDATE, {"input": given}, token=token)["data"]["updatePreferences"]
    assert answer["preferences"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [(field, code)]
    assert prefs(db, sara) == preferences.Preferences()


def test_preferences_need_a_member(api) -> None:
    answer = api.call(PREFS)
    assert answer["data"] is None and answer["errors"]


# --- unsubscribe --------------------------------------------------------------------------

def test_every_programme_email_carries_rfc8058_headers_and_the_link_works(
        db, sara, browser, smtp_server) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    db.write(messages.deliver, sara, "vested", {"points": 5, "balance": 5}, now=NOW,
             settings=ww.settings())
    inbox = ww.deliver(db, ww.Inbox(), lambda: NOW)
    mail = next(m for m in inbox.messages if m.channel == "email")
    sms = next(m for m in inbox.messages if m.channel == "sms")
    assert sms.unsubscribe_url is None
    assert mail.unsubscribe_url.startswith("http://127.0.0.1:8000/unsubscribe/")
    composed = _compose(mail, smtp_server)
    # (folding whitespace before the value is allowed: RFC 5322 section 3.2.2)
    assert composed["List-Unsubscribe"].strip() == f"<{mail.unsubscribe_url}>"
    assert composed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [part.get_content_type() for part in composed.walk()] == [
        "multipart/alternative", "text/plain", "text/html"]
    path = mail.unsubscribe_url.split("://", 1)[1].split("/", 1)[1]
    ask = browser.get(f"/{path}")  # a GET (a mail scanner) only asks
    assert ask.status_code == 200 and 'data-state="ask"' in ask.text
    assert prefs(db, sara).programme_email
    one_click = browser.client.post(f"/{path}", content=b"List-Unsubscribe=One-Click",
                                    headers={"content-type":
                                             "application/x-www-form-urlencoded"})
    assert one_click.status_code == 200 and 'data-state="done"' in one_click.text
    after = prefs(db, sara)
    assert (after.programme_email, after.programme_sms) == (False, True)
    assert db.read(preferences.consents, sara)[-1].source == "unsubscribe"
    assert browser.client.post(f"/{path}").status_code == 200  # twice is fine


def test_a_forged_or_changed_token_does_nothing(db, sara, browser) -> None:
    genuine = unsubscribe.make(ww.SECRET, sara, "programme")
    other = unsubscribe.make("another-secret", sara, "programme")
    payload, mac = genuine.split(".")
    tampered = unsubscribe.make(ww.SECRET, sara + 1, "programme").split(".")[0] + "." + mac
    for token in (other, tampered, "junk", payload + ".", "a.b.c"):
        response = browser.client.post(f"/unsubscribe/{token}")
        assert response.status_code == 404, token
    assert prefs(db, sara) == preferences.Preferences()
    assert unsubscribe.read(ww.SECRET, genuine) == (sara, "programme")


def _compose(message: Message, relay) -> email.message.Message:  # type: ignore[no-untyped-def]
    """What the SMTP sender puts on the wire, received by a real (minimal) SMTP relay."""
    settings = NotificationSettings(email_sender="smtp", smtp_host="127.0.0.1",
                                    smtp_port=relay.server_address[1], smtp_starttls=False,
                                    smtp_from="hub@pointsnet.test")
    SmtpSender(settings).send(message)
    (raw,) = relay.received
    # A long header may be folded on the wire (RFC 5322); a mail client reads it unfolded.
    return email.message_from_string(raw.replace("\r\n", "\n"), policy=email.policy.default)


# --- SMS STOP ------------------------------------------------------------------------------

def _sms_app(db) -> TestClient:  # type: ignore[no-untyped-def]
    notify = NotificationSettings(sms_inbound_token="provider-token")
    app = Starlette(routes=[*inbound.routes(db, ww.settings(), notify)])
    return TestClient(app)


AUTH = {"Authorization": "Bearer provider-token"}


@pytest.mark.parametrize("text", ["STOP", "stop please", "لغو", " Unsubscribe. "])
def test_stop_switches_off_programme_and_marketing_sms_only(db, sara, text) -> None:
    db.write(preferences.change, sara, preferences.Change(
        marketing_sms=True, marketing_email=True, wording_version=preferences.WORDING_VERSION),
        source="web", now=NOW)
    client = _sms_app(db)
    answer = client.post(inbound.PATH, json={"from": "+98 912 123 4567", "body": text},
                         headers=AUTH)
    assert answer.json() == {"action": "stopped"}
    after = prefs(db, sara)
    assert (after.programme_sms, after.marketing_sms) == (False, False)
    assert (after.programme_email, after.marketing_email) == (True, True)
    assert {c.source for c in db.read(preferences.consents, sara)} == {"web", "sms_stop"}
    # a lifecycle SMS is not queued any more; a sign-in code still is (transactional)
    db.write(messages.deliver, sara, "earned",
             {"points": 1, "count": 1, "balance": 1, "partner": "Cafe"}, now=NOW,
             settings=ww.settings())
    channels = db.read(lambda c: c.execute(select(box.c.channel)).scalars().all())
    assert channels == ["email"]


def test_start_brings_back_programme_sms_but_not_marketing(db, sara) -> None:
    client = _sms_app(db)
    client.post(inbound.PATH, data={"From": "+989121234567", "Body": "STOP"}, headers=AUTH)
    assert client.post(inbound.PATH, data={"From": "+989121234567", "Body": "START"},
                       headers=AUTH).json() == {"action": "started"}
    after = prefs(db, sara)
    assert (after.programme_sms, after.marketing_sms) == (True, False)


def test_the_inbound_endpoint_wants_the_providers_token(db, sara) -> None:
    client = _sms_app(db)
    assert client.post(inbound.PATH, json={"from": "+989121234567", "body": "STOP"}
                       ).status_code == 401
    assert client.post(inbound.PATH, json={"from": "+989121234567", "body": "STOP"},
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post(inbound.PATH, json=["x"], headers=AUTH).status_code == 400
    assert client.post(inbound.PATH, json={"from": "+989121234567", "body": "hello"},
                       headers=AUTH).json() == {"action": "ignored"}
    unknown = client.post(inbound.PATH, json={"from": "+989120000000", "body": "STOP"},
                          headers=AUTH)
    assert unknown.json() == {"action": "stopped"}  # says nothing about who is a member
    assert prefs(db, sara) == preferences.Preferences()
    off = TestClient(Starlette(routes=inbound.routes(db, ww.settings(), NotificationSettings())))
    assert off.post(inbound.PATH, json={"from": "+1", "body": "STOP"}).status_code == 404


def test_route_is_mounted_in_the_app(db) -> None:
    app = create_app(ww.settings(), db)
    assert any(isinstance(r, Route) and r.path == inbound.PATH for r in app.routes)


def test_the_documented_preference_operations_work_as_written(db, sara, api) -> None:
    from pathlib import Path
    folder = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "member"
    read, update = ((folder / f"{name}.graphql").read_text()
                    for name in ("Preferences", "UpdatePreferences"))
    token = api.sign_in("sara@example.com")
    shown = api.call(read, {"language": "fa"}, token=token, status=200)["data"]["me"][
        "preferences"]["marketingWording"]
    assert shown["text"] == preferences.WORDINGS[shown["version"]]["fa"]
    done = api.call(update, {"input": {"marketingSms": True, "wordingVersion": shown["version"],
                                       "language": "fa", "quietHours": None}},
                    token=token, status=200)["data"]["updatePreferences"]
    assert done["userErrors"] == [] and done["preferences"]["marketingSms"]
    assert done["preferences"]["quietHours"] is None
    assert db.read(preferences.consents, sara)[-1].wording == shown["text"]
