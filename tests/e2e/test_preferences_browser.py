"""The message preferences page and the unsubscribe link in Debian's Chromium, English and
Persian, phone and desktop: what the member ticks is what the database keeps, with the consent
words in the language they read. Screenshots go to tests/artifacts/ (and, when the folder
exists, tests/artifacts/shots/i20msg/ for review)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from network.db.engine import Database
from network.notifications import preferences, unsubscribe
from tests.e2e.shots import shots_dir
from tests.e2e.test_wallet_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    DESKTOP,
    PHONE,
    Hub,
    hub,
    sign_in,
    world,
)
from tests.network import wallet_world as ww

SHOTS = shots_dir("i20msg")


def shot(page: Page, name: str) -> None:
    for folder in (ARTIFACTS, SHOTS):
        if folder is SHOTS and not folder.parent.exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"prefs_{name}.png"), full_page=True)


def _context(chromium: Browser, language: str,
             viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    accept = "fa-IR,fa;q=0.9" if language == "fa" else "en-US,en;q=0.9"
    return chromium.new_context(viewport=viewport, device_scale_factor=1,
                               locale="fa-IR" if language == "fa" else "en-US",
                               extra_http_headers={"Accept-Language": accept})


@pytest.mark.browser
def test_member_chooses_messages_in_english_then_persian(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int]) -> None:  # noqa: F811
    sara = world["sara"]
    page = _context(browser, "en", PHONE).new_page()
    sign_in(page, hub, "sara@example.com", "prefs_phone_en")
    page.get_by_test_id("preferences-link").click()
    expect(page).to_have_url(f"{hub.base}/wallet/preferences")
    expect(page.get_by_test_id("programme_sms")).to_be_checked()
    expect(page.get_by_test_id("marketing_email")).not_to_be_checked()
    expect(page.get_by_test_id("wording")).to_have_text(
        preferences.WORDINGS[preferences.WORDING_VERSION]["en"])
    shot(page, "phone_en")
    page.get_by_test_id("programme_sms").uncheck()
    page.get_by_test_id("marketing_email").check()
    page.fill("#quiet_start", "22:00")
    page.fill("#quiet_end", "07:30")
    page.select_option("#time_zone", "Asia/Tehran")
    page.get_by_test_id("save-preferences").click()
    expect(page.locator("p.notice")).to_have_text("Your message choices are saved.")
    saved = pg_db.read(preferences.load, sara)
    assert (saved.programme_sms, saved.programme_email, saved.marketing_email,
            saved.marketing_sms) == (False, True, True, False)
    assert saved.quiet == (22 * 60, 7 * 60 + 30) and saved.time_zone == "Asia/Tehran"
    expect(page.get_by_test_id("programme_sms")).not_to_be_checked()
    shot(page, "phone_en_saved")
    desktop = _context(browser, "en", DESKTOP).new_page()
    sign_in(desktop, hub, "sara@example.com", "prefs_desktop_en")
    desktop.goto(f"{hub.base}/wallet/preferences")
    shot(desktop, "desktop_en")

    for viewport, name in ((PHONE, "phone_fa"), (DESKTOP, "desktop_fa")):
        fa = _context(browser, "fa", viewport).new_page()
        sign_in(fa, hub, "sara@example.com", f"prefs_{name}")
        fa.goto(f"{hub.base}/wallet/preferences")
        expect(fa.locator("html")).to_have_attribute("dir", "rtl")
        expect(fa.locator("h1")).to_have_text("پیام‌هایی که برایتان می‌فرستیم")
        expect(fa.get_by_test_id("wording")).to_have_text(
            preferences.WORDINGS[preferences.WORDING_VERSION]["fa"])
        shot(fa, name)
    fa.get_by_test_id("marketing_sms").check()
    fa.get_by_test_id("save-preferences").click()
    expect(fa.locator("p.notice")).to_have_text("انتخاب‌های شما ذخیره شد.")
    consent = pg_db.read(preferences.consents, sara)[-1]
    assert (consent.category, consent.channel, consent.granted) == ("marketing", "sms", True)
    assert consent.wording == preferences.WORDINGS[preferences.WORDING_VERSION]["fa"]
    shot(fa, "desktop_fa_saved")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_unsubscribe_link_asks_then_unsubscribes_without_signing_in(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int],  # noqa: F811
        language: str) -> None:
    sara = world["sara"]
    token = unsubscribe.make(ww.SECRET, sara, "programme")
    page = _context(browser, language, PHONE).new_page()
    page.goto(f"{hub.base}/unsubscribe/{token}")
    expect(page.get_by_test_id("unsubscribe")).to_have_attribute("data-state", "ask")
    assert pg_db.read(preferences.load, sara).programme_email  # opening it changed nothing
    shot(page, f"unsubscribe_phone_{language}")
    page.get_by_test_id("unsubscribe-confirm").click()
    expect(page.get_by_test_id("unsubscribe")).to_have_attribute("data-state", "done")
    shot(page, f"unsubscribe_done_phone_{language}")
    after = pg_db.read(preferences.load, sara)
    assert (after.programme_email, after.programme_sms) == (False, True)
    desktop = _context(browser, language, DESKTOP).new_page()
    desktop.goto(f"{hub.base}/unsubscribe/not-a-token")
    expect(desktop.get_by_test_id("unsubscribe")).to_have_attribute("data-state", "invalid")
    shot(desktop, f"unsubscribe_invalid_desktop_{language}")
