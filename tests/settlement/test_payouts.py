"""Paying a closed run through Stripe with the official `stripe` library.

Stripe here is two local servers on 127.0.0.1: settlement/payouts/local_stripe.py (ours:
Connect accounts, Transfers, Invoices with finalize/send, Idempotency-Key replay, injectable
failures) which forwards customers, payment methods and payment intents to `localstripe`
(PyPI). October's nets: cafe (A) owes 87.94; telecom (B) +6.89, pharmacy (C) +1.43 and the
charity (K) +59.56 are paid out; the hub keeps 20.06 of fees and breakage.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from network.config import Settings
from network.db.engine import Database
from network.db.schema import parties
from network.parties import network_party_id
from settlement import run, store
from settlement.errors import SettlementError
from settlement.payouts import records
from settlement.payouts.gateway import PermanentStripeError, StripeGateway
from settlement.payouts.local_stripe import StripeConnectServer
from settlement.payouts.pay import pay
from settlement.payouts.webhook import apply_event
from settlement.schema import settlement_payments
from tests.settlement import scenario as S
from tests.settlement.world import World, build
from tests.support.ledger_world import row_counts

LATER = datetime(2026, 12, 10, tzinfo=UTC)
OWED = {S.B: 689, S.C: 143, S.K: 5956}


class Crash(Exception):
    """Stands for the process dying at a precise point."""


def set_stripe_ids(db: Database, party_id: int, **ids: str | None) -> None:
    db.write(lambda c: c.execute(update(parties).where(parties.c.id == party_id).values(**ids)))


def customer(gateway: StripeGateway, card: str | None = None) -> str:
    cus = gateway.client.v1.customers.create(params={"email": "finance@cafe.example"})
    if card:
        pm = gateway.client.v1.payment_methods.create(params={"type": "card", "card": {
            "number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
        gateway.client.v1.payment_methods.attach(pm.id, params={"customer": cus.id})
        gateway.client.v1.customers.update(cus.id, params={
            "invoice_settings": {"default_payment_method": pm.id}})
    return cus.id


@pytest.fixture
def closed(pg_db: Database, stripe_server: StripeConnectServer, gateway: StripeGateway) -> World:
    world = build(pg_db, pg_db.read(network_party_id), reversal=False)
    for symbol in OWED:
        set_stripe_ids(pg_db, world.party(symbol), stripe_account_id=stripe_server.create_account())
    set_stripe_ids(pg_db, world.party(S.A), stripe_customer_id=customer(gateway))
    settings = Settings(database_url=pg_db.url, env="test")
    run.close(pg_db, settings, "2026-10", now=LATER)
    return world


def transfers_by_party(server: StripeConnectServer) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for t in server.objects("transfer"):
        out.setdefault(int(t["metadata"]["party_id"]), []).append(t["amount"])
    return out


def expected_transfers(world: World) -> dict[int, list[int]]:
    return {world.party(s): [amount] for s, amount in OWED.items()}


def test_transfers_out_and_an_invoice_in(closed: World, gateway: StripeGateway,
                                         stripe_server: StripeConnectServer) -> None:
    report = pay(closed.db, gateway, "2026-10")
    assert transfers_by_party(stripe_server) == expected_transfers(closed)
    assert {t["transfer_group"] for t in stripe_server.objects("transfer")} == {
        f"pointsnet-2026-10-run{report.run.id}"}
    status = {p.party_id: (p.method, p.status) for p in report.payments}
    assert status[closed.party(S.A)] == ("invoice", "submitted")
    assert all(status[closed.party(s)] == ("transfer", "succeeded") for s in OWED)
    (invoice,) = stripe_server.objects("invoice")
    assert invoice["status"] == "open" and invoice["amount_due"] == 8794
    assert invoice["collection_method"] == "send_invoice"
    assert sum(i["amount"] for i in invoice["lines"]["data"]) == 8794
    assert len(invoice["lines"]["data"]) >= 4  # one item per statement section
    assert report.run.status == "paying"


def test_payment_method_on_file_is_charged_with_a_payment_intent(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    set_stripe_ids(closed.db, closed.party(S.A),
                   stripe_customer_id=customer(gateway, "4242424242424242"))
    report = pay(closed.db, gateway, "2026-10")
    payment = {p.party_id: p for p in report.payments}[closed.party(S.A)]
    assert (payment.method, payment.status) == ("payment_intent", "succeeded")
    intent = gateway.client.v1.payment_intents.retrieve(payment.stripe_object_id)
    assert intent.amount == 8794 and intent.status == "succeeded"
    assert report.run.status == "paid"


def test_a_declined_card_fails_that_payment_only_and_pay_retries_it(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    set_stripe_ids(closed.db, closed.party(S.A),
                   stripe_customer_id=customer(gateway, "4000000000000341"))
    report = pay(closed.db, gateway, "2026-10")
    by_party = {p.party_id: p for p in report.payments}
    failed = by_party[closed.party(S.A)]
    assert failed.status == "failed" and "declined" in (failed.error_message or "")
    assert all(by_party[closed.party(s)].status == "succeeded" for s in OWED)
    set_stripe_ids(closed.db, closed.party(S.A),
                   stripe_customer_id=customer(gateway, "4242424242424242"))
    again = pay(closed.db, gateway, "2026-10")
    retried = {p.party_id: p for p in again.payments}[closed.party(S.A)]
    assert (retried.status, retried.attempt) == ("succeeded", 2)
    assert retried.idempotency_key != failed.idempotency_key
    assert again.run.status == "paid"
    assert transfers_by_party(stripe_server) == expected_transfers(closed)


class CrashingGateway(StripeGateway):
    """The real gateway, dying just before or just after Stripe executes a transfer."""

    def __init__(self, inner: StripeGateway, when: str, on_call: int = 2) -> None:
        self.__dict__.update(inner.__dict__)
        self.when, self.on_call, self.calls = when, on_call, 0

    def create_transfer(self, key: str, **params: object) -> object:
        self.calls += 1
        if self.calls == self.on_call and self.when == "before":
            raise Crash("died after recording the intent, before calling Stripe")
        result = super().create_transfer(key, **params)
        if self.calls == self.on_call and self.when == "after":
            raise Crash("died after Stripe paid, before recording it")
        return result


class DiesAfterSecondItem(StripeGateway):
    """The real gateway, dying right after Stripe added an invoice's second item."""

    def __init__(self, inner: StripeGateway) -> None:
        self.__dict__.update(inner.__dict__)
        self.items = 0

    def create_invoice_item(self, key: str, **params: object) -> object:
        result = super().create_invoice_item(key, **params)
        self.items += 1
        if self.items == 2:
            raise Crash("died between invoice items")
        return result


@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_then_rerun_never_pays_twice_and_never_skips(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer,
        when: str) -> None:
    with pytest.raises(Crash):
        pay(closed.db, CrashingGateway(gateway, when), "2026-10")
    stuck = [p for p in closed.db.read(records.for_run, 1) if p.status == "pending"]
    assert len(stuck) == 1
    report = pay(closed.db, gateway, "2026-10")
    assert transfers_by_party(stripe_server) == expected_transfers(closed)
    paid = {p.party_id: p for p in report.payments}
    assert paid[stuck[0].party_id].idempotency_key == stuck[0].idempotency_key
    assert paid[stuck[0].party_id].status == "succeeded"
    posts = 3  # "after": the re-run found the transfer Stripe made and adopted it
    assert stripe_server.posts("/v1/transfers") == posts
    pay(closed.db, gateway, "2026-10")  # a third run has nothing left to do
    assert stripe_server.posts("/v1/transfers") == posts


def test_lost_response_is_retried_with_the_same_key(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    stripe_server.fail_next("POST", "/v1/transfers", mode="lose_response")
    stripe_server.fail_next("POST", "/v1/transfers", mode="before", status=503)
    report = pay(closed.db, gateway, "2026-10")
    assert transfers_by_party(stripe_server) == expected_transfers(closed)
    assert all(p.status == "succeeded" for p in report.payments if p.method == "transfer")


def test_stripe_down_leaves_payment_pending_and_rerun_completes_it(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    stripe_server.fail_next("POST", "/v1/transfers", mode="before", status=500, remaining=4)
    report = pay(closed.db, gateway, "2026-10")
    pending = [p for p in report.payments if p.status == "pending"]
    assert len(pending) == 1 and pending[0].error_code == "transient"
    again = pay(closed.db, gateway, "2026-10")
    assert transfers_by_party(stripe_server) == expected_transfers(closed)
    assert {p.party_id: p.status for p in again.payments}[pending[0].party_id] == "succeeded"


def test_permanent_error_marks_failed_with_stripes_message_and_the_rest_go_on(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    stripe_server.state.available_balance["eur"] = 700  # enough for B (689), not for K (5956)
    report = pay(closed.db, gateway, "2026-10")
    by_party = {p.party_id: p for p in report.payments}
    charity = by_party[closed.party(S.K)]
    assert charity.status == "failed" and charity.error_code == "balance_insufficient"
    assert "insufficient available funds" in (charity.error_message or "")
    assert by_party[closed.party(S.B)].status == "succeeded"
    assert by_party[closed.party(S.C)].status == "failed"  # 143 > 11 left after B
    stripe_server.state.available_balance["eur"] = 10**9
    again = {p.party_id: p for p in pay(closed.db, gateway, "2026-10").payments}
    assert again[closed.party(S.K)].status == "succeeded" and again[closed.party(S.K)].attempt == 2
    assert transfers_by_party(stripe_server) == expected_transfers(closed)


def test_paying_an_open_period_is_refused(pg_db: Database, gateway: StripeGateway,
                                          stripe_server: StripeConnectServer) -> None:
    world = build(pg_db, pg_db.read(network_party_id), reversal=False)
    run.preview(world.db, Settings(database_url=pg_db.url, env="test"), "2026-10", now=LATER)
    before = row_counts(pg_db)
    with pytest.raises(SettlementError) as err:
        pay(pg_db, gateway, "2026-10")
    assert err.value.code == "PERIOD_NOT_CLOSED"
    assert "settle close --period 2026-10" in str(err.value)
    with pytest.raises(SettlementError, match="not previewed"):
        pay(pg_db, gateway, "2026-09")
    with pytest.raises(SettlementError, match="BAD_PERIOD"):
        pay(pg_db, gateway, "2026/10")
    assert row_counts(pg_db) == before and stripe_server.state.requests == []


def test_a_party_without_stripe_account_is_named_and_nothing_is_paid(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    set_stripe_ids(closed.db, closed.party(S.K), stripe_account_id=None)
    set_stripe_ids(closed.db, closed.party(S.A), stripe_customer_id=None)
    before = row_counts(closed.db)
    with pytest.raises(SettlementError) as err:
        pay(closed.db, gateway, "2026-10")
    assert err.value.code == "MISSING_STRIPE_ACCOUNT"
    # Every blocked party, with its amount in major units and currency, not just the first.
    assert "2 of 4 parties are blocked" in err.value.message
    assert "kids-charity is owed 59.56 EUR but has no Stripe connected account" \
        in err.value.message
    assert "cafe owes 87.94 EUR but has no Stripe customer" in err.value.message
    assert row_counts(closed.db) == before and stripe_server.objects("transfer") == []


def test_dry_run_writes_nothing_and_calls_nothing(closed: World, gateway: StripeGateway,
                                                  stripe_server: StripeConnectServer) -> None:
    before, calls = row_counts(closed.db), len(stripe_server.state.requests)
    report = pay(closed.db, gateway, "2026-10", dry_run=True)
    assert {p.party_id: p.amount_minor for p in report.planned} == {
        closed.party(S.A): 8794, **{closed.party(s): v for s, v in OWED.items()}}
    assert row_counts(closed.db) == before and len(stripe_server.state.requests) == calls
    assert closed.db.read(store.find_run, "2026-10").status == "closed"


def test_a_second_concurrent_pay_is_told_to_wait(closed: World, gateway: StripeGateway,
                                                 stripe_server: StripeConnectServer) -> None:
    from sqlalchemy import text

    from settlement.payouts.pay import _LOCK_CLASS
    run_id = closed.db.read(store.find_run, "2026-10").id
    with closed.db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": _LOCK_CLASS, "b": run_id})
        with pytest.raises(SettlementError) as err:
            pay(closed.db, gateway, "2026-10")
        assert err.value.code == "PAY_IN_PROGRESS"
        other.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": _LOCK_CLASS, "b": run_id})
    assert stripe_server.objects("transfer") == []
    assert pay(closed.db, gateway, "2026-10").run.status == "paying"


def test_crash_in_the_middle_of_an_invoice_then_rerun_makes_one_complete_invoice(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    with pytest.raises(Crash):
        pay(closed.db, DiesAfterSecondItem(gateway), "2026-10")
    report = pay(closed.db, gateway, "2026-10")
    (invoice,) = stripe_server.objects("invoice")
    assert invoice["status"] == "open" and invoice["amount_due"] == 8794
    assert len(stripe_server.objects("invoiceitem")) == len(invoice["lines"]["data"])
    payment = {p.party_id: p for p in report.payments}[closed.party(S.A)]
    assert (payment.status, payment.stripe_object_id) == ("submitted", invoice["id"])


def test_resume_after_stripes_key_window_finds_the_transfer_instead_of_paying_again(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    """Stripe forgets idempotency keys after 24 hours; a resumed payment looks for its
    transfer (by transfer_group and payment_id metadata) before creating one."""
    with pytest.raises(Crash):
        pay(closed.db, CrashingGateway(gateway, "after"), "2026-10")
    stripe_server.state.idempotency.clear()  # a day later: Stripe no longer knows the key
    pay(closed.db, gateway, "2026-10")
    assert transfers_by_party(stripe_server) == expected_transfers(closed)


def succeeded_intents(gateway: StripeGateway, customer_id: str) -> list[int]:
    page = gateway.client.v1.payment_intents.list(params={"customer": customer_id, "limit": 100})
    return [pi.amount for pi in page.auto_paging_iter() if pi.status == "succeeded"]


def test_a_crash_after_a_charge_never_collects_again_even_if_the_card_is_gone(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    """The charge went through but the hub died before recording it; a day later (keys
    forgotten) the card is removed. The re-run finds the PaymentIntent by its payment_id
    metadata instead of failing the payment and invoicing the party a second time."""
    cafe = closed.party(S.A)
    cus = customer(gateway, "4242424242424242")
    set_stripe_ids(closed.db, cafe, stripe_customer_id=cus)

    class DiesAfterCharging(StripeGateway):
        def __init__(self, inner: StripeGateway) -> None:
            self.__dict__.update(inner.__dict__)

        def create_payment_intent(self, key: str, **params: object) -> object:
            super().create_payment_intent(key, **params)
            raise Crash("died after Stripe charged, before recording it")

    with pytest.raises(Crash):
        pay(closed.db, DiesAfterCharging(gateway), "2026-10")
    stripe_server.state.idempotency.clear()
    gateway.client.v1.customers.update(cus, params={
        "invoice_settings": {"default_payment_method": ""}})
    for _ in range(2):
        report = pay(closed.db, gateway, "2026-10")
    payment = {p.party_id: p for p in report.payments}[cafe]
    assert (payment.method, payment.status, payment.attempt) == ("payment_intent", "succeeded", 1)
    assert succeeded_intents(gateway, cus) == [8794]
    assert stripe_server.objects("invoice") == []
    assert report.run.status == "paid"


def test_resume_after_stripes_key_window_completes_the_same_invoice(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    with pytest.raises(Crash):
        pay(closed.db, DiesAfterSecondItem(gateway), "2026-10")
    stripe_server.state.idempotency.clear()
    pay(closed.db, gateway, "2026-10")
    (invoice,) = stripe_server.objects("invoice")
    assert invoice["status"] == "open" and invoice["amount_due"] == 8794
    sections = [line["metadata"]["section"] for line in invoice["lines"]["data"]]
    assert len(sections) == len(set(sections)) >= 4


def test_a_refused_send_voids_that_invoice_before_the_next_attempt_sends_another(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    class SendRefused(StripeGateway):
        def __init__(self, inner: StripeGateway) -> None:
            self.__dict__.update(inner.__dict__)

        def send_invoice(self, key: str, invoice_id: str) -> object:
            raise PermanentStripeError("invalid_request_error", "Customer has no email")

    first = pay(closed.db, SendRefused(gateway), "2026-10")
    assert {p.party_id: p.status for p in first.payments}[closed.party(S.A)] == "failed"
    again = pay(closed.db, gateway, "2026-10")
    invoices = stripe_server.objects("invoice")
    assert sorted(i["status"] for i in invoices) == ["open", "void"]
    payment = {p.party_id: p for p in again.payments}[closed.party(S.A)]
    (open_invoice,) = [i for i in invoices if i["status"] == "open"]
    assert (payment.status, payment.attempt, payment.stripe_object_id) == (
        "submitted", 2, open_invoice["id"])


def test_an_invoice_paid_while_pay_sends_it_stays_paid(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    """The `invoice.paid` webhook lands between Stripe's answer to send and pay's record."""
    class PaidAtOnce(StripeGateway):
        def __init__(self, inner: StripeGateway) -> None:
            self.__dict__.update(inner.__dict__)

        def send_invoice(self, key: str, invoice_id: str) -> object:
            sent = super().send_invoice(key, invoice_id)
            paid = self.client.v1.invoices.pay(invoice_id)
            event = {"id": "evt_paid_fast", "type": "invoice.paid",
                     "data": {"object": paid.to_dict()}}
            assert closed.db.write(apply_event, event, LATER) == "applied"
            return sent

    report = pay(closed.db, PaidAtOnce(gateway), "2026-10")
    payment = {p.party_id: p for p in report.payments}[closed.party(S.A)]
    assert (payment.status, payment.stripe_status) == ("succeeded", "paid")
    assert report.run.status == "paid"


def test_a_paid_run_with_a_payment_no_longer_succeeded_is_paid_on(
        closed: World, gateway: StripeGateway, stripe_server: StripeConnectServer) -> None:
    """Versions before the run followed its payments left `paid` runs with a failed payment,
    on which `pay` did nothing. Now the run goes back to `paying` and that payment is retried
    (the transfer Stripe already made is found, not sent twice)."""
    set_stripe_ids(closed.db, closed.party(S.A),
                   stripe_customer_id=customer(gateway, "4242424242424242"))
    assert pay(closed.db, gateway, "2026-10").run.status == "paid"
    charity = closed.party(S.K)
    closed.db.write(lambda c: c.execute(update(settlement_payments).where(
        settlement_payments.c.party_id == charity).values(status="failed")))
    report = pay(closed.db, gateway, "2026-10")
    assert {p.party_id: p.status for p in report.payments}[charity] == "succeeded"
    assert report.run.status == "paid"
    assert transfers_by_party(stripe_server) == expected_transfers(closed)
