"""The hub's Ed25519 statement key: detached signatures anyone can check with the public key.

The key is the PEM file named by POINTSNET_STATEMENT_KEY_PATH. Without it (development and
tests), it is derived from the secret key with HKDF, so it is stable for one installation.
Signatures are the raw 64 bytes, which is what `openssl pkeyutl -verify -rawin` expects.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from network.config import Settings

_INFO = b"pointsnet settlement statement signing key v1"


def statement_key(settings: Settings) -> Ed25519PrivateKey:
    path = settings.extra.get("STATEMENT_KEY_PATH")
    if path:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    if settings.production:
        raise ValueError("POINTSNET_STATEMENT_KEY_PATH must be set in production")
    seed = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(settings.secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    try:
        key.verify(signature, data)
        return True
    except InvalidSignature:
        return False
