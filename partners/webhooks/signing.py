"""Keys, message ids and the `webhook-signature` header (Standard Webhooks), on the hub's side.

An endpoint signs with HMAC-SHA256 (`v1,`) and a 32-byte `whsec_…` secret it shares with the
partner, or with Ed25519 (`v1a,`): the hub keeps a private key per endpoint and the partner
verifies with its `whpk_…` public key, so nothing the partner stores can forge a webhook. After
a rotation the previous key signs too for a while (`ROTATION_OVERLAP`), so a receiver that has
not switched yet keeps accepting.
"""

from __future__ import annotations

import base64
import functools
import os
import secrets
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from partners.webhooks.verify import (
    PUBLIC_KEY_PREFIX,
    SECRET_PREFIX,
    hmac_signature,
    signed_content,
)

# Keys at rest are sealed (AES-GCM) under a key derived from POINTSNET_SECRET_KEY, so a copy of
# the database alone cannot sign a webhook; only the hub, which has both, can.
_SEAL_LABEL = b"webhook-signing-keys"

HMAC = "hmac"
ED25519 = "ed25519"
SIGNINGS = (HMAC, ED25519)
ROTATION_OVERLAP = timedelta(hours=24)


def new_key(signing: str) -> bytes:
    """32 random bytes: an HMAC secret or an Ed25519 private key (seed)."""
    if signing not in SIGNINGS:
        raise ValueError(f"unknown signing {signing!r}")
    return secrets.token_bytes(32)


def secret_text(secret: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(secret).decode()


def public_key_text(private: bytes) -> str:
    raw = Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode()


def new_msg_id() -> str:
    """`msg_` and 27 URL-safe characters (160 random bits): the `webhook-id`."""
    return "msg_" + secrets.token_urlsafe(20)


def signature(signing: str, key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    if signing == HMAC:
        return hmac_signature(key, msg_id, timestamp, body)
    signed = Ed25519PrivateKey.from_private_bytes(key).sign(
        signed_content(msg_id, timestamp, body))
    return "v1a," + base64.b64encode(signed).decode()


def signature_header(signing: str, keys: list[bytes], msg_id: str, timestamp: int,
                     body: bytes) -> str:
    """Every key's signature, the current key's first, space-separated."""
    return " ".join(signature(signing, key, msg_id, timestamp, body) for key in keys)


def headers(signing: str, keys: list[bytes], msg_id: str, timestamp: int,
            body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(signing, keys, msg_id, timestamp, body)}


@functools.lru_cache(maxsize=8)
def _sealing_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pointsnet-webhooks",
                info=_SEAL_LABEL).derive(secret_key.encode())


def seal(secret_key: str, key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_sealing_key(secret_key)).encrypt(nonce, key, _SEAL_LABEL)


def unseal(secret_key: str, sealed: bytes) -> bytes:
    """The key; cryptography's InvalidTag when POINTSNET_SECRET_KEY is not the one it was
    sealed with."""
    return AESGCM(_sealing_key(secret_key)).decrypt(sealed[:12], sealed[12:], _SEAL_LABEL)
