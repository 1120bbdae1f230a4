"""The operator's console in a real browser: Debian's headless Chromium driven by Playwright
against a real uvicorn and PostgreSQL.

An operator signs in with password + TOTP (desktop, English), finds a member by email, blocks
and unblocks them, asks for goodwill above the limit and is refused as their own approver; a
second operator (phone, Persian) approves it and reads it in the audit log; a viewer (phone,
Persian, and desktop English) reads a member but is refused every operator action by the server.

Screenshots go to tests/artifacts/console_*.png for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from network import audit, parties
from network.backoffice import totp
from network.clock import utcnow
from network.db.engine import Database
from network.ledger.balances import summary
from network.programme import store
from network.programme.campaigns import Conditions, sole_funder
from partners import contracts, keys
from partners.terms import Terms
from tests.e2e.test_wallet_browser import ARTIFACTS, DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.network.programme.values import campaign

DAY = dt.timedelta(days=1)


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    sara = ww.enrol(pg_db, email="sara@example.com", phone="+989121234567", name="Sara",
                    by=cafe)
    ww.earn(pg_db, cafe, sara, 1800, at=utcnow() - 20 * DAY, reference="RCPT-1001")
    return {"cafe": cafe, "sara": sara}


@pytest.fixture
def hub(pg_db: Database, world: dict[str, int]) -> Iterator[Hub]:
    with Hub(pg_db) as server:
        yield server


def context(browser: Browser, size: dict[str, int], language: str) -> BrowserContext:
    accept = "fa-IR,fa;q=0.9" if language == "fa" else "en-US,en;q=0.9"
    return browser.new_context(viewport=size, device_scale_factor=1, locale=accept[:5],
                               extra_http_headers={"Accept-Language": accept})


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_{name}.png"), full_page=True)


def fresh_code(who: bw.Person) -> str:
    """A code of a time step this account has not used: codes work once. A second sign-in
    within the same 30 seconds takes the next step's code, which the hub accepts as clock drift
    (totp.DRIFT_STEPS) and which stays good as time moves on; only a third waits for a step."""
    now = time.time()
    last = getattr(who, "_last_step", None)
    step = totp.step(now) if last is None else max(totp.step(now), last + 1)
    if step > totp.step(now) + totp.DRIFT_STEPS:
        time.sleep((step - totp.DRIFT_STEPS) * totp.STEP_SECONDS - now + 0.2)
    who._last_step = step  # type: ignore[attr-defined]
    return totp.code_at(who.secret, step * totp.STEP_SECONDS)


def sign_in(page: Page, hub: Hub, who: bw.Person, name: str) -> None:
    page.goto(f"{hub.base}/console")
    expect(page).to_have_url(f"{hub.base}/console/signin")
    page.fill("#login", who.login)
    page.fill("#password", who.password)
    page.fill("#code", fresh_code(who))
    shot(page, f"{name}_signin")
    page.get_by_test_id("bo-sign-in").click()
    expect(page).to_have_url(f"{hub.base}/console/members")


@pytest.mark.browser
def test_operator_blocks_and_goodwill_needs_a_second_operator(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int]) -> None:
    sara = world["sara"]
    ana = bw.person(pg_db, "operator", "ana@example.com")
    ben = bw.person(pg_db, "operator", "ben@example.com")

    desk = context(browser, DESKTOP, "en").new_page()
    desk.goto(f"{hub.base}/console/signin")
    desk.fill("#login", ana.login)
    desk.fill("#password", "not the password!")
    desk.fill("#code", "123456")
    desk.get_by_test_id("bo-sign-in").click()
    expect(desk.locator("[data-code=SIGNIN_FAILED]")).to_be_visible()
    shot(desk, "desktop_en_signin_failed")
    sign_in(desk, hub, ana, "desktop_en")

    desk.fill("#q", "Sara@Example.com")
    shot(desk, "desktop_en_find")
    desk.get_by_test_id("find").click()
    expect(desk).to_have_url(f"{hub.base}/console/members/{sara}")
    expect(desk.get_by_test_id("member-spendable")).to_have_text("1,800")
    expect(desk.locator("[data-entry-id] >> text=RCPT-1001")).to_be_visible()

    desk.fill("#block-reason", "card skimming report")
    desk.get_by_test_id("block-submit").click()
    expect(desk.get_by_test_id("member-state")).to_contain_text("Blocked")
    shot(desk, "desktop_en_member_blocked")
    desk.fill("#block-reason", "member confirmed identity")
    desk.get_by_test_id("block-submit").click()
    expect(desk.get_by_test_id("member-state")).to_contain_text("Active")

    desk.fill("#gw-points", "2000")
    desk.fill("#gw-reason", "double charge at the till")
    desk.get_by_test_id("goodwill-submit").click()
    expect(desk.locator("[role=status]")).to_contain_text("second operator")
    expect(desk.locator("[data-status=pending]")).to_be_visible()
    shot(desk, "desktop_en_member_goodwill_pending")
    assert pg_db.read(summary, sara, utcnow()).spendable == 1800

    desk.get_by_test_id("nav-nav_goodwill").click()
    desk.locator("[data-testid^=approve-]").first.click()
    expect(desk.locator("[data-code=FOUR_EYES]")).to_be_visible()
    shot(desk, "desktop_en_four_eyes")
    assert pg_db.read(summary, sara, utcnow()).spendable == 1800

    phone = context(browser, PHONE, "fa").new_page()
    sign_in(phone, hub, ben, "phone_fa")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    phone.get_by_test_id("nav-nav_goodwill").click()
    expect(phone.locator("[data-testid=approvals]")).to_contain_text("۲٬۰۰۰")
    shot(phone, "phone_fa_approvals")
    phone.locator("[data-testid^=approve-]").first.click()
    expect(phone.get_by_test_id("nothing-waiting")).to_be_visible()
    assert pg_db.read(summary, sara, utcnow()).spendable == 3800

    phone.get_by_test_id("nav-nav_members").click()
    phone.fill("#q", "۰۹۱۲۱۲۳۴۵۶۷")
    phone.get_by_test_id("find").click()
    expect(phone.get_by_test_id("member-spendable")).to_have_text("۳٬۸۰۰")
    expect(phone.locator("[data-status=booked]")).to_be_visible()
    shot(phone, "phone_fa_member")

    phone.get_by_test_id("nav-nav_audit").click()
    rows = phone.locator("[data-testid=audit-table] tbody tr")
    expect(rows.first).to_have_attribute("data-action", "goodwill.approved")
    actions = rows.evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions == ["goodwill.approved", "goodwill.requested", "member.unblocked",
                       "member.blocked"]
    shot(phone, "phone_fa_audit")
    with phone.expect_download() as download:
        phone.get_by_test_id("audit-csv").click()
    exported = Path(download.value.path()).read_bytes().decode("utf-8")
    assert exported.count("\r\n") == 5 and "goodwill.approved" in exported

    logged = pg_db.read(lambda c: audit.entries(c, subject=audit.member_subject(sara)))
    assert [(e.action, e.actor_id) for e in logged] == [
        ("member.blocked", str(ana.id)), ("member.unblocked", str(ana.id)),
        ("goodwill.requested", str(ana.id)), ("goodwill.approved", str(ben.id))]

    desk.goto(f"{hub.base}/console/audit")
    shot(desk, "desktop_en_audit")


@pytest.mark.browser
@pytest.mark.parametrize(("size", "language"), [(PHONE, "fa"), (DESKTOP, "en")])
def test_a_viewer_reads_but_the_server_refuses_operator_actions(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int],
        size: dict[str, int], language: str) -> None:
    sara = world["sara"]
    viewer = bw.person(pg_db, "viewer", f"viewer-{language}@example.com")
    name = f"{'phone' if size == PHONE else 'desktop'}_{language}"
    page = context(browser, size, language).new_page()
    sign_in(page, hub, viewer, f"{name}_viewer")
    page.goto(f"{hub.base}/console/members/{sara}")
    expect(page.get_by_test_id("member-wallet")).to_be_visible()
    expect(page.get_by_test_id("member-actions")).to_have_count(0)
    assert page.get_by_test_id("nav-nav_audit").count() == 0
    shot(page, f"{name}_viewer_member")

    opened = page.goto(f"{hub.base}/console/audit")
    assert opened is not None and opened.status == 403
    expect(page.get_by_test_id("bo-error")).to_be_visible()
    shot(page, f"{name}_viewer_forbidden")
    # The form is not shown, but the server does not rely on that: post it anyway.
    page.goto(f"{hub.base}/console/members/{sara}")
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    posted = page.request.post(f"{hub.base}/console/members/{sara}/block",
                               form={"csrf": token or "", "reason": "viewer tries"},
                               headers={"Origin": hub.base}, max_redirects=0)
    assert posted.status == 403
    assert pg_db.read(lambda c: audit.entries(c)) == []


@pytest.mark.browser
def test_operator_network_pages_in_both_languages_and_sizes(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int]) -> None:
    """Every console page renders for an operator in both languages on both sizes (the
    screenshots are for a person to look at); a key revoked on the page is revoked in the
    database and in the audit log."""
    now = utcnow()
    cafe = world["cafe"]

    def seed(conn):  # type: ignore[no-untyped-def]
        contracts.add_contract(conn, cafe, Terms(earn_points_per_unit=Decimal("10")),
                               effective_from=now - 30 * DAY, now=now - 30 * DAY)
        contracts.add_contract(conn, cafe, Terms(earn_points_per_unit=Decimal("12")),
                               effective_from=now + 30 * DAY, now=now)
        key, _ = keys.create_key(conn, party_id=cafe, now=now, label="till 1")
        parties.create(conn, kind="charity", code="mahak", name="Mahak", name_fa="محک")
        store.create(conn, campaign(1, code="double-coffee", name_en="Double coffee points",
                                    name_fa="امتیاز دوبرابر قهوه", funder=sole_funder(cafe),
                                    conditions=Conditions(partners=frozenset({cafe}))),
                     owner_party_id=cafe)
        store.set_status(conn, "double-coffee", "active")
        return key

    key = pg_db.write(seed)
    combos = [(DESKTOP, "en"), (PHONE, "fa"), (PHONE, "en"), (DESKTOP, "fa")]
    for n, (size, language) in enumerate(combos):
        who = bw.person(pg_db, "operator", f"op{n}@example.com")
        name = f"{'phone' if size == PHONE else 'desktop'}_{language}"
        page = context(browser, size, language).new_page()
        sign_in(page, hub, who, f"{name}_network")
        shot(page, f"{name}_members")
        page.goto(f"{hub.base}/console/members/{world['sara']}")
        expect(page.get_by_test_id("merge-form")).to_be_visible()
        shot(page, f"{name}_member_operator")
        page.get_by_test_id("nav-nav_goodwill").click()
        shot(page, f"{name}_goodwill_empty")
        page.get_by_test_id("nav-nav_partners").click()
        expect(page.locator("[data-partner=cafe]")).to_be_visible()
        shot(page, f"{name}_partners")
        page.locator("[data-partner=cafe] a").click()
        expect(page.get_by_test_id("contracts").locator("tbody tr")).to_have_count(2)
        shot(page, f"{name}_partner")
        page.get_by_test_id("nav-nav_campaigns").click()
        expect(page.locator("[data-campaign=double-coffee]")).to_have_attribute(
            "data-status", "active")
        shot(page, f"{name}_campaigns")
        page.get_by_test_id("nav-nav_charities").click()
        expect(page.locator("[data-charity=mahak]")).to_be_visible()
        shot(page, f"{name}_charities")
        if language == "fa":
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
        if (size, language) == (PHONE, "fa"):
            page.goto(f"{hub.base}/console/partners/cafe")
            page.get_by_test_id(f"revoke-{key.key_id}").click()
            expect(page.locator(f"[data-key='{key.key_id}']")).to_have_attribute(
                "data-status", "revoked")
            shot(page, f"{name}_partner_key_revoked")
        page.context.close()
    assert pg_db.read(keys.find_key, key.key_id).revoked_at is not None
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c))] == ["partner.key_revoked"]
