"""Self-enrolment, the profile, the data download and erasure in Debian's headless Chromium
against a real uvicorn and PostgreSQL, in English and Persian, on a phone and a desktop.

Screenshots go to tests/artifacts/shots/i20mem/ (or $POINTSNET_SHOTS) for a person to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from network import audit, cards, members
from network.db.engine import Database
from network.db.schema import members as members_table
from network.ledger.verify import verify
from tests.e2e.shots import shooter
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww

shot = shooter("i20mem")


@pytest.fixture
def hub(pg_db: Database) -> Iterator[Hub]:
    with Hub(pg_db) as server:
        yield server


def join(page: Page, hub: Hub, address: str, prefix: str, via_signin: bool = True,
         ref: str | None = None, recipient: str | None = None) -> None:
    if via_signin:
        page.goto(f"{hub.base}/signin")
        page.get_by_test_id("join-link").click()
    else:
        page.goto(f"{hub.base}/join?ref={ref}" if ref else f"{hub.base}/join")
    expect(page).to_have_url(re.compile(r"/join(\?ref=\w+)?$"))
    page.fill("#address", address)
    shot(page, f"{prefix}_join")
    mark = len(hub.lines)
    page.get_by_test_id("join-send-code").click()
    expect(page).to_have_url(f"{hub.base}/join/code")
    page.fill("#code", hub.code_for(recipient or address, mark))
    shot(page, f"{prefix}_join_code")
    page.get_by_test_id("join-submit").click()
    expect(page).to_have_url(f"{hub.base}/wallet?done=joined")


@pytest.mark.browser
def test_join_fill_the_profile_download_and_erase_on_a_phone(
        hub: Hub, browser: Browser, pg_db: Database) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
                                  accept_downloads=True)
    page = context.new_page()
    join(page, hub, "neda@example.com", "phone_en")
    expect(page.locator(".notice")).to_contain_text("Your card is ready")
    expect(page.locator("svg.qr")).to_be_visible()
    number = re.sub(r"\D", "", page.get_by_test_id("card-number").first.inner_text())
    assert cards.is_valid(number)
    member_id = members.id_by_card(pg_db, number)
    assert member_id is not None
    shot(page, "phone_en_wallet_joined")

    page.get_by_test_id("profile-link").click()
    expect(page.get_by_test_id("profile-state")).to_have_text(
        "Your profile is not complete yet.")
    page.fill("#displayName", "Neda")
    page.fill("#birthDate", "1990-03-21")
    page.fill("#city", "Shiraz")
    page.check("input[name=interests][value=books]")
    page.check("input[name=interests][value=travel]")
    shot(page, "phone_en_profile")
    page.select_option("#language", "fa")
    page.get_by_test_id("profile-save").click()
    # The chosen language now opens the wallet.
    expect(page).to_have_url(f"{hub.base}/wallet?done=profile_completed")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".notice")).to_have_text("نمایهٔ شما کامل شد. سپاس!")
    saved = pg_db.read(lambda c: c.execute(select(members_table).where(
        members_table.c.id == member_id)).one())
    assert (saved.display_name, saved.birth_date.isoformat(), saved.locale) == \
        ("Neda", "1990-03-21", "fa")
    page.get_by_test_id("profile-link").click()
    expect(page.get_by_test_id("birth-date-shown")).to_have_text("۱ فروردین ۱۳۶۹")
    shot(page, "phone_fa_profile")

    page.goto(f"{hub.base}/wallet")
    page.get_by_test_id("privacy-link").click()
    expect(page.get_by_test_id("privacy-contacts")).to_contain_text("neda@example.com")
    expect(page.get_by_test_id("privacy-contacts")).to_contain_text("Shiraz")
    shot(page, "phone_fa_privacy")
    with page.expect_download() as download_info:
        page.get_by_test_id("privacy-download").click()
    download = download_info.value
    assert download.suggested_filename == "pointsnet-my-data.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["member"]["email"] == "neda@example.com" and data["member"]["cardNumber"] == number
    assert data["profile"]["interests"] == ["travel", "books"]

    page.get_by_test_id("erase-link").click()
    page.get_by_test_id("erase-submit").click()  # not confirmed: refused, nothing erased
    expect(page.locator("#confirm-error")).to_be_visible()
    shot(page, "phone_fa_erase_unconfirmed")
    assert members.id_by_card(pg_db, number) == member_id
    page.get_by_test_id("erase-confirm").check()
    page.get_by_test_id("erase-submit").click()
    expect(page).to_have_url(re.compile(r"/signin\?done=erased$"))
    expect(page.locator(".notice")).to_have_text(
        "داده‌های شخصی شما پاک شد و از حساب خارج شدید.")
    shot(page, "phone_fa_erased")
    page.goto(f"{hub.base}/wallet")
    expect(page).to_have_url(f"{hub.base}/signin")  # signed out for good
    assert members.id_by_card(pg_db, number) is None
    assert pg_db.read(lambda c: c.execute(select(members_table.c.email_lookup).where(
        members_table.c.id == member_id)).scalar()) is None
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c, action="erasure.*"))] == \
        ["erasure.requested", "erasure.completed"]
    assert verify(pg_db) == []
    context.close()


@pytest.mark.browser
def test_join_by_phone_with_a_referral_link_in_persian_on_a_desktop(
        hub: Hub, browser: Browser, pg_db: Database) -> None:
    sara = ww.enrol(pg_db, email="sara@example.com", name="Sara")
    code = pg_db.read(members.get, sara, ww.SECRET).referral_code
    context = browser.new_context(viewport=DESKTOP, locale="fa-IR",
                                  extra_http_headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    page = context.new_page()
    page.goto(f"{hub.base}/signin")
    expect(page.get_by_test_id("join-link")).to_have_text("تازه‌وارد هستید؟ عضو شبکه شوید")
    shot(page, "desktop_fa_signin")
    page.goto(f"{hub.base}/join?ref={code}")
    expect(page.locator("#referrer")).to_have_value(code)
    join(page, hub, "09351112233", "desktop_fa", via_signin=False, ref=code,
         recipient="+989351112233")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".notice")).to_contain_text("کارت شما آماده است")
    shot(page, "desktop_fa_wallet_joined")
    joined = pg_db.read(lambda c: members.find(c, ww.SECRET, phone="+989351112233"))
    assert joined is not None and joined.referred_by == sara and joined.locale == "fa"

    page.get_by_test_id("profile-link").click()
    page.fill("#city", "x" * 101)  # maxlength stops typing; force it past the browser
    page.evaluate("document.querySelector('#city').removeAttribute('maxlength')")
    page.fill("#city", "x" * 101)
    page.get_by_test_id("profile-save").click()
    expect(page.locator("#city-error")).to_have_text("نام شهر حداکثر ۱۰۰ نویسه است.")
    shot(page, "desktop_fa_profile_error")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.goto(f"{hub.base}/wallet/profile")
    shot(page, "desktop_en_profile")
    page.goto(f"{hub.base}/wallet/privacy")
    expect(page.get_by_test_id("privacy-contacts")).to_contain_text("+989351112233")
    shot(page, "desktop_en_privacy")
    page.goto(f"{hub.base}/wallet/privacy/erase")
    shot(page, "desktop_en_erase")
    context.close()
