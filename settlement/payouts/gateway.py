"""The only place that talks to Stripe, through the official `stripe` library.

Why a thin wrapper: the payment flow needs two things the library leaves to us: every call
carries *our* idempotency key (derived from run, party and attempt, so a re-run after a crash
replays instead of paying twice), and errors are sorted into transient (network, 5xx, rate
limit, concurrent-use 409: retried with the same key) and permanent (everything Stripe
answered with a 4xx: the payment fails with Stripe's own message).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import stripe

T = TypeVar("T")


class PermanentStripeError(Exception):
    """Stripe refused the request; retrying with the same key would replay the refusal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class TransientStripeError(Exception):
    """Stripe could not be reached or failed; the outcome is unknown, retry with the same key."""


@dataclass(frozen=True)
class StripeConfig:
    api_key: str
    api_base: str | None = None
    webhook_secret: str | None = None
    attempts: int = 4
    backoff_seconds: float = 0.5

    @classmethod
    def from_extra(cls, extra: Mapping[str, str]) -> StripeConfig:
        """Read POINTSNET_STRIPE_API_KEY / _API_BASE / _WEBHOOK_SECRET (Settings.extra)."""
        return cls(api_key=extra.get("STRIPE_API_KEY", ""),
                   api_base=extra.get("STRIPE_API_BASE") or None,
                   webhook_secret=extra.get("STRIPE_WEBHOOK_SECRET") or None)


def _is_transient(exc: stripe.StripeError) -> bool:
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)):
        return True
    status = exc.http_status or 0
    return status >= 500 or status == 409 or (isinstance(exc, stripe.APIError) and not status)


class StripeGateway:
    def __init__(self, config: StripeConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        if not config.api_key:
            raise ValueError("POINTSNET_STRIPE_API_KEY is not set")
        addresses = {"api": config.api_base} if config.api_base else None
        # Library-level retries are off: we retry ourselves so the policy is visible and tested.
        self.client = stripe.StripeClient(config.api_key, base_addresses=addresses,
                                          max_network_retries=0)
        self.config = config
        self._sleep = sleep

    def call(self, fn: Callable[..., T], *args: Any, key: str | None = None,
             params: dict[str, Any] | None = None) -> T:
        """Run one Stripe call with our key, retrying transient failures with the same key."""
        options = {"idempotency_key": key} if key else {}
        for attempt in range(1, self.config.attempts + 1):
            try:
                if params is None:
                    return fn(*args, options=options)
                return fn(*args, params=params, options=options)
            except stripe.StripeError as exc:
                if not _is_transient(exc):
                    err = exc.error
                    code = (err.code if err is not None and err.code else None) or \
                        type(exc).__name__
                    raise PermanentStripeError(code, exc.user_message or str(exc)) from exc
                if attempt == self.config.attempts:
                    raise TransientStripeError(exc.user_message or str(exc)) from exc
                self._sleep(self.config.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    # -- the calls party linking (links.py) and readiness checks (readiness.py) make --------
    def create_account(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.accounts.create, key=key, params=params)

    def create_account_link(self, **params: Any) -> Any:
        # No key: a link is single-use and short-lived, each request must get a fresh one.
        return self.call(self.client.v1.account_links.create, params=params)

    def create_customer(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.customers.create, key=key, params=params)

    def retrieve_account(self, account_id: str) -> Any:
        return self.call(self.client.v1.accounts.retrieve, account_id)

    def retrieve_customer(self, customer_id: str) -> Any:
        return self.call(self.client.v1.customers.retrieve, customer_id)

    # -- the calls payouts makes ----------------------------------------------------------
    def default_payment_method(self, customer_id: str) -> str | None:
        customer = self.call(self.client.v1.customers.retrieve, customer_id)
        settings = customer["invoice_settings"] if "invoice_settings" in customer else None
        pm = settings["default_payment_method"] if settings else None
        return pm if isinstance(pm, str) else (pm["id"] if pm else None)

    def create_transfer(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.transfers.create, key=key, params=params)

    def find_transfer(self, transfer_group: str, payment_id: int) -> Any | None:
        """A transfer any attempt of this payment made (keys are forgotten after 24 hours and
        differ between attempts, so only Stripe's own list can tell)."""
        page = self.call(self.client.v1.transfers.list,
                         params={"transfer_group": transfer_group, "limit": 100})
        return next(iter(_ours(page, payment_id)), None)

    def find_collections(self, customer_ids: set[str], payment_id: int) -> list[Any]:
        """Every PaymentIntent and Invoice any attempt of this payment created, by the
        `payment_id` metadata we put on them. Stripe lists both per customer (documented
        `customer` filter); lists are strongly consistent, unlike the Search API, whose results
        may lag writes by a minute and so cannot prove that nothing was charged."""
        found: list[Any] = []
        for customer in sorted(customer_ids):
            params = {"customer": customer, "limit": 100}
            for resource in (self.client.v1.payment_intents, self.client.v1.invoices):
                found += _ours(self.call(resource.list, params=params), payment_id)
        return found

    def create_payment_intent(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.payment_intents.create, key=key, params=params)

    def create_invoice(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.invoices.create, key=key, params=params)

    def create_invoice_item(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.invoice_items.create, key=key, params=params)

    def finalize_invoice(self, key: str, invoice_id: str) -> Any:
        return self.call(self.client.v1.invoices.finalize_invoice, invoice_id, key=key, params={})

    def send_invoice(self, key: str, invoice_id: str) -> Any:
        return self.call(self.client.v1.invoices.send_invoice, invoice_id, key=key, params={})

    def invoiced_sections(self, invoice_id: str) -> set[str]:
        """The `section` metadata of an invoice's lines, all pages (an Invoice object embeds
        only its first 10 lines; a statement can have more sections). A line made before
        items carried `section` (f127e34) is named by its description instead."""
        page = self.call(self.client.v1.invoices.line_items.list, invoice_id,
                         params={"limit": 100})
        named: set[str] = set()
        for line in page.auto_paging_iter():
            tags = line["metadata"].to_dict() if line["metadata"] else {}
            named.add(tags["section"] if "section" in tags else line["description"] or "")
        return named

    def void_invoice(self, key: str, invoice_id: str) -> Any:
        return self.call(self.client.v1.invoices.void_invoice, invoice_id, key=key, params={})

    def retrieve(self, object_id: str) -> Any:
        """A PaymentIntent or Invoice by id (what `pay` stored for a collection)."""
        resource = self.client.v1.payment_intents if object_id.startswith("pi_") \
            else self.client.v1.invoices
        return self.call(resource.retrieve, object_id)


def _ours(page: Any, payment_id: int) -> list[Any]:
    """The objects of a list that carry our `payment_id` metadata, across all its pages."""
    return [obj for obj in page.auto_paging_iter()
            if obj["metadata"] and obj["metadata"].to_dict().get("payment_id") == str(payment_id)]
