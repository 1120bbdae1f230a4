"""pointsnet_partner: the Points Network partner SDK (becomes the package's __init__.py).

    from pointsnet_partner import PartnerClient, operation

    with PartnerClient("https://hub.example", key_id="pk_...",
                       private_key_pem=open("cafe-key.pem").read()) as client:
        client.execute(operation("AwardPoints"), {"input": {...}}, idempotency_key="receipt-981")

Webhooks from the hub (Standard Webhooks) are checked with `verify_webhook` and handled once per
`webhook-id` with `SeenWebhooks` (see `pointsnet_partner.webhooks`).

Inside the hub's repository the same modules are `partners.client`, `partners.signatures` and
`partners.webhooks.verify`.
"""

from .client import (
    PartnerAPIError,
    PartnerClient,
    SignedRequest,
    is_mutation,
    operation,
    operation_names,
    sign_graphql,
)
from .webhooks import SeenWebhooks, WebhookVerificationError, verify_webhook

__all__ = [
    "PartnerAPIError",
    "PartnerClient",
    "SeenWebhooks",
    "SignedRequest",
    "is_mutation",
    "operation",
    "operation_names",
    "WebhookVerificationError",
    "sign_graphql",
    "verify_webhook",
]
