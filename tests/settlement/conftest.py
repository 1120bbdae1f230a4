"""Stripe test doubles for settlement: localstripe (PyPI) behind our own Connect server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from settlement.payouts.gateway import StripeConfig, StripeGateway
from settlement.payouts.local_stripe import StripeConnectServer
from tests.support.stripe_localstripe import localstripe


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    with localstripe() as url:
        yield url


@pytest.fixture
def stripe_server(localstripe_url: str) -> Iterator[StripeConnectServer]:
    """Our server (accounts, transfers, invoices, idempotency) forwarding the rest to
    localstripe (customers, payment methods, payment intents)."""
    with StripeConnectServer(upstream=localstripe_url) as server:
        yield server


@pytest.fixture
def gateway(stripe_server: StripeConnectServer) -> StripeGateway:
    return StripeGateway(StripeConfig("sk_test_settlement", api_base=stripe_server.url,
                                      backoff_seconds=0), sleep=lambda _: None)
