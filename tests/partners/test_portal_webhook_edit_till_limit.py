"""The partner portal's webhook editing (URL and event types) and deletion, and the till's
limit on refused codes, over HTTP through the real ASGI app on PostgreSQL: the same checks as
the API's updateWebhookEndpoint and deleteWebhookEndpoint, partner A never touches partner B's
endpoint, every change is audited once; a cashier refused TRIES codes in a minute is refused
every further code (TOO_MANY_TRIES, 429) until the minute is over, and that cashier only."""

from __future__ import annotations

import datetime as dt
import re

from network import audit
from network.db.engine import Database
from partners import webhooks
from partners.portal import till
from partners.webhooks import store as wh_store
from tests.network.backoffice import world as bw
from tests.partners.test_portal_till_webhooks import (  # noqa: F401
    HOOK,
    Clock,
    _status,
    app,
    client,
    clock,
    world,
)
from tests.support import ledger_world as w


def _hook(db: Database, partner: int) -> wh_store.Endpoint:
    return wh_store.create_endpoint(db, scope="t", idempotency_key=w.key(), partner_id=partner,
                                    url=HOOK, events=["coupon.used"], signing_kind="hmac",
                                    secret_key=bw.SECRET)


def test_a_manager_edits_and_deletes_an_endpoint_audited_once_each(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    hook = _hook(pg_db, world["cafe"])
    pg_db.write(lambda c: webhooks.emit(c, world["cafe"], webhooks.COUPON_USED, {"x": 1}))
    manager = client(app, bw.person(pg_db, "manager", "m@cafe.test", partner_id=world["cafe"]),
                     clock)
    page = manager.get("/partner/webhooks")
    assert f'data-testid="wh-edit-form-{hook.id}"' in page.text
    bad = manager.post(f"/partner/webhooks/{hook.id}/edit",
                       {"url": "https://10.1.2.3/x", "events": "coupon.used", "key": w.key()})
    assert bad.status_code == 400 and 'data-code="INVALID_WEBHOOK_URL"' in bad.text
    assert 'value="https://10.1.2.3/x"' in bad.text  # shown again as typed, in its own form
    none = manager.post(f"/partner/webhooks/{hook.id}/edit", {"url": HOOK, "key": w.key()})
    assert none.status_code == 400 and 'data-code="UNKNOWN_WEBHOOK_EVENT"' in none.text
    assert pg_db.read(wh_store.get_endpoint, hook.id).events == ("coupon.used",)
    key = w.key()
    for _ in range(2):  # a resent form edits once
        edited = manager.post(f"/partner/webhooks/{hook.id}/edit", {
            "url": HOOK + "/v2", "events": ["coupon.bought", "coupon.used"], "key": key})
        assert edited.status_code == 303
    after = pg_db.read(wh_store.get_endpoint, hook.id)
    assert (after.url, set(after.events)) == (HOOK + "/v2", {"coupon.bought", "coupon.used"})
    assert "The endpoint is saved." in manager.get("/partner/webhooks?done=edited").text
    deleted = manager.post(f"/partner/webhooks/{hook.id}/delete", {"key": w.key()})
    assert deleted.status_code == 303
    assert pg_db.read(wh_store.list_endpoints, world["cafe"]) == []
    [delivery] = pg_db.read(lambda c: wh_store.list_deliveries(c, hook.id))
    assert delivery.status == "cancelled"
    logged = [e for e in pg_db.read(lambda c: audit.entries(c))
              if e.action in ("webhook_endpoint.edit", "webhook_endpoint.delete")]
    assert sorted(e.action for e in logged) == ["webhook_endpoint.delete",
                                                "webhook_endpoint.edit"]
    edit = next(e for e in logged if e.action == "webhook_endpoint.edit")
    assert edit.before == {"url": HOOK, "events": ["coupon.used"]}
    assert edit.subject == f"webhook_endpoint:{hook.id}"


def test_another_partners_endpoint_is_not_found_and_analysts_are_refused(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    shop_hook = _hook(pg_db, world["shop"])
    manager = client(app, bw.person(pg_db, "manager", "m@cafe.test", partner_id=world["cafe"]),
                     clock)
    manager.get("/partner/webhooks")
    assert manager.post(f"/partner/webhooks/{shop_hook.id}/edit", {
        "url": HOOK + "/mine", "events": "coupon.used", "key": w.key()}).status_code == 404
    assert manager.post(f"/partner/webhooks/{shop_hook.id}/delete",
                        {"key": w.key()}).status_code == 404
    analyst = client(app, bw.person(pg_db, "analyst", "a@shop.test", partner_id=world["shop"]),
                     clock)
    read = analyst.get("/partner/webhooks")
    assert f"wh-edit-form-{shop_hook.id}" not in read.text
    assert analyst.post(f"/partner/webhooks/{shop_hook.id}/delete",
                        {"key": w.key()}).status_code == 403
    staff = bw.signed_in(app, bw.person(pg_db, "operator"), clock)
    assert staff.post(f"/partner/webhooks/{shop_hook.id}/delete",
                      {"key": w.key()}).status_code == 403
    after = pg_db.read(wh_store.get_endpoint, shop_hook.id)
    assert after.url == HOOK and not after.deleted


def test_a_cashier_guessing_codes_is_stopped_for_the_minute(
        pg_db: Database, app, clock: Clock, world: dict) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clock.now = clock.now.replace(second=0)  # the start of a minute: the tries all fall in it
    guesser = client(app, bw.person(pg_db, "cashier", "g@cafe.test", partner_id=world["cafe"]),
                     clock)
    honest = client(app, bw.person(pg_db, "cashier", "h@cafe.test", partner_id=world["cafe"]),
                    clock)
    clock.now = clock.now.replace(second=0) + dt.timedelta(minutes=1)
    guesser.get("/partner/till")
    # Good codes do not count: checking one's own coupon many times is no guessing.
    for _ in range(till.TRIES + 2):
        assert guesser.post("/partner/till/check",
                            {"code": world["coffee_code"]}).status_code == 200
    for n in range(till.TRIES):
        refused = guesser.post("/partner/till/check", {"code": f"GUESS-{n:04d}"})
        assert refused.status_code == 400 and 'data-code="COUPON_UNKNOWN"' in refused.text
    stopped = guesser.post("/partner/till/check", {"code": world["coffee_code"]})
    assert stopped.status_code == 429 and 'data-code="TOO_MANY_TRIES"' in stopped.text
    assert 0 < int(stopped.headers["retry-after"]) <= 61  # the rest of the minute, rounded up
    form = guesser.get("/partner/till")
    key = re.search(r'name="key" value="([^"]+)"', form.text)
    used = guesser.post("/partner/till/use", {"code": world["coffee_code"],
                                              "key": key.group(1) if key else w.key()})
    assert used.status_code == 429 and _status(pg_db, world["coffee_code"]) == "issued"
    # Another cashier of the same partner works on.
    honest.get("/partner/till")
    assert honest.post("/partner/till/check", {"code": world["coffee_code"]}).status_code == 200
    # The next minute the guesser may try again.
    clock.now += dt.timedelta(minutes=1)
    assert guesser.post("/partner/till/check", {"code": world["coffee_code"]}).status_code == 200
