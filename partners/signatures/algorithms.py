"""Signature algorithms from the RFC 9421 registry that this implementation supports.

The hub only accepts `ed25519` (asymmetric, so it stores no secret that could sign on a partner's
behalf). `hmac-sha256` is here because the verifier is meant to be general and RFC 9421's
Appendix B.2.5 gives a deterministic vector for it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class Algorithm(Protocol):
    name: str

    def sign(self, key: object, data: bytes) -> bytes: ...

    def verify(self, key: object, data: bytes, signature: bytes) -> bool: ...


class Ed25519:
    name = "ed25519"

    def sign(self, key: object, data: bytes) -> bytes:
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("ed25519 signing needs an Ed25519 private key")
        return key.sign(data)

    def verify(self, key: object, data: bytes, signature: bytes) -> bool:
        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("ed25519 verification needs an Ed25519 public key")
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class HmacSha256:
    name = "hmac-sha256"

    def sign(self, key: object, data: bytes) -> bytes:
        if not isinstance(key, bytes):
            raise TypeError("hmac-sha256 needs a shared secret as bytes")
        return hmac.new(key, data, hashlib.sha256).digest()

    def verify(self, key: object, data: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.sign(key, data), signature)


ALGORITHMS: dict[str, Algorithm] = {alg.name: alg for alg in (Ed25519(), HmacSha256())}


def algorithm_for_key(key: object) -> Algorithm:
    """Derive the algorithm from the key material (RFC 9421 section 3.3.7 lets keys imply it)."""
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return ALGORITHMS["ed25519"]
    if isinstance(key, bytes):
        return ALGORITHMS["hmac-sha256"]
    raise TypeError(f"no signature algorithm for key type {type(key).__name__}")


def load_private_key(pem: str | bytes) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key PEM. Every unusable input raises ValueError with a
    one-line reason, so the CLI and the SDK can show it instead of a traceback."""
    data = pem.encode() if isinstance(pem, str) else pem
    if b"PRIVATE KEY" not in data and b"PUBLIC KEY" in data:
        raise ValueError("this is a public key; signing needs the private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # what cryptography raises for an encrypted key without password
        raise ValueError(
            "the private key is protected by a passphrase; export it without one, e.g. "
            "`openssl pkey -in key.pem -out plain.pem`"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a readable PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the private key is not an Ed25519 key")
    return key


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """Accept a public key PEM, or a private key PEM (its public half) for convenience.
    Unusable input raises ValueError with a one-line reason, as `load_private_key` does."""
    data = pem.encode() if isinstance(pem, str) else pem
    if b"PRIVATE KEY" in data:
        return load_private_key(data).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a readable PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
