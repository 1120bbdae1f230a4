"""The member pages over HTTP (ASGI): sign-in, the wallet, donate, contact, sessions, language,
CSRF on every form, cookies and headers. tests/e2e/test_wallet_browser.py does it in Chromium."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import warnings

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import ledger, parties
from network.db.engine import Database
from network.db.schema import journal_entries
from network.ledger.balances import summary
from network.notifications.schema import notification_outbox
from network.signin.schema import member_sessions
from network.wallet.pages import routes
from network.wallet.pages.site import Site
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # 2 Azar 1405 in Tehran
BASE = "https://wallet.test"


class Browser:
    """A TestClient that remembers the CSRF token of the last page, like a form would."""

    def __init__(self, client: TestClient, db: Database, clock: ww.Clock | None = None) -> None:
        self.client = client
        self.db = db
        self.clock = clock
        self.csrf = ""

    def inbox(self) -> ww.Inbox:
        """Send what the outbox holds (at the page's own clock) and open the messages."""
        return ww.deliver(self.db, ww.Inbox(), self.clock)

    def get(self, url: str, **kw) -> object:  # type: ignore[no-untyped-def]
        response = self.client.get(url, **kw)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict[str, str] | None = None, csrf: str | None = None,
             **kw) -> object:  # type: ignore[no-untyped-def]
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        kw.setdefault("follow_redirects", False)
        return self.client.post(url, data=form, **kw)

    def sign_in(self, address: str) -> None:
        self.get("/signin")
        assert self.post("/signin", {"address": address}).status_code == 303
        code = self.inbox().code_for(address)
        self.get("/signin/code")
        response = self.post("/signin/code", {"code": code})
        assert response.status_code == 303 and response.headers["location"] == "/wallet"


@pytest.fixture
def clock() -> ww.Clock:
    return ww.Clock(NOW)


def make_browser(db: Database, clock: ww.Clock, env: str = "test") -> Browser:
    site = Site(db, ww.settings(env), drainer=None, clock=clock)
    base = BASE if env != "development" else "http://wallet.test"
    return Browser(TestClient(Starlette(routes=routes(site)), base_url=base), db, clock)


@pytest.fixture
def browser(db: Database, clock: ww.Clock) -> Browser:
    return make_browser(db, clock)


@pytest.fixture
def world(db: Database) -> dict[str, int]:
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    mahak = db.write(lambda c: parties.create(c, kind="charity", code="mahak", name="Mahak",
                                              name_fa="محک"))
    sara = ww.enrol(db, email="sara@example.com", phone="+989121234567", name="Sara")
    ali = ww.enrol(db, email="ali@example.com", name="Ali")
    c1 = ww.earn(db, cafe, sara, 1000, at=NOW - 200 * DAY, expires_in=230 * DAY, reference="C-1")
    ww.earn(db, shop, sara, 500, at=NOW - 10 * DAY, reference="S-1")
    ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key=w.key(), partner_id=cafe,
                        entry_id=c1.entry_id, points=100, now=NOW - 4 * DAY)
    ww.earn(db, cafe, sara, 1200, at=NOW - DAY, pending=14 * DAY, reference="C-2")
    ali_entry = ww.earn(db, shop, ali, 70, at=NOW - DAY, reference="A-1").entry_id
    return {"cafe": cafe, "shop": shop, "mahak": mahak, "sara": sara, "ali": ali,
            "c1": c1.entry_id, "ali_entry": ali_entry}


def text_of(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert found, testid
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_sign_in_sets_a_hardened_session_cookie(browser, world):
    response = browser.get("/signin")
    assert response.status_code == 200 and 'lang="en" dir="ltr"' in response.text
    csrf_cookie = response.headers["set-cookie"]
    assert csrf_cookie.startswith("__Host-pn_csrf=") and "HttpOnly" in csrf_cookie
    assert "Secure" in csrf_cookie and "SameSite=strict" in csrf_cookie
    sent = browser.post("/signin", {"address": "sara@example.com"})
    assert sent.status_code == 303 and sent.headers["location"] == "/signin/code"
    code_page = browser.get("/signin/code")
    assert "s•••@example.com" in code_page.text and 'autocomplete="one-time-code"' in code_page.text
    code = browser.inbox().code_for("sara@example.com")
    signed_in = browser.post("/signin/code", {"code": code})
    assert signed_in.status_code == 303
    cookie = [c for c in signed_in.headers.get_list("set-cookie") if "pn_session=" in c][0]
    assert cookie.startswith("__Host-pn_session=pns_")
    assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"))
    assert browser.get("/wallet").status_code == 200
    assert browser.get("/signin", follow_redirects=False).headers["location"] == "/wallet"


def test_a_missing_or_forged_code_cookie_goes_back_to_the_first_step(browser, world):
    assert browser.get("/signin/code", follow_redirects=False).headers["location"] == "/signin"
    for forged in ("%%%", "bm90IGFuIGFkZHJlc3M="):  # junk, and base64 of "not an address"
        browser.client.cookies.set("__Host-pn_signin", forged)
        response = browser.get("/signin/code", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_development_cookies_work_over_plain_http(db, clock, world):
    browser = make_browser(db, clock, env="development")
    browser.sign_in("sara@example.com")
    assert "pn_session" in browser.client.cookies and "__Host-pn_session" not in \
        browser.client.cookies
    assert browser.get("/wallet").status_code == 200


def test_wrong_code_is_shown_in_the_page_language(browser, world):
    browser.get("/signin", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    browser.post("/signin", {"address": "sara@example.com"})
    code = browser.inbox().code_for("sara@example.com")
    wrong = "000000" if code != "000000" else "111111"
    response = browser.post("/signin/code", {"code": wrong},
                            headers={"Accept-Language": "fa"})
    assert response.status_code == 400 and 'dir="rtl"' in response.text
    assert "این کد درست نیست. ۴ بار دیگر" in response.text
    assert 'data-code="CODE_INVALID"' in response.text


def test_bad_address_is_explained_and_nothing_is_written(browser, db, world):
    browser.get("/signin")
    before = w.row_counts(db)
    response = browser.post("/signin", {"address": "sara@"})
    assert response.status_code == 400
    assert 'data-code="INVALID_EMAIL"' in response.text and 'aria-invalid="true"' in response.text
    assert w.row_counts(db) == before


def test_sign_in_requests_are_rate_limited_with_retry_after(browser, world):
    browser.get("/signin")
    for _ in range(5):
        assert browser.post("/signin", {"address": "sara@example.com"}).status_code == 303
    limited = browser.post("/signin", {"address": "sara@example.com"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert 'data-code="RATE_LIMITED"' in limited.text


@pytest.mark.parametrize("url", ["/signin", "/signin/code", "/signout", "/lang",
                                 "/wallet/donate", "/wallet/donate/confirm", "/wallet/contact",
                                 "/wallet/sessions/1/revoke"])
def test_every_form_refuses_a_missing_or_forged_csrf_token(browser, db, world, url):
    browser.sign_in("sara@example.com")
    before = w.row_counts(db)
    data = {"address": "sara@example.com", "code": "123456", "charity": str(world["mahak"]),
            "points": "10", "idempotency_key": "k", "email": "x@example.com", "lang": "fa"}
    assert browser.post(url, data, csrf="").status_code == 403
    assert browser.post(url, data, csrf="forged" + browser.csrf[6:]).status_code == 403
    cross_site = browser.post(url, data, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert w.row_counts(db) == before


def test_wallet_page_shows_the_ledger(browser, db, world, clock):
    browser.sign_in("sara@example.com")
    page = browser.get("/wallet")
    html = page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    truth = db.read(summary, world["sara"], NOW)
    assert text_of(html, "balance-total") == f"{truth.total:,}" == "2,600"
    assert text_of(html, "balance-spendable") == "1,400"
    assert text_of(html, "balance-pending") == "1,200"
    assert text_of(html, "balance-held") == "0"
    assert "Spendable from" in html and 'datetime="2026-12-06"' in html  # C-2 vests in 14 days
    assert 'datetime="2026-12-23"' in html  # C-1's 900 points expire within 90 days
    assert "Tier: Silver" in html and "Earn 7,400 more points to reach Gold." in html
    assert "2,600 points earned in the last 12 months." in html
    assert "<svg" in html and text_of(html, "card-number").replace(" ", "").isdigit()
    entries = re.findall(r'data-entry-id="(\d+)" data-kind="(\w+)"', html)
    ledger_rows = db.read(lambda c: c.execute(
        select(journal_entries.c.id, journal_entries.c.kind)
        .where(journal_entries.c.member_id == world["sara"])
        .order_by(journal_entries.c.booked_at.desc())).all())
    assert entries == [(str(i), k) for i, k in ledger_rows]
    assert f'href="/wallet/entries/{world["c1"]}"' in html  # the reversal links its original
    assert "Ref: <bdi>C-2</bdi>" in html and "+1,200" in html and "−100" in html


def test_history_pages_through_older_entries(browser, db, world):
    for i in range(25):
        ww.earn(db, world["shop"], world["sara"], 1, at=NOW - DAY + i * dt.timedelta(minutes=1),
                reference=f"B-{i}")
    browser.sign_in("sara@example.com")
    first = browser.get("/wallet").text
    older = re.search(r'href="(/wallet\?after=[^"#]+)#history-h" data-testid="older"', first)
    assert older and len(re.findall(r"data-entry-id=", first)) == 20
    second = browser.get(older.group(1).replace("&amp;", "&")).text
    seen = re.findall(r'data-entry-id="(\d+)"', first) + re.findall(r'data-entry-id="(\d+)"',
                                                                    second)
    assert len(seen) == len(set(seen)) == 29 and 'data-testid="older"' not in second
    assert browser.get("/wallet?after=junk", follow_redirects=False).status_code == 303


def test_persian_page_is_right_to_left_with_persian_digits_and_jalali_dates(browser, world):
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet", headers={"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"}).text
    assert '<html lang="fa" dir="rtl">' in html
    assert text_of(html, "balance-total") == "۲٬۶۰۰"
    assert "۱۵ آذر ۱۴۰۵" in html  # 6 Dec 2026 (C-2 vests) in the Solar Hijri calendar
    assert "کیف امتیاز من" in html or "سلام" in html


def test_language_switch_sets_a_cookie_and_returns_to_the_page(browser, world):
    browser.sign_in("sara@example.com")
    browser.get("/wallet")
    switched = browser.post("/lang", {"lang": "fa", "next": "/wallet?after=x"})
    assert switched.status_code == 303 and switched.headers["location"] == "/wallet?after=x"
    assert 'dir="rtl"' in browser.get("/wallet").text
    for target in ("https://evil.example/", "//evil.example", "/\\evil"):
        assert browser.post("/lang", {"lang": "en", "next": target}).headers["location"] == \
            "/wallet"
    assert 'dir="ltr"' in browser.get("/wallet").text


def test_a_signed_in_member_keeps_the_language_for_messages(browser, db, world):
    from network import members

    browser.sign_in("sara@example.com")
    browser.get("/wallet")
    browser.post("/lang", {"lang": "fa", "next": "/wallet"})
    assert db.read(members.get, world["sara"], ww.SECRET).locale == "fa"
    anonymous = make_browser(db, ww.Clock(NOW))
    anonymous.get("/signin")
    anonymous.post("/signin", {"address": "sara@example.com"})
    assert "کد ورود" in anonymous.inbox().messages[-1].body


def test_pages_need_a_session(browser, world):
    for url in ("/wallet", "/wallet/donate", "/wallet/contact", "/wallet/sessions",
                f"/wallet/entries/{world['c1']}"):
        response = browser.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_another_members_entry_is_not_found(browser, world):
    browser.sign_in("sara@example.com")
    assert browser.get(f"/wallet/entries/{world['c1']}").status_code == 200
    foreign = browser.get(f"/wallet/entries/{world['ali_entry']}")
    assert foreign.status_code == 404 and "A-1" not in foreign.text


def test_donate_confirms_then_books_once(browser, db, world):
    browser.sign_in("sara@example.com")
    form = browser.get("/wallet/donate").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    assert "Mahak" in form and "1,400" in form
    review = browser.post("/wallet/donate", {"charity": str(world["mahak"]), "points": "۲۵۰",
                                             "idempotency_key": key})
    assert review.status_code == 200 and text_of(review.text, "confirm-points") == "250"
    assert ww.count(db, journal_entries) == 5  # nothing booked before confirming
    confirm = {"charity": str(world["mahak"]), "points": "250", "idempotency_key": key}
    done = browser.post("/wallet/donate/confirm", confirm)
    assert done.status_code == 303 and done.headers["location"].startswith("/wallet?donated=")
    again = browser.post("/wallet/donate/confirm", confirm)  # double click / refresh
    assert again.headers["location"] == done.headers["location"]
    assert db.read(summary, world["sara"], NOW).spendable == 1150
    page = browser.get(done.headers["location"]).text
    assert "You donated 250 points to Mahak." in page
    assert text_of(page, "balance-spendable") == "1,150"
    fa = browser.get(done.headers["location"], headers={"Accept-Language": "fa"}).text
    assert "۲۵۰ امتیاز به محک" in fa


@pytest.mark.parametrize(("data", "code"), [
    ({"points": "1401"}, "INSUFFICIENT_POINTS"),
    ({"points": "0"}, "INVALID_AMOUNT"),
    ({"points": "-3"}, "INVALID_AMOUNT"),
    ({"points": "1.5"}, "INVALID_AMOUNT"),
    ({"points": "abc"}, "INVALID_AMOUNT"),
    ({"points": "99999999999"}, "AMOUNT_TOO_LARGE"),
    ({"charity": ""}, "CHARITY_REQUIRED"),
    ({"charity": "9999"}, "CHARITY_NOT_FOUND"),
    ({"charity": "cafe"}, "CHARITY_NOT_FOUND"),
])
@pytest.mark.parametrize("step", ["/wallet/donate", "/wallet/donate/confirm"])
def test_bad_donations_are_named_and_write_nothing(browser, db, world, data, code, step):
    browser.sign_in("sara@example.com")
    browser.get("/wallet/donate")
    before = w.row_counts(db)
    form = {"charity": str(world["mahak"]), "points": "100", "idempotency_key": "web-k", **data}
    response = browser.post(step, form)
    assert response.status_code == 400, response.text
    assert f'data-code="{code}"' in response.text
    assert w.row_counts(db) == before


def test_a_partner_is_not_a_charity(browser, db, world):
    browser.sign_in("sara@example.com")
    browser.get("/wallet/donate")
    response = browser.post("/wallet/donate/confirm", {"charity": str(world["cafe"]),
                                                       "points": "10", "idempotency_key": "k"})
    assert response.status_code == 400 and 'data-code="CHARITY_NOT_FOUND"' in response.text


def test_contact_details_update_and_notify_the_old_address(browser, db, world):
    browser.sign_in("sara@example.com")
    form = browser.get("/wallet/contact").text
    assert 'value="sara@example.com"' in form and 'value="+989121234567"' in form
    taken = browser.post("/wallet/contact", {"displayName": "Sara", "email": "ali@example.com",
                                             "phone": "+989121234567"})
    assert taken.status_code == 400 and 'data-code="EMAIL_TAKEN"' in taken.text
    saved = browser.post("/wallet/contact", {"displayName": "Sara K", "email": "sk@example.com",
                                             "phone": "+989121234567"})
    assert saved.headers["location"] == "/wallet?done=contact"
    assert "Your contact details are saved." in browser.get("/wallet?done=contact").text
    notice = browser.inbox().messages
    assert [(m.channel, m.recipient) for m in notice] == [("email", "sara@example.com"),
                                                           ("sms", "+989121234567")]


def test_sessions_are_listed_and_revoked(db, clock, world):
    laptop, phone = make_browser(db, clock), make_browser(db, clock)
    laptop.sign_in("sara@example.com")
    clock.advance(dt.timedelta(minutes=1))
    phone.sign_in("sara@example.com")
    listing = phone.get("/wallet/sessions").text
    ids = re.findall(r'action="/wallet/sessions/(\d+)/revoke"', listing)
    assert len(ids) == 2 and "this device" in listing
    revoked = phone.post(f"/wallet/sessions/{ids[1]}/revoke")  # the laptop (older)
    assert revoked.headers["location"] == "/wallet/sessions?done=revoked"
    assert laptop.get("/wallet", follow_redirects=False).status_code == 303
    ali = make_browser(db, clock)
    ali.sign_in("ali@example.com")
    ali.get("/wallet/sessions")
    assert ali.post(f"/wallet/sessions/{ids[0]}/revoke").status_code == 404
    assert phone.get("/wallet").status_code == 200
    own = phone.post(f"/wallet/sessions/{ids[0]}/revoke")
    assert own.headers["location"] == "/signin?done=signed_out"


def test_sign_out_ends_the_session(browser, db, world):
    browser.sign_in("sara@example.com")
    browser.get("/wallet")
    out = browser.post("/signout")
    assert out.status_code == 303 and out.headers["location"] == "/signin?done=signed_out"
    assert db.read(lambda c: c.execute(select(member_sessions.c.revoked_at)).scalar_one())
    assert browser.get("/wallet", follow_redirects=False).status_code == 303
    assert "You are signed out." in browser.get("/signin?done=signed_out").text


def test_the_app_mounts_the_pages_and_the_stylesheet(db, world, monkeypatch):
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    from network.notifications import inline
    inline._drainers.clear()
    client = TestClient(create_app(ww.settings(), db), base_url=BASE)
    assert client.get("/", follow_redirects=False).headers["location"] == "/wallet"
    css = client.get("/wallet/static/wallet.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    browser = Browser(client, db)
    browser.sign_in("sara@example.com")
    assert text_of(browser.get("/wallet").text, "balance-spendable")
    assert ww.count(db, notification_outbox) == 1


FA = {"Accept-Language": "fa-IR,fa;q=0.9"}


def test_persian_code_page_isolates_the_masked_phone_and_writes_its_digits_in_persian(browser,
                                                                                       world):
    browser.get("/signin", headers=FA)
    browser.post("/signin", {"address": "+989121234567"}, headers=FA)
    html = browser.get("/signin/code", headers=FA).text
    # Left-to-right isolate around it, like the example number, so '+' stays in front in RTL.
    assert "اگر \u2066+۹۸••••••••۶۷\u2069 متعلق" in html
    assert "+98" not in text_of(html, "code-intro")
    english = browser.get("/signin/code").text
    assert "If +98••••••••67 belongs" in english  # English needs neither
    browser.post("/signin", {"address": "sara@example.com"}, headers=FA)
    assert "\u2066s•••@example.com\u2069" in browser.get("/signin/code", headers=FA).text


def test_persian_sign_in_message_writes_its_numbers_in_persian_and_the_code_works(browser, db,
                                                                                 world):
    browser.get("/signin", headers=FA)
    browser.post("/signin", {"address": "+989121234567"}, headers=FA)
    body = browser.inbox().messages[-1].body
    assert "۱۰ دقیقه" in body and not re.search(r"[0-9]", body)
    code = re.search(r"[۰-۹]{6}", body).group(0)
    browser.get("/signin/code", headers=FA)
    signed_in = browser.post("/signin/code", {"code": code}, headers=FA)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/wallet"


def _capture(db: Database, world: dict[str, int], *, reserved: int, used: int) -> None:
    cafe, sara = world["cafe"], world["sara"]
    hold = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key=w.key(),
                                 partner_id=cafe, member_id=sara, points=reserved,
                                 reference="H-1", now=NOW - dt.timedelta(hours=2))
    ledger.capture_hold(db, scope=f"partner:{cafe}", idempotency_key=w.key(), partner_id=cafe,
                        hold_id=hold.hold_id, points=used, now=NOW - dt.timedelta(hours=1))


def test_a_partial_capture_reads_as_points_paid_and_the_rest_returned(browser, db, world):
    """The issue: "Paid with reserved points +80" in green read as an earning."""
    _capture(db, world, reserved=500, used=420)
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    capture = re.search(r'data-kind="capture" data-wallet-points="80">(.*?)</article>', html,
                        re.S).group(1)
    assert "Paid with reserved points · Cafe" in capture
    assert text_of(capture, "entry-points") == "420"  # what the member paid
    assert re.search(r'class="points paid" data-testid="entry-points"', capture)
    assert "plus" not in capture and "+8" not in capture
    assert text_of(capture, "capture-detail") == \
        "You paid 420 points of the 500 reserved. 80 points came back to your wallet."
    hold = re.search(r'data-kind="hold" data-wallet-points="-500">(.*?)</article>', html,
                     re.S).group(1)
    assert text_of(hold, "entry-points") == "−500"
    # The rows' effects on the wallet still add up to the balance: -500 + 80 is the 420 spent.
    effects = [int(x) for x in re.findall(r'data-wallet-points="(-?\d+)"', html)]
    assert sum(effects) == db.read(summary, world["sara"], NOW).total == 2600 - 420
    fa = browser.get("/wallet", headers=FA).text
    assert text_of(fa, "capture-detail") == \
        "از ۵۰۰ امتیاز رزروشده ۴۲۰ امتیاز پرداختید. ۸۰ امتیاز به کیف شما برگشت."
    assert "پرداخت با امتیاز رزروشده" in fa


def test_a_full_capture_says_all_reserved_points_were_paid(browser, db, world):
    _capture(db, world, reserved=1, used=1)
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    assert text_of(html, "capture-detail") == "You paid 1 point of the 1 reserved."
    assert 'data-testid="capture-returned"' not in html


def test_too_many_wrong_codes_leave_only_a_new_code_to_ask_for(browser, world):
    browser.get("/signin")
    browser.post("/signin", {"address": "sara@example.com"})
    code = browser.inbox().code_for("sara@example.com")
    wrong = "000000" if code != "000000" else "111111"
    browser.get("/signin/code")
    for _ in range(4):
        assert 'id="code"' in browser.post("/signin/code", {"code": wrong}).text
    locked = browser.post("/signin/code", {"code": wrong})
    assert locked.status_code == 400 and 'data-code="TOO_MANY_ATTEMPTS"' in locked.text
    assert "Too many wrong codes. Ask for a new code." in locked.text
    assert 'id="code"' not in locked.text and "on its way" not in locked.text
    assert 'data-testid="resend-code"' in locked.text
    resent = browser.post("/signin", {"address": "sara@example.com", "resend": "1"})
    assert resent.headers["location"] == "/signin/code?resent=1"
    fresh = browser.get(resent.headers["location"]).text
    assert "A new code is on its way. Earlier codes no longer work." in fresh
    assert 'id="code"' in fresh
    assert 'role="status"' not in browser.get("/signin/code").text  # only right after asking


def test_an_expired_code_offers_only_a_new_code(browser, world, clock):
    browser.get("/signin")
    browser.post("/signin", {"address": "sara@example.com"})
    code = browser.inbox().code_for("sara@example.com")
    browser.get("/signin/code")
    clock.advance(dt.timedelta(minutes=11))
    expired = browser.post("/signin/code", {"code": code})
    assert 'data-code="CODE_EXPIRED"' in expired.text and 'id="code"' not in expired.text


def test_the_example_phone_number_does_not_break_across_lines(browser, world):
    for headers, national in (({}, "0912\u00a0345\u00a06789"), (FA, "۰۹۱۲\u00a0۳۴۵\u00a0۶۷۸۹")):
        html = browser.get("/signin", headers=headers).text
        assert "+98\u00a0912\u00a0345\u00a06789" in html and national in html
        invalid = browser.post("/signin", {"address": "12"}, headers=headers).text
        assert "+98\u00a0912\u00a0345\u00a06789" in invalid and national in invalid


def test_the_example_phone_numbers_are_the_default_countrys(db, world, clock):
    """Another network's members dial their own country's numbers; the hint says how."""
    british = dataclasses.replace(ww.settings(), default_country="GB")
    site = Site(db, british, drainer=None, clock=clock)
    browser = Browser(TestClient(Starlette(routes=routes(site)), base_url=BASE), db, clock)
    hint = text_of(browser.get("/signin").text.replace('class="muted hint"',
                                                        'data-testid="hint"'), "hint")
    assert hint == ("A phone number as you dial it, e.g. 07400\u00a0123456, or with the country "
                    "code, e.g. +44\u00a07400\u00a0123456.")
    refused = browser.post("/signin", {"address": "0740"})
    assert 'data-code="INVALID_PHONE"' in refused.text and "07400\u00a0123456" in refused.text


def test_the_per_device_button_is_not_the_header_sign_out(browser, world):
    browser.sign_in("sara@example.com")
    listing = browser.get("/wallet/sessions").text
    assert ">Sign out this device</button>" in listing
    assert ">خروج این دستگاه</button>" in browser.get("/wallet/sessions", headers=FA).text


def test_charities_are_not_listed_under_a_partner_heading(browser, world):
    browser.sign_in("sara@example.com")
    browser.get("/wallet/donate")
    browser.post("/wallet/donate/confirm", {"charity": str(world["mahak"]), "points": "10",
                                            "idempotency_key": "web-k"})
    html = browser.get("/wallet").text
    table = re.search(r'data-testid="partner-totals">(.*?)</table>', html, re.S).group(1)
    assert "Mahak" in table and "<th>Partner or charity</th>" in table
    fa = browser.get("/wallet", headers=FA).text
    assert "<th>همکار یا خیریه</th>" in fa


def test_the_pages_have_an_icon_so_browsers_do_not_ask_for_favicon_ico(browser, world):
    html = browser.get("/signin").text
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html).group(1)
    served = browser.get(icon)
    assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
    assert served.text.startswith("<svg")
    assert browser.get("/wallet/static/hub.db").status_code == 404


def test_the_tier_card_shows_the_stored_tier_since_when_and_how_to_keep_it(browser, db, world):
    """Gold reached on a bonus now out of the window, last qualified 60 days ago: kept 30 days
    more, and the page says what keeping it takes, in English and in Persian."""
    from zoneinfo import ZoneInfo

    from network.programme import tiers_store

    reached = NOW - 370 * DAY
    ledger.award_bonus(db, scope="t", idempotency_key=w.key(), member_id=world["sara"],
                       points=12_000, reason="goodwill", now=reached)
    tiers_store.recalc_all(db, reached, zone=ZoneInfo("UTC"))
    tiers_store.recalc_all(db, NOW - 60 * DAY, zone=ZoneInfo("UTC"))  # until NOW + 30 days
    browser.sign_in("sara@example.com")
    html = browser.get("/wallet").text
    assert "Tier: Gold" in html
    assert text_of(html, "tier-since") == "Gold since Nov 18, 2025."
    assert text_of(html, "tier-benefit") == "Your purchases earn 1.5× the points."
    assert text_of(html, "tier-until") == "Earn 7,400 more points by Dec 23, 2026 to keep Gold."
    assert "Earn 47,400 more points to reach Platinum." in html
    fa = browser.get("/wallet", headers={"Accept-Language": "fa"}).text
    assert text_of(fa, "tier-until") == (
        "تا ۲ دی ۱۴۰۵ ۷٬۴۰۰ امتیاز دیگر کسب کنید تا سطح طلایی برایتان بماند.")
    assert text_of(fa, "tier-since") == "سطح طلایی از ۲۷ آبان ۱۴۰۴."
