"""`POST /stripe/webhook` over real HTTP through a Starlette app (httpx TestClient).

Events are signed the way Stripe signs them (t=..,v1=HMAC-SHA256) and verified by the stripe
library's own `Webhook.construct_event`. Payments come from paying the October run against our
Stripe server (settlement/payouts/local_stripe.py) + localstripe, as in test_payouts.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.routing import Route

from network.db.engine import Database
from settlement import store
from settlement.cli import print_summary
from settlement.payouts import records
from settlement.payouts.gateway import StripeGateway
from settlement.payouts.local_stripe import StripeConnectServer
from settlement.payouts.pay import pay
from settlement.payouts.webhook import stripe_webhook_endpoint
from tests.settlement import scenario as S
from tests.settlement.test_payouts import (
    closed,  # noqa: F401  (fixture)
    customer,
    set_stripe_ids,
)
from tests.settlement.world import World

SECRET = "whsec_test_settlement"


class Http:
    """Real HTTP requests through the ASGI app (httpx's ASGI transport)."""

    def __init__(self, db: Database) -> None:
        self.app = Starlette(routes=[Route("/stripe/webhook", stripe_webhook_endpoint(db, SECRET),
                                           methods=["POST"])])

    def post(self, path: str, **kw: object) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                         base_url="http://hub") as c:
                return await c.post(path, **kw)
        return anyio.run(go)


def client(db: Database) -> Http:
    return Http(db)


def deliver(http: Http, event: dict, secret: str = SECRET, at: int | None = None):
    payload = json.dumps(event)
    t = at or int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", secret)
    return http.post("/stripe/webhook", content=payload,
                     headers={"Stripe-Signature": f"t={t},v1={sig}",
                              "Content-Type": "application/json"})


def test_invoice_paid_event_completes_the_run_once(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer) -> None:
    pay(closed.db, gateway, "2026-10")
    (invoice,) = stripe_server.objects("invoice")
    gateway.client.v1.invoices.pay(invoice["id"])  # the cafe pays its invoice
    paid_event = next(e for e in stripe_server.state.events if e["type"] == "invoice.paid")
    http = client(closed.db)
    first = deliver(http, paid_event)
    assert first.status_code == 200 and first.json()["result"] == "applied"
    payment = closed.db.read(records.by_stripe_object, invoice["id"])
    assert payment.status == "succeeded" and payment.party_id == closed.party(S.A)
    assert closed.db.read(store.find_run, "2026-10").status == "paid"
    again = deliver(http, paid_event)
    assert again.status_code == 200 and again.json()["result"] == "duplicate"


def test_a_partial_transfer_reversal_is_flagged_for_staff_and_never_repaid(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the platform can reverse a transfer: staff decided, so `pay` sends nothing again
    (it used to fail the payment and re-send the full 59.56 for a 1.00 reversal)."""
    pay(closed.db, gateway, "2026-10")  # the cafe's invoice is open: the run is still paying
    charity = closed.party(S.K)
    (transfer,) = [t for t in stripe_server.objects("transfer")
                   if t["metadata"]["party_id"] == str(charity)]
    event = {"id": "evt_rev_1", "object": "event", "type": "transfer.reversed",
             "data": {"object": {**transfer, "reversed": False, "amount_reversed": 100}}}
    assert deliver(client(closed.db), event).json()["result"] == "applied"
    payment = closed.db.read(records.by_stripe_object, transfer["id"])
    assert (payment.status, payment.error_code, payment.stripe_status) == (
        "succeeded", "transfer_reversed", "partially_reversed")
    assert "reversed 1.00 EUR of 59.56 EUR" in (payment.error_message or "")
    pay(closed.db, gateway, "2026-10")
    assert [t["amount"] for t in stripe_server.objects("transfer")
            if t["metadata"]["party_id"] == str(charity)] == [5956]
    print_summary(closed.db, closed.db.read(store.find_run, "2026-10"))
    assert "ATTENTION      kids-charity transfer_reversed: reversed 1.00 EUR" in \
        capsys.readouterr().out


def declined_then_invoiced(world: World, gateway: StripeGateway) -> tuple[Any, records.Payment]:
    """Attempt 1 charges a card that is declined; attempt 2 (no card on file) is an invoice."""
    cafe = world.party(S.A)
    declining = customer(gateway, "4000000000000341")
    set_stripe_ids(world.db, cafe, stripe_customer_id=declining)
    pay(world.db, gateway, "2026-10")
    (declined,) = gateway.client.v1.payment_intents.list(params={"customer": declining}).data
    set_stripe_ids(world.db, cafe, stripe_customer_id=customer(gateway))
    report = pay(world.db, gateway, "2026-10")
    return declined, {p.party_id: p for p in report.payments}[cafe]


def test_a_late_event_of_a_superseded_attempt_changes_nothing(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer) -> None:
    declined, current = declined_then_invoiced(closed, gateway)
    assert (current.attempt, current.method, current.status) == (2, "invoice", "submitted")
    late = {"id": "evt_late_1", "object": "event", "type": "payment_intent.payment_failed",
            "data": {"object": declined.to_dict()}}
    assert deliver(client(closed.db), late).json()["result"] == "superseded"
    assert closed.db.read(records.by_id, current.id) == current
    pay(closed.db, gateway, "2026-10")
    assert closed.db.read(records.by_id, current.id).attempt == 2
    assert len(stripe_server.objects("invoice")) == 1


def test_money_moved_by_a_superseded_attempt_counts_as_paid_and_is_flagged(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer) -> None:
    declined, current = declined_then_invoiced(closed, gateway)
    http = client(closed.db)
    old_paid = {"id": "evt_old_paid", "object": "event", "type": "payment_intent.succeeded",
                "data": {"object": {**declined.to_dict(), "status": "succeeded"}}}
    assert deliver(http, old_paid).json()["result"] == "applied"
    payment = closed.db.read(records.by_id, current.id)
    assert (payment.status, payment.stripe_object_id, payment.error_code) == (
        "succeeded", declined.id, "earlier_attempt_paid")
    assert current.stripe_object_id in (payment.error_message or "")  # void that invoice
    assert closed.db.read(store.find_run, "2026-10").status == "paid"
    # the party pays the invoice anyway: shown as paid twice, never silently absorbed
    invoice = gateway.client.v1.invoices.pay(current.stripe_object_id)
    paid_too = {"id": "evt_inv_paid", "object": "event", "type": "invoice.paid",
                "data": {"object": invoice.to_dict()}}
    assert deliver(http, paid_too).json()["result"] == "applied"
    payment = closed.db.read(records.by_id, current.id)
    assert (payment.status, payment.error_code) == ("succeeded", "paid_twice")


def test_a_late_payment_failure_leaves_a_succeeded_payment_alone(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer) -> None:
    pay(closed.db, gateway, "2026-10")
    (invoice,) = stripe_server.objects("invoice")
    paid = gateway.client.v1.invoices.pay(invoice["id"]).to_dict()
    http = client(closed.db)
    deliver(http, {"id": "evt_p", "type": "invoice.paid", "data": {"object": paid}})
    late = deliver(http, {"id": "evt_f", "type": "invoice.payment_failed",
                          "data": {"object": {**paid, "status": "open"}}})
    assert late.json()["result"] == "stale"
    payment = closed.db.read(records.by_stripe_object, invoice["id"])
    assert (payment.status, payment.stripe_status, payment.error_code) == (
        "succeeded", "paid", None)


@pytest.mark.parametrize("tamper", ["wrong_secret", "stale", "no_header", "body_changed"])
def test_bad_signatures_are_refused(closed: World, tamper: str) -> None:  # noqa: F811
    http = client(closed.db)
    event = {"id": "evt_x", "object": "event", "type": "invoice.paid", "data": {"object": {}}}
    if tamper == "wrong_secret":
        response = deliver(http, event, secret="whsec_other")
    elif tamper == "stale":
        response = deliver(http, event, at=int(time.time()) - 3600)
    elif tamper == "no_header":
        response = http.post("/stripe/webhook", content=json.dumps(event))
    else:
        payload = json.dumps(event)
        t = int(time.time())
        sig = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", SECRET)
        response = http.post("/stripe/webhook", content=payload.replace("evt_x", "evt_y"),
                             headers={"Stripe-Signature": f"t={t},v1={sig}"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "SIGNATURE_INVALID"


def test_the_hub_app_mounts_the_webhook(closed: World) -> None:  # noqa: F811
    """The route as infra/app.py mounts it: refused until a secret is configured."""
    import warnings

    from network.config import Settings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from infra.app import create_app

    bare = TestClient(create_app(Settings(database_url=closed.db.url, env="test"), closed.db))
    assert bare.post("/stripe/webhook", content="{}").status_code == 503
    settings = Settings(database_url=closed.db.url, env="test",
                        extra={"STRIPE_WEBHOOK_SECRET": SECRET})
    http = TestClient(create_app(settings, closed.db))
    event = {"id": "evt_app_1", "object": "event", "type": "customer.created",
             "data": {"object": {"id": "cus_x"}}}
    payload = json.dumps(event)
    t = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", SECRET)
    response = http.post("/stripe/webhook", content=payload,
                         headers={"Stripe-Signature": f"t={t},v1={sig}"})
    assert response.status_code == 200 and response.json()["result"] == "ignored"
