"""Tables on a phone (390 px) in real Chromium (Debian's, headless), English and Persian: the
console's accounts and the partner portal's transactions and members stack each row as labelled
lines (network/web/static/tables.js names each cell after its column, wallet.css stacks them
under 40rem), so nothing scrolls sideways; on a desktop they stay tables.

Screenshots: $POINTSNET_SHOTS/sim (tests/e2e/shots.py), for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from network import parties
from network.db.engine import Database
from tests.e2e.shots import shooter
from tests.e2e.test_backoffice_till_browser import sign_in
from tests.e2e.test_console_browser import context
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw

shot = shooter("sim")
# Nothing wider than the viewport, and no table wider than the box it scrolls in.
NOTHING_SIDEWAYS = """() => document.documentElement.scrollWidth <= window.innerWidth &&
    [...document.querySelectorAll('.scroll')].every(s => s.scrollWidth <= s.clientWidth + 1)"""


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    for i in range(3):
        member = ww.enrol(pg_db, email=f"m{i}@example.com", name=f"Member {i}", by=cafe)
        ww.earn(pg_db, cafe, member, 120 + 40 * i, reference=f"RECEIPT-2026-{i:04d}")
    return {"cafe": cafe}


@pytest.fixture
def hub(pg_db: Database, world: dict[str, int]) -> Iterator[Hub]:
    with Hub(pg_db) as server:
        yield server


def _check(page: Page, size: dict[str, int], table: str) -> None:
    first = page.locator(f"{table} tbody tr").first.locator("td").first
    expect(first).to_be_visible()
    if size == PHONE:
        assert first.get_attribute("data-label")  # tables.js named it after its column
        assert page.evaluate(NOTHING_SIDEWAYS)
    else:
        expect(page.locator(f"{table} thead").first).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize(("size", "language"), [(PHONE, "en"), (PHONE, "fa"), (DESKTOP, "en"),
                                                (DESKTOP, "fa")])
def test_tables_stack_on_a_phone_and_stay_tables_on_a_desktop(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int],
        size: dict[str, int], language: str) -> None:
    tag = f"{'phone' if size == PHONE else 'desktop'}_{language}"
    olga = bw.person(pg_db, "operator", f"olga-{tag}@example.com")
    bw.person(pg_db, "cashier", f"cashier-{tag}@example.com", partner_id=world["cafe"])
    page = context(browser, size, language).new_page()
    sign_in(page, hub, olga, "/console")
    page.goto(f"{hub.base}/console/accounts")
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shot(page, f"tables_console_accounts_{tag}")
    _check(page, size, "table")

    manager = bw.person(pg_db, "manager", f"manager-{tag}@example.com",
                        partner_id=world["cafe"])
    portal = context(browser, size, language).new_page()
    sign_in(portal, hub, manager, "/partner")
    for name in ("transactions", "members"):
        portal.goto(f"{hub.base}/partner/{name}")
        shot(portal, f"tables_portal_{name}_{tag}")
        _check(portal, size, "main table")
