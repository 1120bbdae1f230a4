"""The reward editor, the accounts page, the portal's webhook editing and the till's limit in
real Chromium (Debian's, headless) against a real uvicorn and PostgreSQL, in English and
Persian, on desktop and phone sizes.

An operator creates a cashier (the one-time password and key shown once), is refused disabling
themselves, creates a reward (a refused price first, named beside its field), and loads a code
pool (a bad line named by its number, then a good file). A manager edits a webhook endpoint and
deletes it; a cashier guessing codes is stopped. Each change is in the audit log.

Screenshots go to tests/artifacts/shots/console19b/ (or $POINTSNET_SHOTS) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from network import audit, parties
from network.backoffice import accounts
from network.clock import utcnow
from network.db.engine import Database
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardSpec
from partners.portal import till
from partners.webhooks import store as wh_store
from tests.e2e.shots import shooter
from tests.e2e.test_backoffice_till_browser import hub, sign_in  # noqa: F401
from tests.e2e.test_console_browser import context
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.support import ledger_world as w

DAY = dt.timedelta(days=1)
SIZES = {"desktop": DESKTOP, "phone": PHONE}


shot = shooter("console19b")


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    now = utcnow()
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop",
                                                name="Online Shop", name_fa="فروشگاه آنلاین"))
    sara = ww.enrol(pg_db, email="sara@example.com", name="Sara", by=cafe)
    ww.earn(pg_db, cafe, sara, 5000, at=now - 20 * DAY, reference="RCPT-1")
    made = rewards_store.create(pg_db, partner_id=cafe, spec=RewardSpec(
        kind="coupon", name_en="Free cappuccino", name_fa="کاپوچینوی رایگان",
        price_points=1200), scope="t", idempotency_key=w.key())
    rewards_store.set_status(pg_db, partner_id=cafe, reward_id=made.id, status="active",
                             scope="t", idempotency_key=w.key())
    code = rewards_buy.buy(pg_db, member_id=sara, reward_id=made.id, idempotency_key=w.key(),
                           secret=ww.SECRET, now=now - DAY).code or ""
    return {"cafe": cafe, "shop": shop, "code": code}


@pytest.mark.browser
@pytest.mark.parametrize(("language", "size"), [("en", "desktop"), ("fa", "phone")])
def test_an_operator_manages_accounts_and_rewards(hub: Hub, browser: Browser,  # noqa: F811
                                                  pg_db: Database, world: dict,
                                                  language: str, size: str,
                                                  tmp_path: Path) -> None:
    me = bw.person(pg_db, "operator", f"op-{language}@example.com")
    page = context(browser, SIZES[size], language).new_page()
    sign_in(page, hub, me, "/console")
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    # Accounts: a new cashier of the café, its sign-in shown once.
    page.get_by_test_id("nav-nav_accounts").click()
    expect(page).to_have_url(f"{hub.base}/console/accounts")
    page.fill("#login", f"till-{language}@cafe.example")
    page.fill("#name", "Till" if language == "en" else "صندوق")
    page.select_option("#role", "cashier")
    page.select_option("#partner", "cafe")
    page.get_by_test_id("acc-create").click()
    expect(page.get_by_test_id("acc-once")).to_be_visible()
    expect(page.get_by_test_id("acc-once-qr").locator("svg")).to_be_visible()
    shot(page, f"accounts_{size}_{language}_created")
    made = pg_db.read(accounts.by_login, f"till-{language}@cafe.example")
    assert made is not None and made.role == "cashier" and made.partner_id == world["cafe"]
    page.goto(f"{hub.base}/console/accounts")
    expect(page.get_by_test_id("acc-once")).to_have_count(0)
    page.get_by_test_id(f"acc-switch-{me.id}").click()
    expect(page.locator("[data-code=NOT_YOURSELF]")).to_be_visible()
    shot(page, f"accounts_{size}_{language}_not_yourself")
    page.goto(f"{hub.base}/console/accounts")
    page.get_by_test_id(f"acc-switch-{made.id}").click()
    expect(page.locator(f"tr[data-account='{made.id}']")).to_have_attribute(
        "data-state", "disabled")
    # Rewards: a refused price, named beside its field; then saved as a draft.
    page.get_by_test_id("nav-nav_rewards").click()
    page.get_by_test_id("reward-new").click()
    page.select_option("#partner", "cafe")
    page.fill("#name_en", "Cake slice")
    page.fill("#name_fa", "برش کیک")
    page.fill("#price_points", "0")
    page.fill("#stock", "۲۰" if language == "fa" else "20")
    page.select_option("#code_source", "pool")
    page.get_by_test_id("reward-save").click()
    expect(page.locator("li[data-code=PRICE_NOT_POSITIVE]")).to_be_visible()
    shot(page, f"reward_{size}_{language}_refused")
    page.fill("#price_points", "۸۰۰" if language == "fa" else "800")
    page.get_by_test_id("reward-save").click()
    expect(page.get_by_test_id("reward-status")).to_be_visible()
    reward_id = int(page.url.split("/")[-1].split("?")[0])
    saved = pg_db.read(rewards_store.get, reward_id)
    assert (saved.spec.price_points, saved.spec.stock, saved.status) == (800, 20, "draft")
    # The pool: a bad line named by its number, nothing loaded; then the good file.
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text("code\nCAKE-0001\n!!\n")
    good.write_text("code\nCAKE-0001\nCAKE-0002\nCAKE-0003\n")
    page.set_input_files("#csv", str(bad))
    page.get_by_test_id("reward-codes-upload").click()
    expect(page.locator("li[data-field='csv.line3']")).to_be_visible()
    shot(page, f"reward_{size}_{language}_bad_codes")
    assert pg_db.read(rewards_store.free_codes, [reward_id]) == {}
    page.set_input_files("#csv", str(good))
    page.get_by_test_id("reward-codes-upload").click()
    expect(page.get_by_test_id("reward-free-codes")).to_contain_text(
        "۳" if language == "fa" else "3")
    shot(page, f"reward_{size}_{language}_edit")
    logged = {e.action for e in pg_db.read(lambda c: audit.entries(c))
              if e.actor_id == str(me.id)}
    assert logged == {"backoffice.account_added", "backoffice.account_disabled",
                      "reward.created", "reward.codes_uploaded"}
    # The other two sizes of the same pages, for a person to look at.
    other = "phone" if size == "desktop" else "desktop"
    page.set_viewport_size(SIZES[other])
    shot(page, f"reward_{other}_{language}_edit")
    page.goto(f"{hub.base}/console/accounts")
    shot(page, f"accounts_{other}_{language}_list")


@pytest.mark.browser
@pytest.mark.parametrize(("language", "size"), [("fa", "desktop"), ("en", "phone")])
def test_a_manager_edits_webhooks_and_a_guessing_cashier_is_stopped(
        hub: Hub, browser: Browser, pg_db: Database, world: dict,  # noqa: F811
        language: str, size: str) -> None:
    hook = wh_store.create_endpoint(pg_db, scope="t", idempotency_key=w.key(),
                                    partner_id=world["cafe"],
                                    url="https://hooks.example.com/old", events=["coupon.used"],
                                    signing_kind="hmac", secret_key=bw.SECRET)
    manager = bw.person(pg_db, "manager", f"wh-{language}@cafe.example",
                        partner_id=world["cafe"])
    page = context(browser, SIZES[size], language).new_page()
    sign_in(page, hub, manager, "/partner")
    page.get_by_test_id("nav-nav_p_webhooks").click()
    page.get_by_test_id(f"wh-edit-{hook.id}").locator("summary").click()
    page.fill(f"#wh-url-{hook.id}", "http://10.0.0.1/x")
    page.get_by_test_id(f"wh-edit-submit-{hook.id}").click()
    expect(page.get_by_test_id(f"wh-edit-{hook.id}").locator(
        "[data-code=INVALID_WEBHOOK_URL]")).to_be_visible()
    shot(page, f"webhooks_{size}_{language}_edit_refused")
    page.fill(f"#wh-url-{hook.id}", "https://hooks.example.com/new")
    page.get_by_test_id(f"wh-edit-{hook.id}").locator(
        "input[name=events][value='coupon.bought']").check()
    page.get_by_test_id(f"wh-edit-submit-{hook.id}").click()
    expect(page.locator(f"[data-testid=wh-endpoint-{hook.id}] h2")).to_contain_text(
        "https://hooks.example.com/new")
    shot(page, f"webhooks_{size}_{language}_edited")
    assert set(pg_db.read(wh_store.get_endpoint, hook.id).events) == {"coupon.used",
                                                                      "coupon.bought"}
    page.get_by_test_id(f"wh-delete-{hook.id}").locator("summary").click()
    page.get_by_test_id(f"wh-delete-submit-{hook.id}").click()
    expect(page.get_by_test_id("wh-none")).to_be_visible()
    assert pg_db.read(wh_store.list_endpoints, world["cafe"]) == []
    # A cashier typing code after code is stopped after TRIES refusals, by name.
    cashier = bw.person(pg_db, "cashier", f"g-{language}@cafe.example",
                        partner_id=world["cafe"])
    till_page = context(browser, SIZES[size], language).new_page()
    sign_in(till_page, hub, cashier, "/partner")
    till_page.goto(f"{hub.base}/partner/till")
    for n in range(till.TRIES):
        till_page.fill("#code", f"GUESS-{n:04d}")
        till_page.get_by_test_id("till-check-submit").click()
        expect(till_page.locator("[data-code=COUPON_UNKNOWN]")).to_be_visible()
    till_page.fill("#code", world["code"])
    till_page.get_by_test_id("till-check-submit").click()
    if till_page.locator("[data-code=TOO_MANY_TRIES]").count() == 0:
        # The minute turned during the tries: the next refusals fill the new one.
        for n in range(till.TRIES):
            till_page.fill("#code", f"AGAIN-{n:04d}")
            till_page.get_by_test_id("till-check-submit").click()
    expect(till_page.locator("[data-code=TOO_MANY_TRIES]")).to_be_visible()
    shot(till_page, f"till_{size}_{language}_too_many")
    logged = [e.action for e in pg_db.read(lambda c: audit.entries(c))
              if e.actor_id == str(manager.id)]
    assert sorted(logged) == ["webhook_endpoint.delete", "webhook_endpoint.edit"]
