"""The member pages in a real browser: Debian's headless Chromium driven by Playwright against
a real uvicorn on 127.0.0.1 and PostgreSQL. Sign in with the code the console sender printed,
check the page against the ledger, donate, see the balance drop, then the same page in Persian.

Screenshots go to tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from network import ledger, parties
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import journal_entries
from network.ledger.balances import summary
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DAY_DELTA = dt.timedelta(days=1)



def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hub:
    """A uvicorn process whose console sender output we read, like a developer would."""

    def __init__(self, db: Database) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "POINTSNET_DATABASE_URL": db.url, "POINTSNET_ENV": "development",
               "POINTSNET_SECRET_KEY": ww.SECRET, "POINTSNET_NOTIFY_EMAIL_SENDER": "console",
               "POINTSNET_NOTIFY_SMS_SENDER": "console", "POINTSNET_NOTIFY_INLINE_DRAIN": "1",
               "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "infra.asgi:app", "--host", "127.0.0.1", "--port",
             str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_ready(self) -> None:
        for _ in range(300):
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("uvicorn did not start:\n" + "".join(self.lines))

    def code_for(self, recipient: str, after: int) -> str:
        """The code in the console sender's newest line for `recipient`."""
        pattern = re.compile(rf"NOTIFY \w+ to={re.escape(recipient)} .*?\b(\d{{6}})\b")
        for _ in range(200):
            for line in reversed(self.lines[after:]):
                found = pattern.search(line)
                if found:
                    return found.group(1)
            time.sleep(0.05)
        raise AssertionError("no code printed:\n" + "".join(self.lines))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> Hub:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    now = utcnow()
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    telco = pg_db.write(lambda c: parties.create(c, kind="partner", code="telco",
                                                 name="Telco", name_fa="همراه"))
    mahak = pg_db.write(lambda c: parties.create(c, kind="charity", code="mahak",
                                                 name="Mahak", name_fa="محک"))
    sara = ww.enrol(pg_db, email="sara@example.com", phone="+989121234567", name="Sara",
                    by=cafe)
    ww.earn(pg_db, cafe, sara, 1800, at=now - 300 * DAY_DELTA, expires_in=360 * DAY_DELTA,
            reference="RCPT-1001")
    ww.earn(pg_db, telco, sara, 2500, at=now - 20 * DAY_DELTA, reference="INV-77")
    ledger.redeem(pg_db, scope=f"partner:{telco}", idempotency_key=w.key(), partner_id=telco,
                  member_id=sara, points=400, reference="INV-80", now=now - 3 * DAY_DELTA)
    ww.earn(pg_db, cafe, sara, 300, at=now - DAY_DELTA, pending=14 * DAY_DELTA,
            reference="RCPT-1002")
    return {"cafe": cafe, "telco": telco, "mahak": mahak, "sara": sara}


@pytest.fixture
def hub(pg_db: Database, world: dict[str, int]) -> Iterator[Hub]:
    with Hub(pg_db) as server:
        yield server


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def digits(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))))


def sign_in(page: Page, hub: Hub, address: str, prefix: str) -> None:
    page.goto(f"{hub.base}/signin")
    shot(page, f"{prefix}_signin")
    page.fill("#address", address)
    mark = len(hub.lines)
    page.click("form[action='/signin'] button[type=submit]")
    expect(page).to_have_url(f"{hub.base}/signin/code")
    page.fill("#code", hub.code_for(address, mark))
    shot(page, f"{prefix}_code")
    page.click("form[action='/signin/code'] button[type=submit]")
    expect(page).to_have_url(f"{hub.base}/wallet")


@pytest.mark.browser
def test_member_signs_in_checks_the_wallet_donates_and_reads_it_in_persian(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int]) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page = context.new_page()
    sign_in(page, hub, "sara@example.com", "phone_en")

    truth = pg_db.read(summary, world["sara"], utcnow())
    assert digits(page.get_by_test_id("balance-spendable").inner_text()) == truth.spendable == 3900
    assert digits(page.get_by_test_id("balance-pending").inner_text()) == truth.pending == 300
    assert digits(page.get_by_test_id("balance-total").inner_text()) == truth.total == 4200
    shown = page.locator("[data-entry-id]").evaluate_all(
        "els => els.map(e => [Number(e.dataset.entryId), e.dataset.kind])")
    booked = pg_db.read(lambda c: c.execute(
        select(journal_entries.c.id, journal_entries.c.kind)
        .where(journal_entries.c.member_id == world["sara"])
        .order_by(journal_entries.c.booked_at.desc(), journal_entries.c.id.desc())).all())
    assert [tuple(e) for e in shown] == [tuple(r) for r in booked]
    expect(page.locator("[data-entry-id] >> text=INV-80")).to_be_visible()
    expect(page.locator("svg.qr")).to_be_visible()
    shot(page, "phone_en_wallet")

    page.get_by_test_id("donate-link").click()
    page.check("input[name=charity]")
    page.fill("#points", "1200")
    shot(page, "phone_en_donate_form")
    page.click("form[action='/wallet/donate'] button[type=submit]")
    expect(page.get_by_test_id("confirm-points")).to_have_text("1,200")
    shot(page, "phone_en_donate_confirm")
    page.get_by_test_id("confirm-donation").click()
    expect(page.locator(".notice")).to_contain_text("You donated 1,200 points to Mahak.")
    assert digits(page.get_by_test_id("balance-spendable").inner_text()) == 2700
    assert pg_db.read(summary, world["sara"], utcnow()).spendable == 2700
    expect(page.locator("[data-entry-id]").first).to_have_attribute("data-kind", "donate")
    shot(page, "phone_en_after_donation")

    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    assert page.get_by_test_id("balance-spendable").inner_text() == "۲٬۷۰۰"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    expect(page.locator("h2#history-h")).to_have_text("تاریخچه")
    expect(page.locator("text=کافه رما").first).to_be_visible()
    # right-to-left for real: the brand sits at the right edge, the balance box's first cell too
    brand = page.locator(".top .brand").bounding_box()
    assert brand is not None and brand["x"] > PHONE["width"] / 2
    shot(page, "phone_fa_wallet")
    context.close()

    desktop = browser.new_context(viewport=DESKTOP, locale="fa-IR",
                                  extra_http_headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    page = desktop.new_page()
    sign_in(page, hub, "+989121234567", "desktop_fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert re.fullmatch(r"[۰-۹٬]+", page.get_by_test_id("balance-total").inner_text())
    shot(page, "desktop_fa_wallet")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    shot(page, "desktop_en_wallet")
    page.goto(f"{hub.base}/wallet/sessions")
    expect(page.locator("[data-testid=sessions] .session")).to_have_count(2)  # phone + desktop
    shot(page, "desktop_en_sessions")
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/signin\?done=signed_out$"))
    desktop.close()


# Where characters of a text land on screen: the first '+' of an element's text and the last
# character of the masked run (two after the last bullet), or of the example phone number.
_CHAR_BOXES = """([selector, first, last]) => {
  const el = document.querySelector(selector);
  const node = [...el.childNodes].find(n => n.nodeType === Node.TEXT_NODE
                                            && n.data.includes(first));
  const box = i => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                     const b = r.getBoundingClientRect(); return {x: b.x, y: b.y}; };
  const start = node.data.indexOf(first);
  const end = last === "••" ? node.data.lastIndexOf("•") + 2 : node.data.indexOf(last, start);
  return {first: box(start), last: box(end)};
}"""
NARROW_PHONE = {"width": 320, "height": 640}


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return r, g, b


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def luminance(rgb: tuple[int, int, int]) -> float:
        lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
               for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.browser
def test_persian_sign_in_keeps_phone_numbers_left_to_right_and_whole(
        hub: Hub, browser: Browser) -> None:
    context = browser.new_context(viewport=NARROW_PHONE, locale="fa-IR",
                                  extra_http_headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    page = context.new_page()
    page.goto(f"{hub.base}/signin")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    # The example number stays on one line on a narrow phone (no-break spaces).
    example = page.evaluate(_CHAR_BOXES, [".hint", "+98", "6789"])
    assert example["first"]["y"] == example["last"]["y"], example
    page.fill("#address", "+989121234567")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page).to_have_url(f"{hub.base}/signin/code")
    intro = page.get_by_test_id("code-intro")
    expect(intro).to_contain_text("+۹۸••••••••۶۷")
    # Read left to right inside the right-to-left sentence: '+' first, the last digits last.
    masked = page.evaluate(_CHAR_BOXES, ["[data-testid=code-intro]", "+", "••"])
    assert masked["first"]["y"] == masked["last"]["y"]
    assert masked["first"]["x"] < masked["last"]["x"], masked
    shot(page, "phone_fa_code_mask")
    context.close()


@pytest.mark.browser
def test_wallet_loads_without_console_errors_and_its_focus_ring_stands_out(
        hub: Hub, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    sign_in(page, hub, "sara@example.com", "desktop_en_console")
    page.wait_for_load_state("networkidle")
    page.reload()  # the icon is asked for on a first load; a reload must not ask again either
    page.wait_for_load_state("networkidle")
    assert problems == []

    page.keyboard.press("Tab")  # the first stop is a header button, on the green bar
    focused = page.evaluate("""() => {
      const e = document.activeElement, card = document.querySelector('.card');
      return {ring: getComputedStyle(e).outlineColor, style: getComputedStyle(e).outlineStyle,
              header: getComputedStyle(e.closest('header')).backgroundColor,
              card: getComputedStyle(card).backgroundColor};
    }""")
    assert focused["style"] == "solid"
    ring = _rgb(focused["ring"])
    assert _contrast(ring, _rgb(focused["header"])) >= 3, focused
    assert _contrast(ring, _rgb(focused["card"])) >= 3, focused
    context.close()


@pytest.mark.browser
def test_a_member_signs_in_with_a_phone_typed_the_iranian_way_and_reads_their_own_times(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int]) -> None:
    """Issue 15: a national number in Persian digits signs in; the card comes first on a phone;
    the headline is what can be spent and its worth; times are in the browser's zone; a
    capture reads as paid; devices have names."""
    cafe, sara = world["cafe"], world["sara"]
    hold = ledger.authorize_hold(pg_db, scope=f"partner:{cafe}", idempotency_key=w.key(),
                                 partner_id=cafe, member_id=sara, points=500,
                                 reference="TABLE-7", now=utcnow() - dt.timedelta(hours=3))
    ledger.capture_hold(pg_db, scope=f"partner:{cafe}", idempotency_key=w.key(),
                        partner_id=cafe, hold_id=hold.hold_id or 0, points=420,
                        now=utcnow() - dt.timedelta(hours=2))
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="fa-IR",
                                timezone_id="Europe/Berlin",
                                extra_http_headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    page = phone.new_page()
    page.goto(f"{hub.base}/signin")
    page.fill("#address", "۰۹۱۲ ۱۲۳ ۴۵۶۷")
    mark = len(hub.lines)
    page.click("form[action='/signin'] button[type=submit]")
    expect(page).to_have_url(f"{hub.base}/signin/code")
    page.fill("#code", hub.code_for("+989121234567", mark))
    page.click("form[action='/signin/code'] button[type=submit]")
    expect(page).to_have_url(f"{hub.base}/wallet")
    assert {c["name"]: c["value"] for c in phone.cookies()}["pn_tz"] == "Europe/Berlin"

    truth = pg_db.read(summary, sara, utcnow())
    assert digits(page.get_by_test_id("balance-spendable").inner_text()) == truth.spendable
    worth = re.compile(r"^به ارزش [۰-۹٬٫]+\s+یورو$")
    expect(page.get_by_test_id("balance-worth")).to_have_text(worth)
    card = page.locator(".membercard").bounding_box()
    balance = page.get_by_test_id("balance").bounding_box()
    assert card is not None and balance is not None and card["y"] < balance["y"]
    assert card["y"] + 100 < PHONE["height"]  # the QR starts on the first screen
    capture = page.locator("[data-kind=capture]")
    expect(capture.get_by_test_id("entry-points")).to_have_text("۴۲۰")
    expect(capture).to_contain_text("۸۰ امتیاز به کیف شما برگشت")
    expect(capture.locator("time")).to_contain_text("CET")  # Berlin, named
    shot(page, "phone_fa_wallet_issue15")
    page.get_by_test_id("show-card").click()
    expect(page).to_have_url(f"{hub.base}/wallet/card")
    qr = page.locator("svg.qr").bounding_box()
    assert qr is not None and qr["width"] > PHONE["width"] * 0.8
    shot(page, "phone_fa_card")
    page.goto(f"{hub.base}/wallet/sessions")
    device = "\u2066Chrome\u2069 روی \u2066Linux\u2069"
    expect(page.get_by_test_id("device").first).to_have_text(device)
    expect(page.locator("[data-testid=sessions] time").first).to_contain_text("CET")
    shot(page, "phone_fa_sessions")
    phone.close()

    desktop = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="America/New_York",
                                  extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page = desktop.new_page()
    sign_in(page, hub, "sara@example.com", "desktop_en_issue15")
    card = page.locator(".membercard").bounding_box()
    balance = page.get_by_test_id("balance").bounding_box()
    assert card is not None and balance is not None
    assert balance["x"] < card["x"] and abs(balance["y"] - card["y"]) < 2  # side by side
    expect(page.get_by_test_id("balance-worth")).to_have_text(re.compile(r"^worth €[\d,]+\.\d\d$"))
    expect(page.locator("[data-kind=capture] time")).to_contain_text(re.compile(r"E[SD]T"))
    shot(page, "desktop_en_wallet_issue15")
    page.goto(f"{hub.base}/wallet/sessions")
    expect(page.get_by_test_id("device").first).to_have_text("Chrome on Linux")
    shot(page, "desktop_en_sessions_issue15")
    desktop.close()
