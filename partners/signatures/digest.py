"""RFC 9530 Content-Digest: ties the body to a signature that can only cover header fields.

The signature covers the `content-digest` field; this module checks that field against the bytes
actually received. Without that check a valid signature would vouch for any body.
"""

from __future__ import annotations

import hashlib
import hmac

from .structured_fields import (
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_dictionary,
)

ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


class DigestError(ValueError):
    """The Content-Digest field is missing, malformed, unsupported or does not match."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """The Content-Digest field value for `body`."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return serialize_dictionary({algorithm: Item(ALGORITHMS[algorithm](body).digest())})


def verify_content_digest(field_value: str | None, body: bytes) -> list[str]:
    """Check every supported digest in the field; return the algorithms that were checked.

    Unknown algorithms are ignored (RFC 9530 lets senders offer several), but at least one
    supported algorithm must be present and all supported ones must match.
    """
    if field_value is None:
        raise DigestError("DIGEST_MISSING", "the request has no Content-Digest header")
    try:
        members = parse_dictionary(field_value)
    except StructuredFieldError as exc:
        raise DigestError("DIGEST_MALFORMED", f"Content-Digest is malformed: {exc}") from exc
    checked = []
    for algorithm, member in members.items():
        if algorithm not in ALGORITHMS:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise DigestError("DIGEST_MALFORMED", f"{algorithm} digest is not a byte sequence")
        expected = ALGORITHMS[algorithm](body).digest()
        if not hmac.compare_digest(expected, member.value):
            raise DigestError(
                "DIGEST_MISMATCH", f"the {algorithm} Content-Digest does not match the body"
            )
        checked.append(algorithm)
    if not checked:
        raise DigestError(
            "DIGEST_UNSUPPORTED",
            f"Content-Digest offers none of {sorted(ALGORITHMS)}",
        )
    return checked
