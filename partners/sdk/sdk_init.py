"""pointsnet_partner: the Points Network partner SDK (becomes the package's __init__.py).

    from pointsnet_partner import PartnerClient, operation

    with PartnerClient("https://hub.example", key_id="pk_...",
                       private_key_pem=open("cafe-key.pem").read()) as client:
        client.execute(operation("AwardPoints"), {"input": {...}}, idempotency_key="receipt-981")

Inside the hub's repository the same modules are `partners.client` and `partners.signatures`.
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

__all__ = [
    "PartnerAPIError",
    "PartnerClient",
    "SignedRequest",
    "is_mutation",
    "operation",
    "operation_names",
    "sign_graphql",
]
