"""The partner SDK: sign GraphQL requests per RFC 9421 and send them, retrying safely.

    client = PartnerClient("https://hub.example", key_id="pk_...", private_key_pem=open(...).read())
    result = client.execute(operation("AwardPoints"), {"input": {...}})

Every attempt is signed afresh (new `created` and `nonce`, because the hub rejects a nonce it has
seen) but carries the SAME body and Idempotency-Key, so a retry after a lost response, a 409
"still running" or a 503 "database unavailable" can never award points twice. A 503's
Retry-After is honoured, up to `max_retry_after` seconds per wait.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import OperationType, parse
from graphql.error import GraphQLSyntaxError

# Relative imports: the same files are the separately installed SDK, `pointsnet_partner`
# (partners/sdk), which must not import the hub.
from . import idempotency_key as key_rule
from .signatures import HttpRequest, content_digest, load_private_key, sign_request

SIGNED_COMPONENTS = (
    "@method",
    "@authority",
    "@path",
    "@query",
    "content-type",
    "content-digest",
)
IDEMPOTENCY_HEADER = key_rule.HEADER
RETRY_STATUSES = {409, 502, 503, 504}
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After means "not now": the caller decides


# The documented operations: package data in the SDK, graphql/operations/partner in the hub's
# repository (which the SDK's build copies; the test suite runs exactly these files).
_OPERATION_FOLDERS = (Path(__file__).parent / "operations",
                      Path(__file__).parents[1] / "graphql" / "operations" / "partner")


def _operations_folder() -> Path | None:
    return next((folder for folder in _OPERATION_FOLDERS if folder.is_dir()), None)


def operation_names() -> list[str]:
    """The documented operations' names, like "AwardPoints"."""
    folder = _operations_folder()
    return sorted(path.stem for path in folder.glob("*.graphql")) if folder else []


def operation(name: str) -> str:
    """The text of a documented operation, e.g. operation("AwardPoints"), to pass to `execute`."""
    folder = _operations_folder()
    if folder is None or name not in operation_names():
        raise ValueError(f"no documented operation {name!r}; there are "
                         f"{', '.join(operation_names()) or 'none here'}")
    return (folder / f"{name}.graphql").read_text(encoding="utf-8")


class PartnerAPIError(Exception):
    """The hub refused the request at the HTTP level (401/403/409/413/...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def check_idempotency_key(key: str) -> str:
    """The hub's rule for the header (partners/idempotency_key.py), applied before signing: a
    key like "reçu-1" would otherwise fail deep inside the signer. Returns the key as the hub
    reads it, without the spaces around it: HTTP drops them, and httpx refuses to send them."""
    wrong = key_rule.problem(key.strip())
    if wrong:
        raise ValueError(f"{wrong}; got {key!r}")
    return key.strip()


@dataclass(frozen=True)
class SignedRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def sign_graphql(
    url: str,
    body: bytes,
    *,
    key: Any,
    key_id: str,
    idempotency_key: str | None,
    created: int | None = None,
    nonce: str | None = None,
) -> SignedRequest:
    """Headers for one POST of `body` to `url`; usable without the client (e.g. benchmarks)."""
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Digest", content_digest(body, "sha-256")),
    ]
    covered = list(SIGNED_COMPONENTS)
    if idempotency_key is not None:
        headers.append((IDEMPOTENCY_HEADER, check_idempotency_key(idempotency_key)))
        covered.append("idempotency-key")
    signed = sign_request(
        HttpRequest("POST", url, headers, body),
        key=key,
        key_id=key_id,
        covered=covered,
        created=created,
        nonce=nonce,
        alg="ed25519",
    )
    return SignedRequest(url, dict(signed.headers), body)


def is_mutation(query: str, operation_name: str | None = None) -> bool:
    """Mutations need an idempotency key; decide from the document, not from a guess."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False  # let the hub report the syntax error
    for definition in document.definitions:
        operation = getattr(definition, "operation", None)
        name = getattr(getattr(definition, "name", None), "value", None)
        if operation is not None and (operation_name is None or name == operation_name):
            return operation == OperationType.MUTATION
    return False


def _error_from(response: httpx.Response) -> PartnerAPIError:
    """The hub answers refusals as `{"errors": [{"message", "extensions": {"code"}}]}`."""
    try:
        error = response.json()["errors"][0]
        return PartnerAPIError(response.status_code, str(error["extensions"]["code"]),
                               str(error["message"]))
    except (ValueError, KeyError, IndexError, TypeError):
        return PartnerAPIError(response.status_code, "HTTP_ERROR", response.text[:200])


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds the server asked us to wait (RFC 9110 10.2.3: delay-seconds or an HTTP date),
    or None when it did not say or said something unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _origin(base_url: str, path: str) -> str:
    """`base_url` without its trailing slash, refused unless it is an origin: given
    "https://hub.example/graphql" the client would post to /graphql/graphql, which the hub
    answers with a bare 404 that names no mistake."""
    parts = urlsplit(base_url)
    bare = parts.path in ("", "/") and not parts.query and not parts.fragment
    if parts.scheme not in ("http", "https") or not parts.netloc or not bare:
        raise ValueError(f"base_url is the hub's origin, like https://hub.example, without a "
                         f"path; the client adds {path} itself (got {base_url!r})")
    return base_url.rstrip("/")


class PartnerClient:
    def __init__(
        self,
        base_url: str,
        key_id: str,
        private_key_pem: str | bytes,
        *,
        path: str = "/graphql",
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 0.2,
        max_retry_after: float = MAX_RETRY_AFTER,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = _origin(base_url, path) + path
        self.key_id = key_id
        self.key = load_private_key(private_key_pem)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        # `http_client` lets tests pass Starlette's TestClient (an httpx.Client over the app).
        self.http = http_client or httpx.Client(timeout=timeout, transport=transport)
        self._owns_http = http_client is None

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Run one GraphQL operation; returns the `{data, errors}` document.

        Mutations get a fresh UUID idempotency key unless one is given; pass your own (for
        example your till's receipt id) to make retries across process restarts safe too.
        """
        payload: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name:
            payload["operationName"] = operation_name
        body = json.dumps(payload, separators=(",", ":")).encode()
        if idempotency_key is None and is_mutation(query, operation_name):
            idempotency_key = str(uuid.uuid4())
        response = self._send_with_retries(body, idempotency_key)
        if response.status_code != 200:
            raise _error_from(response)
        return response.json()

    def _send_with_retries(self, body: bytes, idempotency_key: str | None) -> httpx.Response:
        for attempt in range(1, self.max_attempts + 1):
            signed = sign_graphql(
                self.url, body, key=self.key, key_id=self.key_id, idempotency_key=idempotency_key
            )
            wait = self.backoff * 2 ** (attempt - 1)
            try:
                response = self.http.post(signed.url, content=signed.body, headers=signed.headers)
            except httpx.TransportError:
                if attempt == self.max_attempts:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt == self.max_attempts:
                    return response
                asked = retry_after(response, time.time())
                if asked is not None and asked > self.max_retry_after:
                    return response  # longer than we agreed to wait: the caller decides
                wait = max(wait, asked or 0.0)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover
