"""`pay`: settle a closed run's net positions through Stripe, safely re-runnable.

Parties owed money (net > 0) get a Transfer to their connected account, all of one run sharing
a transfer_group. Parties that owe (net < 0) are charged by a PaymentIntent when their Stripe
customer has a default payment method, otherwise sent an Invoice whose items are the sections
of their statement. The hub (network party) is the central counterparty and pays no one.
Missing Stripe ids are refused up front, before any payment is recorded or sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select, text

from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import parties
from settlement import store
from settlement.errors import SettlementError
from settlement.payouts import records
from settlement.payouts.gateway import PermanentStripeError, StripeGateway, TransientStripeError
from settlement.period import Period
from settlement.sections import sections, statement_lines

_LOCK_CLASS = 4_004  # advisory lock namespace of settlement payouts


@dataclass(frozen=True)
class Planned:
    party_id: int
    code: str
    name: str
    kind: str
    direction: str  # pay_out | collect
    amount_minor: int
    stripe_account_id: str | None
    stripe_customer_id: str | None


@dataclass
class PayReport:
    run: store.StoredRun
    planned: list[Planned]
    payments: list[records.Payment] = field(default_factory=list)
    dry_run: bool = False
    notes: dict[int, str] = field(default_factory=dict)


def plan(conn: Connection, run: store.StoredRun) -> list[Planned]:
    """Who pays and who is paid; SettlementError naming every party missing a Stripe id."""
    rows = {r.id: r for r in conn.execute(select(parties))}
    out, missing = [], []
    for pos in store.load_positions(conn, run.id):
        party = rows[pos.party_id]
        if pos.net_minor == 0 or party.kind == "network":
            continue
        direction = "pay_out" if pos.net_minor > 0 else "collect"
        if direction == "pay_out" and not party.stripe_account_id:
            missing.append(f"{party.code} (id {party.id}) is owed {pos.net_minor} but has no "
                           "Stripe connected account (stripe_account_id)")
        if direction == "collect" and not party.stripe_customer_id:
            missing.append(f"{party.code} (id {party.id}) owes {-pos.net_minor} but has no "
                           "Stripe customer (stripe_customer_id)")
        out.append(Planned(party.id, party.code, party.name, party.kind, direction,
                           abs(pos.net_minor), party.stripe_account_id, party.stripe_customer_id))
    if missing:
        raise SettlementError("MISSING_STRIPE_ACCOUNT",
                              "cannot pay: " + "; ".join(missing), field="parties")
    return out


def _hub(conn: Connection) -> int:
    return conn.execute(select(parties.c.id).where(parties.c.kind == "network")).scalar_one()


def pay(db: Database, gateway: StripeGateway | None, period_text: str, *, dry_run: bool = False,
        now: Callable[[], datetime] = utcnow,
        progress: Callable[[Planned], None] = lambda _: None) -> PayReport:
    period = Period.parse(period_text)
    run = db.read(store.find_run, str(period))
    if run is None or run.is_open:
        raise SettlementError(
            "PERIOD_NOT_CLOSED",
            f"{period} is {'not previewed' if run is None else 'still open (draft)'}; "
            f"close it first: pointsnet settle close --period {period}", field="period")
    planned = db.read(plan, run)
    if dry_run or run.status == "paid":
        return PayReport(run, planned, db.read(records.for_run, run.id), dry_run=dry_run)
    if gateway is None:
        raise SettlementError("NO_STRIPE", "Stripe is not configured (POINTSNET_STRIPE_API_KEY)")
    with _exclusive(db, run.id):
        return _pay_run(db, gateway, run, planned, period, now, progress)


@contextmanager
def _exclusive(db: Database, run_id: int) -> Iterator[None]:
    """One `pay` per run at a time (PostgreSQL advisory lock held for the whole run); a second
    one is told so instead of racing the first on the same payments."""
    if db.dialect != "postgresql":
        yield  # SQLite serializes writers anyway
        return
    with db.engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"),
                           {"a": _LOCK_CLASS, "b": run_id}).scalar_one()
        conn.commit()
        if not got:
            raise SettlementError("PAY_IN_PROGRESS", "another `pay` is running for this period; "
                                  "let it finish, then re-run to pick up anything left")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": _LOCK_CLASS, "b": run_id})
            conn.commit()


def _pay_run(db: Database, gateway: StripeGateway, run: store.StoredRun, planned: list[Planned],
             period: Period, now: Callable[[], datetime],
             progress: Callable[[Planned], None]) -> PayReport:
    if run.status == "closed":
        db.write(store.set_status, run.id, "paying", now())
    group = f"pointsnet-{period}-run{run.id}"
    notes = {}
    for item in planned:
        progress(item)
        note = _pay_one(db, gateway, run, item, group, now)
        if note:
            notes[item.party_id] = note
    hub = db.read(_hub)

    def finish(conn: Connection) -> None:
        if records.all_succeeded(conn, run.id, hub):
            store.set_status(conn, run.id, "paid", now())

    db.write(finish)
    return PayReport(db.read(store.get_run, run.id), planned, db.read(records.for_run, run.id),
                     notes=notes)


def _pay_one(db: Database, gateway: StripeGateway, run: store.StoredRun, item: Planned,
             group: str, now: Callable[[], datetime]) -> str | None:
    """Pay one party; returns a note when nothing could be recorded for it."""
    existing = db.read(records.find, run.id, item.party_id)
    if existing and existing.status == "succeeded":
        return None
    try:
        if existing and existing.status == "submitted":
            _refresh(db, gateway, existing, now)
            return None
        method = existing.method if existing and existing.status == "pending" else (
            "transfer" if item.direction == "pay_out" else _collect_method(gateway, item))
        payment = db.write(records.begin, run_id=run.id, party_id=item.party_id, method=method,
                           amount_minor=item.amount_minor, currency=run.currency, now=now())
        metadata = {"run_id": str(run.id), "period": run.period, "party_id": str(item.party_id),
                    "payment_id": str(payment.id)}
        description = f"Points network settlement {run.period} ({item.code})"
        if method == "transfer":
            resumed = existing is not None and existing.status == "pending"
            _transfer(db, gateway, payment, item, group, description, metadata, resumed, now)
        elif method == "payment_intent":
            _charge(db, gateway, payment, item, description, metadata, now)
        else:
            _invoice(db, gateway, run, payment, item, description, metadata, now)
    except PermanentStripeError as exc:
        payment = db.read(records.find, run.id, item.party_id)
        if payment is None:  # refused while choosing the method: record it, never skip silently
            payment = db.write(records.begin, run_id=run.id, party_id=item.party_id,
                               method="invoice", amount_minor=item.amount_minor,
                               currency=run.currency, now=now())
        db.write(records.record, payment.id, now(), status="failed",
                 error_code=exc.code, error_message=exc.message)
    except TransientStripeError as exc:
        payment = db.read(records.find, run.id, item.party_id)
        if payment is None:
            return f"not started, Stripe unreachable: {exc}"
        # Stays pending: the next `pay` repeats the call with the same key.
        db.write(records.record, payment.id, now(), error_code="transient",
                 error_message=f"Stripe unreachable, will retry with the same key: {exc}")
    return None


def _transfer(db: Database, gateway: StripeGateway, payment: records.Payment, item: Planned,
              group: str, description: str, metadata: dict[str, str], resumed: bool,
              now: Callable[[], datetime]) -> None:
    """On a resume, look for the transfer first: the key alone protects only for 24 hours."""
    transfer = gateway.find_transfer(group, payment.id) if resumed else None
    if transfer is None:
        transfer = gateway.create_transfer(
            payment.idempotency_key, amount=item.amount_minor,
            currency=payment.currency.lower(), destination=item.stripe_account_id,
            transfer_group=group, description=description, metadata=metadata)
    db.write(records.record, payment.id, now(), status="succeeded",
             stripe_object_id=transfer.id, stripe_status="created")


def _collect_method(gateway: StripeGateway, item: Planned) -> str:
    assert item.stripe_customer_id
    has_pm = gateway.default_payment_method(item.stripe_customer_id) is not None
    return "payment_intent" if has_pm else "invoice"


def _charge(db: Database, gateway: StripeGateway, payment: records.Payment, item: Planned,
            description: str, metadata: dict[str, str], now: Callable[[], datetime]) -> None:
    assert item.stripe_customer_id
    pm = gateway.default_payment_method(item.stripe_customer_id)
    if pm is None:
        raise PermanentStripeError("no_payment_method", "the customer's default payment method "
                                   "was removed; pay will send an invoice next time")
    intent = gateway.create_payment_intent(
        payment.idempotency_key, amount=item.amount_minor, currency=payment.currency.lower(),
        customer=item.stripe_customer_id, payment_method=pm, confirm=True, off_session=True,
        metadata={**metadata, "description": description})
    status = {"succeeded": "succeeded", "processing": "submitted"}.get(intent.status)
    if status is None:
        raise PermanentStripeError(intent.status, f"payment intent is {intent.status}")
    db.write(records.record, payment.id, now(), status=status, stripe_object_id=intent.id,
             stripe_status=intent.status)


def _invoice(db: Database, gateway: StripeGateway, run: store.StoredRun,
             payment: records.Payment, item: Planned, description: str,
             metadata: dict[str, str], now: Callable[[], datetime]) -> None:
    key = payment.idempotency_key
    invoice = gateway.create_invoice(
        f"{key}-invoice", customer=item.stripe_customer_id, collection_method="send_invoice",
        days_until_due=14, auto_advance=False, currency=payment.currency.lower(),
        description=description, metadata=metadata)
    db.write(records.record, payment.id, now(), stripe_object_id=invoice.id,
             stripe_status=invoice.status)
    if invoice.status == "draft":
        lines = db.read(store.load_lines, run.id)
        for i, section in enumerate(sections(statement_lines(lines, item.party_id))):
            if section.amount_minor == 0:
                continue
            gateway.create_invoice_item(
                f"{key}-item{i}", customer=item.stripe_customer_id, invoice=invoice.id,
                amount=-section.amount_minor, currency=payment.currency.lower(),
                description=section.title if section.kind == "fee"
                else f"{section.title} ({section.points:,} points)", metadata=metadata)
        invoice = gateway.finalize_invoice(f"{key}-finalize", invoice.id)
        gateway.send_invoice(f"{key}-send", invoice.id)
    status = "succeeded" if invoice.status == "paid" else "submitted"
    db.write(records.record, payment.id, now(), status=status, stripe_status=invoice.status)


def _refresh(db: Database, gateway: StripeGateway, payment: records.Payment,
             now: Callable[[], datetime]) -> None:
    """A submitted invoice may have been paid while a webhook was missed: ask Stripe."""
    if payment.method != "invoice" or not payment.stripe_object_id:
        return
    invoice = gateway.retrieve_invoice(payment.stripe_object_id)
    if invoice.status == "paid":
        db.write(records.record, payment.id, now(), status="succeeded", stripe_status="paid")
    elif invoice.status in ("void", "uncollectible"):
        db.write(records.record, payment.id, now(), status="failed", stripe_status=invoice.status,
                 error_code=f"invoice_{invoice.status}",
                 error_message=f"invoice {invoice.id} is {invoice.status}")
