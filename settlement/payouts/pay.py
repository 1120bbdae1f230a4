"""`pay`: settle a closed run's net positions through Stripe, safely re-runnable.

Parties owed money (net > 0) get a Transfer to their connected account, all of one run sharing
a transfer_group. Parties that owe (net < 0) are charged by a PaymentIntent when their Stripe
customer has a default payment method, otherwise sent an Invoice whose items are the sections
of their statement. The hub (network party) is the central counterparty and pays no one.
Missing Stripe ids are refused up front, every blocked party named, before any payment is
recorded or sent; a dry run returns the whole plan with each party's blockers instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import parties
from network.money import Money
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
    currency: str
    stripe_account_id: str | None
    stripe_customer_id: str | None
    blockers: tuple[str, ...] = ()  # why `pay` cannot pay this party yet, each with its fix

    @property
    def amount(self) -> str:
        return Money(self.amount_minor, self.currency).format()


@dataclass
class PayReport:
    run: store.StoredRun
    planned: list[Planned]
    payments: list[records.Payment] = field(default_factory=list)
    dry_run: bool = False
    notes: dict[int, str] = field(default_factory=dict)

    @property
    def blocked(self) -> list[Planned]:
        return [item for item in self.planned if item.blockers]


def _blockers(party: Any, direction: str, amount: str) -> tuple[str, ...]:
    """What stops paying this party, as a finance person would fix it."""
    if direction == "pay_out" and not party.stripe_account_id:
        return (f"is owed {amount} but has no Stripe connected account: pointsnet settle "
                f"onboard --party {party.code} (or settle link --party {party.code} "
                "--account acct_…)",)
    if direction == "collect" and not party.stripe_customer_id:
        return (f"owes {amount} but has no Stripe customer: pointsnet settle create-customer "
                f"--party {party.code} (or settle link --party {party.code} --customer cus_…)",)
    return ()


def plan(conn: Connection, run: store.StoredRun) -> list[Planned]:
    """Who pays and who is paid, every party with what blocks paying it (nothing stops here:
    a dry run shows the whole plan; `pay` refuses while any party is blocked)."""
    rows = {r.id: r for r in conn.execute(select(parties))}
    out = []
    for pos in store.load_positions(conn, run.id):
        party = rows[pos.party_id]
        if pos.net_minor == 0 or party.kind == "network":
            continue
        direction = "pay_out" if pos.net_minor > 0 else "collect"
        amount = Money(abs(pos.net_minor), run.currency).format()
        out.append(Planned(party.id, party.code, party.name, party.kind, direction,
                           abs(pos.net_minor), run.currency, party.stripe_account_id,
                           party.stripe_customer_id, _blockers(party, direction, amount)))
    return out


def refuse_blocked(planned: list[Planned]) -> None:
    """MISSING_STRIPE_ACCOUNT naming every blocked party (not just the first), before any
    payment is recorded or sent."""
    blocked = [item for item in planned if item.blockers]
    if blocked:
        raise SettlementError(
            "MISSING_STRIPE_ACCOUNT",
            f"cannot pay: {len(blocked)} of {len(planned)} parties are blocked: " + "; ".join(
                f"{item.code} {blocker}" for item in blocked for blocker in item.blockers),
            field="parties")


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
    if not dry_run:
        refuse_blocked(planned)
    # A `paid` run whose payments no longer all succeeded (see records.follow_payments) is paid on.
    if dry_run or (run.status == "paid" and db.read(records.all_succeeded, run.id)):
        return PayReport(run, planned, db.read(records.for_run, run.id), dry_run=dry_run)
    if gateway is None:
        raise SettlementError("NO_STRIPE", "Stripe is not configured (POINTSNET_STRIPE_API_KEY)")
    with _exclusive(db, run.id):
        return _pay_run(db, gateway, run, planned, period, now, progress)


@contextmanager
def _exclusive(db: Database, run_id: int) -> Iterator[None]:
    """One `pay` per run at a time; a second one is told so instead of racing the first on the
    same payments.

    The lock is PostgreSQL's transaction-scoped advisory lock, taken in a transaction of its own
    connection that stays open (and writes nothing) for the whole run, and goes with it however
    the run ends. Not a session lock: through PgBouncer pooling transactions
    (POINTSNET_DATABASE_PGBOUNCER), the session after a COMMIT is whichever server connection
    comes next, so a session lock would stay behind on one that other clients then use, and
    the unlock would be sent to another. An open transaction keeps its server connection."""
    if db.dialect != "postgresql":
        yield  # SQLite serializes writers anyway
        return
    with db.engine.connect() as conn, conn.begin():
        got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:a, :b)"),
                           {"a": _LOCK_CLASS, "b": run_id}).scalar_one()
        if not got:
            raise SettlementError("PAY_IN_PROGRESS", "another `pay` is running for this period; "
                                  "let it finish, then re-run to pick up anything left")
        yield


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
    db.write(records.follow_payments, run.id, now())
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
        # The attempt tells a webhook whether an object is this attempt's or a superseded one's.
        metadata = {"run_id": str(run.id), "period": run.period, "party_id": str(item.party_id),
                    "payment_id": str(payment.id), "attempt": str(payment.attempt)}
        description = f"Points network settlement {run.period} ({item.code})"
        if method == "transfer":
            _transfer(db, gateway, payment, item, group, description, metadata,
                      existing is not None, now)
        else:
            _collect(db, gateway, run, payment, item, existing, description, metadata, now)
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
              group: str, description: str, metadata: dict[str, str], earlier: bool,
              now: Callable[[], datetime]) -> None:
    """After any earlier attempt, look for its transfer first: a key protects only its own
    attempt, and only for 24 hours."""
    transfer = gateway.find_transfer(group, payment.id) if earlier else None
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


def _status(obj: Any) -> str:
    """Our payment status for a PaymentIntent or Invoice as Stripe reports it now."""
    if obj.status in ("succeeded", "paid"):
        return "succeeded"
    if obj.status in ("requires_payment_method", "canceled", "void", "uncollectible"):
        return "failed"
    return "submitted"  # processing, requires_action, open: it may still be paid


def _attempt(obj: Any) -> int:
    # Objects made before attempts were tagged came from the first attempt or a replay of it.
    return int(obj.metadata.to_dict().get("attempt", "1"))


def _collect(db: Database, gateway: StripeGateway, run: store.StoredRun,
             payment: records.Payment, item: Planned, earlier: records.Payment | None,
             description: str, metadata: dict[str, str], now: Callable[[], datetime]) -> None:
    """Collect from a party that owes, never twice. Idempotency keys differ between attempts
    and Stripe forgets them after 24 hours, so first ask Stripe for everything any attempt of
    this payment created (under the party's customer and the previous object's, in case the
    customer changed): one that was paid, or a PaymentIntent still in flight, *is* this
    payment; other attempts' open invoices are voided so only one invoice can ever be paid;
    this attempt's own unfinished invoice (a crash) is completed instead of a new one."""
    assert item.stripe_customer_id
    customers = {item.stripe_customer_id}
    if earlier and earlier.stripe_object_id:
        customers.add(gateway.retrieve(earlier.stripe_object_id).customer)
    found = gateway.find_collections(customers, payment.id) if earlier else []
    paid = [o for o in found if _status(o) == "succeeded"]
    in_flight = [o for o in found if o.object == "payment_intent" and _status(o) == "submitted"]
    if paid or in_flight:
        obj = (paid or in_flight)[0]
        db.write(records.record, payment.id, now(), status=_status(obj),
                 method="invoice" if obj.object == "invoice" else "payment_intent",
                 stripe_object_id=obj.id, stripe_status=obj.status,
                 error_code=None, error_message=None)
        if len(paid) > 1:
            db.write(records.flag, payment.id, now(), "paid_twice",
                     "paid twice: " + ", ".join(o.id for o in paid) + "; refund one")
        return
    unfinished = None
    for obj in found:
        if obj.object != "invoice":
            continue
        if obj.status in ("draft", "open") and payment.method == "invoice" \
                and _attempt(obj) == payment.attempt:
            unfinished = obj
        elif obj.status in ("open", "uncollectible"):  # both can still be paid; void cannot
            gateway.void_invoice(f"{payment.idempotency_key}-void-{obj.id}", obj.id)
        # An earlier attempt's draft was never finalized, so it cannot be paid: left alone.
    if payment.method == "payment_intent":
        _charge(db, gateway, payment, item, description, metadata, now)
    else:
        _invoice(db, gateway, run, payment, item, description, metadata, unfinished, now)


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
    status = _status(intent)
    error = {"error_code": intent.status, "error_message": f"payment intent is {intent.status}"}
    db.write(records.record, payment.id, now(), status=status, stripe_object_id=intent.id,
             stripe_status=intent.status, **(error if status == "failed" else {}))


def _invoice(db: Database, gateway: StripeGateway, run: store.StoredRun,
             payment: records.Payment, item: Planned, description: str,
             metadata: dict[str, str], invoice: Any | None, now: Callable[[], datetime]) -> None:
    """Send an invoice with one item per statement section; `invoice` is this attempt's own
    unfinished one found at Stripe, completed where it stopped (items carry their section)."""
    key = payment.idempotency_key
    if invoice is None:
        invoice = gateway.create_invoice(
            f"{key}-invoice", customer=item.stripe_customer_id, collection_method="send_invoice",
            days_until_due=14, auto_advance=False, currency=payment.currency.lower(),
            description=description, metadata=metadata)
    db.write(records.record, payment.id, now(), stripe_object_id=invoice.id,
             stripe_status=invoice.status)
    if invoice.status == "draft":
        done = gateway.invoiced_sections(invoice.id)
        lines = db.read(store.load_lines, run.id)
        for i, section in enumerate(sections(statement_lines(lines, item.party_id))):
            label = section.title if section.kind == "fee" \
                else f"{section.title} ({section.points:,} points)"
            # An item made before items carried `section` is known by its (unique) description:
            # re-sent under its key with the new metadata it would be an idempotency_error,
            # and once Stripe forgot the key, a second charge for the section.
            if section.amount_minor == 0 or str(i) in done or label in done:
                continue
            gateway.create_invoice_item(
                f"{key}-item{i}", customer=item.stripe_customer_id, invoice=invoice.id,
                amount=-section.amount_minor, currency=payment.currency.lower(),
                description=label, metadata={**metadata, "section": str(i)})
        invoice = gateway.finalize_invoice(f"{key}-finalize", invoice.id)
    if invoice.status == "open":
        gateway.send_invoice(f"{key}-send", invoice.id)
    # Never downgrades: an `invoice.paid` webhook may already have arrived (records.record).
    db.write(records.record, payment.id, now(), status=_status(invoice),
             stripe_status=invoice.status)


def _refresh(db: Database, gateway: StripeGateway, payment: records.Payment,
             now: Callable[[], datetime]) -> None:
    """A submitted collection may have ended while a webhook was missed: ask Stripe."""
    if payment.method == "transfer" or not payment.stripe_object_id:
        return
    obj = gateway.retrieve(payment.stripe_object_id)
    status = _status(obj)
    if status == "succeeded":
        db.write(records.record, payment.id, now(), status=status, stripe_status=obj.status)
    elif status == "failed":
        db.write(records.record, payment.id, now(), status=status, stripe_status=obj.status,
                 error_code=f"{obj.object}_{obj.status}",
                 error_message=f"{obj.object.replace('_', ' ')} {obj.id} is {obj.status}")
