"""Create RFC 9421 signatures: add Signature-Input and Signature fields to a request."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from .algorithms import ALGORITHMS, algorithm_for_key
from .message import HttpRequest
from .signature_base import build_signature_base
from .structured_fields import (
    BareItem,
    InnerList,
    Item,
    parse_item,
    serialize_dictionary,
)


def component(identifier: str | Item) -> Item:
    """`"@path"` or `@path` or `"@query-param";name="id"` -> a component Item."""
    if isinstance(identifier, Item):
        return identifier
    if identifier.startswith('"'):
        return parse_item(identifier)
    return Item(identifier.lower())


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def sign_request(
    request: HttpRequest,
    *,
    key: object,
    key_id: str | None,
    covered: Sequence[str | Item],
    label: str = "sig1",
    created: int | None = None,
    expires: int | None = None,
    nonce: str | None = None,
    alg: str | None = None,
    tag: str | None = None,
) -> HttpRequest:
    """Return a copy of `request` carrying one more signature under `label`.

    `created` defaults to now; `nonce` defaults to a fresh random value because the hub
    rejects replays by nonce. Pass `nonce=""` to sign without one (RFC examples do).
    """
    algorithm = ALGORITHMS[alg] if alg else algorithm_for_key(key)
    params: dict[str, BareItem] = {"created": int(time.time()) if created is None else created}
    if expires is not None:
        params["expires"] = expires
    if nonce is None:
        nonce = new_nonce()
    if nonce:
        params["nonce"] = nonce
    if alg:
        params["alg"] = alg
    if key_id is not None:
        params["keyid"] = key_id
    if tag is not None:
        params["tag"] = tag
    items = [component(c) for c in covered]
    base = build_signature_base(request, items, params)
    signature = algorithm.sign(key, base.encode())
    return request.with_headers(
        [
            ("Signature-Input", serialize_dictionary({label: InnerList(items, params)})),
            ("Signature", serialize_dictionary({label: Item(signature)})),
        ]
    )
