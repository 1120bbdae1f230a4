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

    # -- the calls payouts makes ----------------------------------------------------------
    def default_payment_method(self, customer_id: str) -> str | None:
        customer = self.call(self.client.v1.customers.retrieve, customer_id)
        settings = customer["invoice_settings"] if "invoice_settings" in customer else None
        pm = settings["default_payment_method"] if settings else None
        return pm if isinstance(pm, str) else (pm["id"] if pm else None)

    def create_transfer(self, key: str, **params: Any) -> Any:
        return self.call(self.client.v1.transfers.create, key=key, params=params)

    def find_transfer(self, transfer_group: str, payment_id: int) -> Any | None:
        """A transfer an earlier attempt may have made (for resumes after Stripe's 24-hour
        idempotency window, when a replayed key would no longer protect us)."""
        page = self.call(self.client.v1.transfers.list,
                         params={"transfer_group": transfer_group, "limit": 100})
        for transfer in page.auto_paging_iter():
            metadata = transfer["metadata"].to_dict() if transfer["metadata"] else {}
            if metadata.get("payment_id") == str(payment_id):
                return transfer
        return None

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

    def retrieve_invoice(self, invoice_id: str) -> Any:
        return self.call(self.client.v1.invoices.retrieve, invoice_id)
