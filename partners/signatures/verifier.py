"""Verify RFC 9421 signatures (section 3.2), one step per function so callers can interleave
their own policy (key lookup, required components, replay checks) between parse and crypto."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .algorithms import ALGORITHMS, algorithm_for_key
from .components import ComponentError
from .errors import SignatureError
from .message import HttpRequest
from .signature_base import (
    SignatureBase,
    build_signature_base,
    serialize_identifier,
)
from .structured_fields import (
    BareItem,
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
)

_PARAM_TYPES: dict[str, type | tuple[type, ...]] = {
    "created": int,
    "expires": int,
    "nonce": str,
    "alg": str,
    "keyid": str,
    "tag": str,
}
# A `created` beyond this (the year 5138 as seconds) is Unix time in milliseconds: the signer's
# mistake is its unit, not its clock.
MAX_CREATED_SECONDS = 10**11


@dataclass(frozen=True)
class ParsedSignature:
    """One labelled signature as received: what it claims to cover and its raw bytes."""

    label: str
    covered: list[Item]
    params: dict[str, BareItem]
    signature: bytes

    @property
    def key_id(self) -> str | None:
        return self.params.get("keyid")  # type: ignore[return-value]

    @property
    def created(self) -> int | None:
        return self.params.get("created")  # type: ignore[return-value]

    @property
    def nonce(self) -> str | None:
        return self.params.get("nonce")  # type: ignore[return-value]

    @property
    def covered_identifiers(self) -> list[str]:
        return [serialize_identifier(item) for item in self.covered]


@dataclass(frozen=True)
class VerifiedSignature:
    parsed: ParsedSignature
    base: SignatureBase
    algorithm: str


def _dictionary(request: HttpRequest, name: str) -> dict:
    value = request.header(name)
    if value is None:
        raise SignatureError(SignatureError.SIGNATURE_MISSING, f"the request has no {name} header")
    try:
        return parse_dictionary(value)
    except StructuredFieldError as exc:
        raise SignatureError(
            SignatureError.SIGNATURE_MALFORMED, f"{name} is not a valid dictionary: {exc}"
        ) from exc


def _check_params(label: str, params: dict[str, BareItem]) -> None:
    for name, value in params.items():
        expected = _PARAM_TYPES.get(name)
        if expected is None:
            continue  # RFC 9421 lets verifiers ignore parameters they do not know
        if isinstance(value, bool) or not isinstance(value, expected):
            raise SignatureError(
                SignatureError.SIGNATURE_MALFORMED,
                f"signature {label!r}: parameter {name!r} has the wrong type",
                label=label,
            )


def parse_signatures(request: HttpRequest) -> list[ParsedSignature]:
    """Pair every Signature-Input member with its Signature member (section 4.3)."""
    inputs = _dictionary(request, "Signature-Input")
    signatures = _dictionary(request, "Signature")
    parsed = []
    for label, member in inputs.items():
        if not isinstance(member, InnerList):
            raise SignatureError(
                SignatureError.SIGNATURE_MALFORMED,
                f"Signature-Input {label!r} is not an inner list",
                label=label,
            )
        if any(not isinstance(item.value, str) for item in member.items):
            raise SignatureError(
                SignatureError.SIGNATURE_MALFORMED,
                f"Signature-Input {label!r} covers a component that is not a string",
                label=label,
            )
        signature = signatures.get(label)
        if signature is None:
            raise SignatureError(
                SignatureError.SIGNATURE_MISSING,
                f"Signature-Input {label!r} has no matching Signature",
                label=label,
            )
        if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
            raise SignatureError(
                SignatureError.SIGNATURE_MALFORMED,
                f"Signature {label!r} is not a byte sequence",
                label=label,
            )
        _check_params(label, member.params)
        parsed.append(ParsedSignature(label, member.items, member.params, signature.value))
    if not parsed:
        raise SignatureError(SignatureError.SIGNATURE_MISSING, "Signature-Input is empty")
    return parsed


def check_time(parsed: ParsedSignature, now: int, max_skew: int | None) -> None:
    """`created` within `max_skew` seconds of `now` either way, and `expires` not passed."""
    expires = parsed.params.get("expires")
    if isinstance(expires, int) and now >= expires:
        raise SignatureError(
            SignatureError.SIGNATURE_EXPIRED,
            f"signature expired {now - expires} s ago (expires={expires}, now={now})",
            label=parsed.label,
        )
    if max_skew is None:
        return
    created = parsed.created
    if created is None:
        raise SignatureError(
            SignatureError.SIGNATURE_MALFORMED,
            "signature has no 'created' parameter",
            label=parsed.label,
        )
    if created < now - max_skew:
        raise SignatureError(
            SignatureError.SIGNATURE_EXPIRED,
            f"created={created} is {now - created} s old; at most {max_skew} s is accepted",
            label=parsed.label,
        )
    if created > now + max_skew and created > MAX_CREATED_SECONDS:
        raise SignatureError(
            SignatureError.SIGNATURE_EXPIRED,
            f"created must be Unix time in seconds; {created} looks like milliseconds",
            label=parsed.label,
        )
    if created > now + max_skew:
        raise SignatureError(
            SignatureError.SIGNATURE_EXPIRED,
            f"created={created} is {created - now} s in the future; check the signer's clock",
            label=parsed.label,
        )


def verify_parsed(request: HttpRequest, parsed: ParsedSignature, key: object) -> VerifiedSignature:
    """Rebuild the signature base from the received message and check the signature over it."""
    alg_name = parsed.params.get("alg")
    try:
        key_algorithm = algorithm_for_key(key)
    except TypeError as exc:
        raise SignatureError(
            SignatureError.ALGORITHM_UNSUPPORTED, str(exc), label=parsed.label
        ) from exc
    if alg_name is not None:
        if alg_name not in ALGORITHMS:
            raise SignatureError(
                SignatureError.ALGORITHM_UNSUPPORTED,
                f"alg={alg_name!r} is not supported; use one of {sorted(ALGORITHMS)}",
                label=parsed.label,
            )
        if alg_name != key_algorithm.name:
            raise SignatureError(
                SignatureError.SIGNATURE_INVALID,
                f"alg={alg_name!r} does not match the key type ({key_algorithm.name})",
                label=parsed.label,
            )
    try:
        base = build_signature_base(request, parsed.covered, parsed.params)
    except ComponentError as exc:
        raise SignatureError(
            SignatureError.COMPONENT_UNRESOLVABLE, str(exc), label=parsed.label
        ) from exc
    if not key_algorithm.verify(key, base.encode(), parsed.signature):
        raise SignatureError(
            SignatureError.SIGNATURE_INVALID,
            "the signature does not match the signature base rebuilt from this request",
            label=parsed.label,
        )
    return VerifiedSignature(parsed, base, key_algorithm.name)


def verify_request(
    request: HttpRequest,
    resolve_key: Callable[[ParsedSignature], object],
    *,
    now: int | None = None,
    max_skew: int | None = None,
) -> list[VerifiedSignature]:
    """Verify every signature on the request; any failure raises. For tools, not the hub."""
    results = []
    for parsed in parse_signatures(request):
        if now is not None:
            check_time(parsed, now, max_skew)
        results.append(verify_parsed(request, parsed, resolve_key(parsed)))
    return results
