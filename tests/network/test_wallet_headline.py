"""The wallet leads with what a member can spend and what it is worth; the card comes first on a
phone; times are in the member's zone; devices have names a member recognises (issue 15)."""
# ruff: noqa: F811  (the page tests' fixtures, imported by name, are parameters here)

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest
from starlette.applications import Starlette

from network.ledger.balances import summary
from network.signin import devices
from network.wallet.pages import routes
from network.wallet.pages.site import Site
from network.web import i18n
from tests.network import wallet_world as ww
from tests.network.test_wallet_pages import (  # noqa: F401 (fixtures)
    BASE,
    FA,
    NOW,
    Browser,
    TestClient,
    browser,
    clock,
    text_of,
    world,
)


def test_the_headline_is_spendable_points_and_their_money_value(browser, db, world):
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    truth = db.read(summary, world["sara"], NOW)
    # The big number is what can be spent now (not the total, which counts pending points).
    assert re.search(r'class="big" data-testid="balance-spendable"><bdi>1,400<', html)
    assert truth.spendable == 1400 and truth.total == 2600
    # 1,400 points at the default published value of EUR 0.005 a point.
    assert text_of(html, "balance-worth") == "worth €7.00"
    assert "at the network&#39;s value of €0.005 a point" in html
    assert text_of(html, "balance-total") == "2,600"
    fa = browser.get("/wallet", headers=FA).text
    assert text_of(fa, "balance-worth") == "به ارزش ۷٫۰۰\u00a0یورو"


def test_pending_held_and_expiring_each_say_what_they_are(browser, db, world):
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    pending = re.search(r'data-testid="pending-list">(.*?)</ul>', html, re.S).group(1)
    # The 1,200 points of C-2 wait at the cafe for 14 days: partner, date and points.
    assert re.sub(r"<[^>]+>|\s+", " ", pending).split() == \
        "Cafe · Spendable from Dec 6, 2026 1,200".split()
    assert 'datetime="2026-12-06"' in pending
    assert text_of(html, "balance-pending") == "1,200" and text_of(html, "balance-held") == "0"
    assert text_of(html, "balance-expiring") == "900"  # C-1's rest expires within 90 days
    for help_line in ("Earned but not spendable yet", "Reserved by a partner for a payment",
                      "Spend these points before their date"):
        assert help_line in html
    fa = browser.get("/wallet", headers=FA).text
    assert "Cafe" in re.search(r'data-testid="pending-list">(.*?)</ul>', fa, re.S).group(1)
    assert "کسب شده ولی هنوز قابل خرج نیست" in fa


def test_the_point_value_and_currency_are_the_networks(db, world, clock):
    settings = dataclasses.replace(ww.settings(), point_value=Decimal("0.0125"),
                                   currency="GBP")
    site = Site(db, settings, drainer=None, clock=clock)
    browser = Browser(TestClient(Starlette(routes=routes(site)), base_url=BASE), db, clock)
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    assert text_of(html, "balance-worth") == "worth £17.50"  # 1,400 x 0.0125
    assert "value of £0.0125 a point" in html


def test_the_card_comes_before_the_balance_and_the_actions(browser, world):
    """On a phone (one column) the page's order is the screen's order."""
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    card, balance = html.index('class="card membercard"'), html.index('data-testid="balance"')
    actions = html.index('data-testid="donate-link"')
    assert card < balance < actions
    full = browser.get("/wallet/card")
    assert full.status_code == 200 and "<svg" in full.text and "fullcard" in full.text
    assert text_of(full.text, "card-number") == text_of(html, "card-number")


def test_the_card_page_is_only_for_a_signed_in_member(browser, world):
    response = browser.get("/wallet/card", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def _history_time(html: str) -> str:
    return re.search(r'<time datetime="2026-11-22T09:00:00\+00:00">([^<]+)<', html).group(1)


def test_times_are_in_the_zone_the_browser_reports(browser, world):
    browser.sign_in("sara@example.com")
    # Without the browser's zone: the network's zone (POINTSNET_TIMEZONE, UTC here), named.
    assert _history_time(browser.get("/wallet").text) == "Nov 22, 2026, 09:00 UTC"
    browser.client.cookies.set("__Host-pn_tz", "America/New_York")
    assert _history_time(browser.get("/wallet").text) == "Nov 22, 2026, 04:00 EST"
    fa = browser.get("/wallet", headers=FA).text
    assert _history_time(fa) == "۱ آذر ۱۴۰۵، ۰۴:۰۰ \u2066EST\u2069"
    # A name that is no zone falls back, and never reaches the file system.
    for junk in ("../../etc/passwd", "Mars/Olympus", "x" * 300):
        browser.client.cookies.set("__Host-pn_tz", junk)
        assert _history_time(browser.get("/wallet").text) == "Nov 22, 2026, 09:00 UTC"
    # A Persian page without the browser's zone keeps Tehran time, unlabelled.
    browser.client.cookies.delete("__Host-pn_tz")
    assert _history_time(browser.get("/wallet", headers=FA).text) == "۱ آذر ۱۴۰۵، ۱۲:۳۰"


def test_english_pages_default_to_the_networks_zone(db, world, clock):
    settings = dataclasses.replace(ww.settings(), timezone="Europe/London")
    site = Site(db, settings, drainer=None, clock=clock)
    browser = Browser(TestClient(Starlette(routes=routes(site)), base_url=BASE), db, clock)
    browser.sign_in("sara@example.com")
    assert _history_time(browser.get("/wallet").text) == "Nov 22, 2026, 09:00 GMT"


def test_the_zone_script_is_served_and_allowed(browser, world):
    page = browser.get("/signin")
    assert '<script src="/wallet/static/zone.js" data-cookie="__Host-pn_tz" data-secure="1"' \
        in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = browser.get("/wallet/static/zone.js")
    assert script.status_code == 200 and "resolvedOptions().timeZone" in script.text
    assert script.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(("agent", "name"), [
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "Chrome on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", "Safari on Mac"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox on Linux"),
    ("Mozilla/5.0 (Linux; Android 13; SM-S908B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"),
    ("python-httpx/0.28.1", "python-httpx"),
    ("", "Unknown device"),
    ("<script>alert(1)</script>", "Unknown device"),
])
def test_devices_have_names_a_member_recognises(agent, name):
    assert devices.label(i18n.locale_for("en"), agent) == name


def test_the_sessions_page_names_devices_in_both_languages(db, world, clock):
    site = Site(db, ww.settings(), drainer=None, clock=clock)
    client = TestClient(Starlette(routes=routes(site)), base_url=BASE, headers={
        "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"})
    browser = Browser(client, db, clock)
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet/sessions").text
    assert text_of(html, "device") == "Chrome on Android"
    assert "AppleWebKit" not in re.sub(r'title="[^"]*"', "", html)  # the raw agent only on hover
    fa = browser.get("/wallet/sessions", headers=FA).text
    assert text_of(fa, "device") == "\u2066Chrome\u2069 روی \u2066Android\u2069"


def test_a_session_time_is_the_members_too(browser, world, clock):
    browser.sign_in("sara@example.com")
    browser.client.cookies.set("__Host-pn_tz", "Asia/Tehran")
    html = browser.get("/wallet/sessions").text
    signed_in = (clock.now.astimezone(dt.timezone(dt.timedelta(hours=3, minutes=30))))
    assert f"{signed_in:%H:%M} UTC+03:30" in html
