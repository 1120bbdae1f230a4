"""Checking a Points Network webhook on the partner's side (Standard Webhooks).

The hub signs `<webhook-id>.<webhook-timestamp>.<body>` and sends the signature in
`webhook-signature`, space-separated if there are several (for a while after a key rotation):
`v1,<base64 HMAC-SHA256>` with the endpoint's `whsec_…` secret, or `v1a,<base64 Ed25519>` that
the endpoint's `whpk_…` public key verifies.

    from pointsnet_partner import verify_webhook, WebhookVerificationError, SeenWebhooks

    seen = SeenWebhooks()
    event = verify_webhook(request.headers, raw_body, "whsec_…")   # raises when not genuine
    if seen.first_time(request.headers["webhook-id"]):
        handle(event)                                                # once per webhook-id
    return 204                                                       # always 2xx when genuine

Delivery is at least once: the same event can arrive twice (a retry after a lost answer, a
replay you asked for) with the same `webhook-id`, so deduplicate by it. This module is shipped
as is in the partner SDK (pointsnet_partner.webhooks): it needs nothing but `cryptography`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SECRET_PREFIX = "whsec_"  # HMAC secret (the partner and the hub both hold it)
PUBLIC_KEY_PREFIX = "whpk_"  # Ed25519 public key (the hub holds the private half)
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock, as the spec suggests


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh webhook from the hub: answer 4xx and ignore it."""


def signed_content(msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(f"{what} is not valid base64") from exc


def decode_secret(secret: str) -> bytes:
    """The bytes of a `whsec_…` secret (the prefix is optional, as in the spec's libraries)."""
    return _b64(secret.removeprefix(SECRET_PREFIX), "the secret")


def hmac_signature(secret: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """`v1,<base64>`: the HMAC-SHA256 signature as the header carries it."""
    digest = hmac.new(secret, signed_content(msg_id, timestamp, body), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"the {name} header is missing")


def verify_webhook(headers: Mapping[str, str], body: bytes | str,
                   key: str | bytes | Ed25519PublicKey, *,
                   tolerance: float = DEFAULT_TOLERANCE,
                   now: float | None = None) -> Any:
    """The event (parsed JSON) if the request is a genuine webhook sent within `tolerance`
    seconds of `now` (this machine's clock); WebhookVerificationError otherwise.

    `key`: the endpoint's `whsec_…` secret (HMAC), its `whpk_…` public key (Ed25519), raw secret
    bytes or an Ed25519PublicKey. `body` must be the raw bytes received, before any JSON parsing.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature").split()
    try:
        sent_at = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not whole seconds") from exc
    clock = time.time() if now is None else now
    if sent_at < clock - tolerance:
        raise WebhookVerificationError("the webhook's timestamp is too old")
    if sent_at > clock + tolerance:
        raise WebhookVerificationError("the webhook's timestamp is too new")
    content = signed_content(msg_id, stamp, raw)
    if isinstance(key, Ed25519PublicKey) or (isinstance(key, str)
                                             and key.startswith(PUBLIC_KEY_PREFIX)):
        public = key if isinstance(key, Ed25519PublicKey) else Ed25519PublicKey.from_public_bytes(
            _b64(key.removeprefix(PUBLIC_KEY_PREFIX), "the public key"))
        genuine = any(_ed25519_ok(public, sig.removeprefix("v1a,"), content)
                      for sig in signatures if sig.startswith("v1a,"))
    else:
        secret = key if isinstance(key, bytes) else decode_secret(key)
        expected = base64.b64encode(hmac.new(secret, content, hashlib.sha256).digest()).decode()
        genuine = any(hmac.compare_digest(sig.removeprefix("v1,"), expected)
                      for sig in signatures if sig.startswith("v1,"))
    if not genuine:
        raise WebhookVerificationError("no signature in webhook-signature matches")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc


def _ed25519_ok(public: Ed25519PublicKey, signature: str, content: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), content)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class SeenWebhooks:
    """The webhook-ids handled lately, to handle each event once (a bounded memory of the last
    `capacity` ids: enough for retries, which come within days; a receiver with several
    processes keeps the ids in its database instead, under a unique constraint)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, msg_id: str) -> bool:
        """True the first time an id is seen (handle the event), False for a repeat."""
        if msg_id in self._ids:
            self._ids.move_to_end(msg_id)
            return False
        self._ids[msg_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True
