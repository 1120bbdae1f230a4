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

from network.config import ConfigError, Settings
from settlement.errors import SettlementError

_INFO = b"pointsnet settlement statement signing key v1"


def statement_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key; a missing, unreadable or wrong key is a ConfigError naming the
    variable (one line on the command line, not a traceback)."""
    path = settings.extra.get("STATEMENT_KEY_PATH")
    if path:
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"POINTSNET_STATEMENT_KEY_PATH={path}: cannot load an unencrypted "
                              f"PEM private key ({exc.__class__.__name__})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"POINTSNET_STATEMENT_KEY_PATH={path} is not an Ed25519 "
                              "private key")
        return key
    if settings.production:
        raise ConfigError("POINTSNET_STATEMENT_KEY_PATH must be set in production")
    seed = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(settings.secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    """True when `signature` is the statement key's over `data`; a public key that is not an
    Ed25519 PEM is BAD_PUBLIC_KEY (a wrong file given, not a bad signature)."""
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise SettlementError("BAD_PUBLIC_KEY", "the public key is not an Ed25519 public key "
                              "in PEM form (hub-statement-key.pem)", field="public_key")
    try:
        key.verify(signature, data)
        return True
    except InvalidSignature:
        return False
