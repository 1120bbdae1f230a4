"""The hub's partner authenticator: RFC 9421 signature + key status + digest + scope + replay.

Each refusal is an AuthError naming the one check that failed, so a partner's developer reads
"SIGNATURE_EXPIRED: created=… is 412 s old" instead of "unauthorized". Checks that need no
database run first. The key's public part comes from `KeyIdentities` (a statement the first
time a key id is seen). The nonce is claimed only when every other check has passed, so a
refused request writes nothing at all; that same statement re-reads the key's status, which is
therefore checked last: only a request the key's holder really signed learns that the key is
revoked or expired. The endpoint may leave the claim to the request's first write
(`deferring`): a single earn makes it inside its one statement.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from starlette.requests import Request

from network.auth import AuthError, ClaimRefused, DeferredClaim, PartnerPrincipal
from network.db.engine import Database
from partners import nonces
from partners.keys import KeyIdentities, lookup_key
from partners.root_fields import root_fields
from partners.scopes import partner_fields, required_scope
from partners.signatures import (
    DigestError,
    HttpRequest,
    ParsedSignature,
    SignatureError,
    check_time,
    parse_signatures,
    verify_content_digest,
    verify_parsed,
)

MAX_SKEW_SECONDS = 300
REQUIRED_COMPONENTS = ('"@method"', '"@authority"', '"@path"', '"content-type"',
                       '"content-digest"')
REQUIRED_PARAMS = ("created", "keyid", "nonce")


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether a request claims a partner signature (not yet checked): the endpoint reads the
    larger signed body limit for these only."""
    return "signature-input" in headers or "signature" in headers


def _unauthorized(code: str, message: str) -> AuthError:
    return AuthError(401, code, message)


def http_request_from(request: Request, body: bytes) -> HttpRequest:
    """The request as the partner signed it: Host header for @authority, raw path and query."""
    scope = request.scope
    host = request.headers.get("host") or "localhost"
    path = scope.get("raw_path") or scope["path"].encode()
    target = f"{request.url.scheme}://{host}{path.decode('latin-1')}"
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    return HttpRequest(request.method, target, headers, body)


def required_components(message: HttpRequest) -> list[str]:
    required = list(REQUIRED_COMPONENTS)
    if message.query:
        required.append('"@query"')
    if message.header("idempotency-key") is not None:
        required.append('"idempotency-key"')
    return required


def _choose(message: HttpRequest) -> ParsedSignature:
    try:
        signatures = parse_signatures(message)
    except SignatureError as exc:
        raise _unauthorized(exc.code, exc.message) from exc
    for parsed in signatures:
        if parsed.key_id is not None:
            return parsed
    # None names a key: the first one goes on to `check_shape`, which reports the missing
    # keyid (and any other missing parameter) as SIGNATURE_PARAMS_MISSING.
    return signatures[0]


def check_shape(parsed: ParsedSignature, message: HttpRequest, now: int) -> None:
    """The hub's checks that need no database: parameters, alg, nonce length, time window and
    covered components. Raises the 401 AuthError the hub answers with; public so that
    `pointsnet signature verify --as-hub` applies this very function rather than a copy."""
    missing_params = [name for name in REQUIRED_PARAMS if name not in parsed.params]
    if missing_params:
        raise _unauthorized(
            "SIGNATURE_PARAMS_MISSING",
            f"signature {parsed.label!r} lacks parameter(s) {', '.join(missing_params)}",
        )
    alg = parsed.params.get("alg")
    if alg is not None and alg != "ed25519":
        raise _unauthorized("ALGORITHM_UNSUPPORTED", f'alg={alg!r}; the hub accepts "ed25519"')
    nonce = parsed.nonce or ""
    if not 8 <= len(nonce) <= nonces.MAX_NONCE_LENGTH:
        raise _unauthorized("SIGNATURE_MALFORMED", "the nonce must be 8 to 128 characters")
    try:
        check_time(parsed, now, MAX_SKEW_SECONDS)
    except SignatureError as exc:
        raise _unauthorized(exc.code, exc.message) from exc
    covered = set(parsed.covered_identifiers)
    missing = [c for c in required_components(message) if c not in covered]
    if missing:
        raise _unauthorized(
            "COMPONENTS_MISSING",
            f"the signature must cover {', '.join(missing)}; it covers "
            f"{' '.join(parsed.covered_identifiers) or 'nothing'}",
        )


class PartnerAuthenticator:
    """`(request, body) -> PartnerPrincipal | None`, as network.auth describes."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self.keys = KeyIdentities(db)

    def __call__(self, request: Request, body: bytes) -> PartnerPrincipal | None:
        principal, nonce = self.deferring(request, body)
        if nonce is not None:
            try:
                nonce.claim()
            except ClaimRefused as refused:
                raise refused.error from None
        return principal

    def deferring(self, request: Request,
                  body: bytes) -> tuple[PartnerPrincipal | None, DeferredClaim | None]:
        """Every check but the nonce claim, which is returned for the request's first write to
        make (network.auth.DeferredClaim): the endpoint lets a single earn make it in its one
        statement, and makes it itself before anything else runs."""
        if not is_signed(request.headers):
            # A small body (the endpoint's unsigned limit), parsed at most up to the token limit.
            if partner_fields(root_fields(body)):
                raise _unauthorized(
                    "SIGNATURE_MISSING",
                    "partner operations need an RFC 9421 signature (Signature-Input, Signature)",
                )
            return None, None
        message = http_request_from(request, body)
        clock = self.clock()
        parsed = _choose(message)
        # `created` is in whole seconds, so the signature's time window is checked in seconds;
        # a key's expiry is an instant, checked against the precise time in `_verify`.
        check_shape(parsed, message, int(clock))
        return self._verify(message, parsed, clock)

    def _verify(self, message: HttpRequest, parsed: ParsedSignature,
                clock: float) -> tuple[PartnerPrincipal, DeferredClaim]:
        key = self.keys.get(parsed.key_id or "")
        if key is None:
            raise _unauthorized("UNKNOWN_KEY", f"no API key {parsed.key_id!r}")
        try:
            verify_parsed(message, parsed, key.verifying_key)
        except SignatureError as exc:
            # The usual culprits are a host, port or path other than the one the client signed
            # (behind a proxy, or `localhost` signed for 127.0.0.1): say what the hub saw.
            seen = [f"@authority {message.authority!r}", f"@path {message.path!r}"]
            if message.query:
                seen.append(f"@query {message.query!r}")
            seen.append(f"content-type {message.header('content-type')!r}")
            raise _unauthorized(
                "SIGNATURE_INVALID",
                f"{exc.message}; the hub saw {', '.join(seen)} (`pointsnet signature verify` "
                "prints the whole base)") from exc
        try:
            verify_content_digest(message.header("content-digest"), message.body)
        except DigestError as exc:
            raise _unauthorized(
                "DIGEST_MISMATCH" if exc.code == "DIGEST_MISMATCH" else exc.code, exc.message
            ) from exc
        # Parsed only now, its signature and digest verified: a forged signature must not buy
        # the parse of a large body (issue 15).
        scopes_needed = {required_scope(name)
                         for name in partner_fields(root_fields(message.body))}
        lacking = sorted(scopes_needed - key.scopes)
        if lacking:
            raise AuthError(403, "SCOPE_MISSING",
                            f"key {key.key_id} lacks the scope(s) {', '.join(lacking)}")
        # Not truncated to the second: a key that expired at 12:00:00.3 must refuse a request
        # at 12:00:00.7. The nonce claim and `_unclaimed` compare the key's expiry with `at`.
        at = datetime.fromtimestamp(clock, UTC)
        expires = nonces.window_end(parsed.created or int(clock), MAX_SKEW_SECONDS)
        claim = nonces.deferred(self.db, key.key_id, parsed.nonce or "", expires, at,
                                refusal=lambda: self._unclaimed(key.key_id, at))
        return PartnerPrincipal(party_id=key.party_id, key_id=key.key_id,
                                scopes=key.scopes), claim

    def _unclaimed(self, key_id: str, at: datetime) -> AuthError:
        """Why the nonce claim wrote nothing: the key's status now, or else a replay."""
        key = lookup_key(self.db, key_id)
        assert key is not None, "a key row is never deleted"
        status = key.status(at)
        if status == "revoked":
            return _unauthorized("KEY_REVOKED", f"key {key_id} was revoked")
        if status == "expired":
            return _unauthorized("KEY_EXPIRED", f"key {key_id} expired at {key.expires_at}")
        return _unauthorized("NONCE_REPLAYED", "this nonce was already used; sign afresh")
