"""Three gaps an audit left in payouts: a run's paid_at outliving `paid`, statements silent
about a flagged payment, and a resume of an invoice begun before `attempt`/`section` metadata.

Same October run and local Stripe (settlement/payouts/local_stripe.py + localstripe) as
test_payouts.py.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from settlement import store
from settlement.payouts import records
from settlement.payouts.gateway import StripeGateway
from settlement.payouts.local_stripe import StripeConnectServer
from settlement.payouts.pay import pay
from settlement.payouts.webhook import apply_event
from settlement.schema import settlement_payments
from settlement.statements.build import build_statement
from settlement.statements.render import to_csv, to_html
from tests.settlement import scenario as S
from tests.settlement.test_payouts import (
    LATER,
    Crash,
    closed,  # noqa: F401  (fixture)
    customer,
    set_stripe_ids,
)
from tests.settlement.world import World


def charity_transfer(world: World, server: StripeConnectServer) -> dict:
    (transfer,) = [t for t in server.objects("transfer")
                   if t["metadata"]["party_id"] == str(world.party(S.K))]
    return transfer


def test_a_run_back_to_paying_no_longer_shows_paid_at(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer) -> None:
    """A `paid` run left with a failed payment by versions before the run followed its
    payments goes back to `paying` on the next event; it must not keep its paid_at."""
    set_stripe_ids(closed.db, closed.party(S.A),
                   stripe_customer_id=customer(gateway, "4242424242424242"))
    paid = pay(closed.db, gateway, "2026-10").run
    assert paid.status == "paid" and paid.paid_at is not None
    closed.db.write(lambda c: c.execute(update(settlement_payments).where(
        settlement_payments.c.party_id == closed.party(S.K)).values(status="failed")))
    transfer = charity_transfer(closed, stripe_server)
    event = {"id": "evt_rev_paid_run", "type": "transfer.reversed",
             "data": {"object": {**transfer, "reversed": True, "amount_reversed": 5956}}}
    assert closed.db.write(apply_event, event, LATER) == "applied"
    run = closed.db.read(store.find_run, "2026-10")
    assert (run.status, run.paid_at) == ("paying", None)
    again = pay(closed.db, gateway, "2026-10").run  # the transfer is found: paid again
    assert again.status == "paid" and again.paid_at is not None


def test_a_statement_shows_that_its_transfer_was_reversed(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer) -> None:
    pay(closed.db, gateway, "2026-10")
    transfer = charity_transfer(closed, stripe_server)
    event = {"id": "evt_rev_statement", "type": "transfer.reversed",
             "data": {"object": {**transfer, "reversed": False, "amount_reversed": 100}}}
    assert closed.db.write(apply_event, event, LATER) == "applied"
    run = closed.db.read(store.find_run, "2026-10")
    st = closed.db.read(build_statement, run, closed.party(S.K), LATER)
    assert st.payment_status.startswith("succeeded, flagged transfer_reversed: ")
    assert "reversed 1.00 EUR of 59.56 EUR" in st.payment_status
    rows = list(csv.DictReader(io.StringIO(to_csv(st).decode())))
    (status_row,) = [r for r in rows if r["kind"] == "payment_status"]
    assert "transfer_reversed: reversed 1.00 EUR of 59.56 EUR" in status_row["source_kind"]
    assert "transfer_reversed: reversed 1.00 EUR of 59.56 EUR" in to_html(st).decode()
    # an unflagged payment's status line is unchanged
    telecom = closed.db.read(build_statement, run, closed.party(S.B), LATER)
    assert telecom.payment_status == "succeeded"


class BeforeAttemptTags(StripeGateway):
    """The invoice path as deployed before attempt and section metadata (commit f127e34^):
    same keys, metadata without `attempt` and items without `section`; dies after 2 items."""

    def __init__(self, inner: StripeGateway) -> None:
        self.__dict__.update(inner.__dict__)
        self.items = 0

    @staticmethod
    def _legacy(params: dict) -> dict:
        drop = ("attempt", "section")
        return {**params, "metadata": {k: v for k, v in params["metadata"].items()
                                       if k not in drop}}

    def create_invoice(self, key: str, **params: object) -> object:
        return super().create_invoice(key, **self._legacy(params))

    def create_invoice_item(self, key: str, **params: object) -> object:
        result = super().create_invoice_item(key, **self._legacy(params))
        self.items += 1
        if self.items == 2:
            raise Crash("deployed between two invoice items")
        return result


@pytest.mark.parametrize("keys_forgotten", [False, True])
def test_an_invoice_begun_before_attempt_tags_is_completed_once(
        closed: World, gateway: StripeGateway,  # noqa: F811
        stripe_server: StripeConnectServer, keys_forgotten: bool) -> None:
    """Within 24 hours re-sending an item with the new metadata under its old key was an
    idempotency_error (the payment failed); after them the old items were not recognised and
    the invoice was billed twice over."""
    with pytest.raises(Crash):
        pay(closed.db, BeforeAttemptTags(gateway), "2026-10")
    if keys_forgotten:
        stripe_server.state.idempotency.clear()
    report = pay(closed.db, gateway, "2026-10")
    payment = {p.party_id: p for p in report.payments}[closed.party(S.A)]
    (invoice,) = stripe_server.objects("invoice")
    assert (payment.status, payment.attempt, payment.error_code, payment.stripe_object_id) == (
        "submitted", 1, None, invoice["id"])
    assert invoice["status"] == "open" and invoice["amount_due"] == 8794
    descriptions = [line["description"] for line in invoice["lines"]["data"]]
    assert len(descriptions) == len(set(descriptions)) >= 4
    assert closed.db.read(records.by_id, payment.id).status == "submitted"
