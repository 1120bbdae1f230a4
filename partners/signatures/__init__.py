"""RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest, with no database or web
framework attached, so partners, the hub and the CLI share one implementation."""

from .algorithms import load_private_key, load_public_key
from .digest import DigestError, content_digest, verify_content_digest
from .errors import SignatureError
from .message import HttpRequest, MessageError
from .raw_http import parse_raw_request, render_raw_request
from .signer import sign_request
from .verifier import (
    ParsedSignature,
    VerifiedSignature,
    check_time,
    parse_signatures,
    verify_parsed,
    verify_request,
)

__all__ = [
    "DigestError",
    "HttpRequest",
    "MessageError",
    "ParsedSignature",
    "SignatureError",
    "VerifiedSignature",
    "check_time",
    "content_digest",
    "load_private_key",
    "load_public_key",
    "parse_raw_request",
    "parse_signatures",
    "render_raw_request",
    "sign_request",
    "verify_content_digest",
    "verify_parsed",
    "verify_request",
]
