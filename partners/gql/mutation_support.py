"""What every partner mutation shares: the caller, its scope, its Idempotency-Key header, and
turning a refusal into `userErrors` (with nothing written)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import graphene

from network.auth import PartnerPrincipal
from network.gql.context import RequestContext
from network.gql.errors import UserError, user_errors
from network.idempotency import MAX_KEY_LENGTH
from network.ledger.errors import IdempotencyInProgress, InvalidInput, LedgerError

IDEMPOTENCY_HEADER = "idempotency-key"
# Batch lines append "#<index>" to the key, and the ledger caps keys at MAX_KEY_LENGTH.
MAX_HEADER_KEY_LENGTH = MAX_KEY_LENGTH - 8

P = TypeVar("P")


@dataclass(frozen=True)
class Call:
    ctx: RequestContext
    partner: PartnerPrincipal
    idempotency_key: str

    @property
    def scope(self) -> str:
        return self.partner.scope


def begin(info: graphene.ResolveInfo, scope: str) -> Call:
    ctx: RequestContext = info.context
    partner = ctx.partner(scope)
    key = ctx.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise InvalidInput("mutations need an Idempotency-Key header (covered by the signature)",
                           field="Idempotency-Key", code="IDEMPOTENCY_KEY_MISSING")
    if len(key) > MAX_HEADER_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"an Idempotency-Key is 1 to {MAX_HEADER_KEY_LENGTH} printable "
                           "characters", field="Idempotency-Key", code="IDEMPOTENCY_KEY_INVALID")
    return Call(ctx, partner, key)


# The ledger names its own parameters; userErrors name what the partner sent.
_SENT_AS = {"idempotencyKey": "Idempotency-Key"}


def guarded(payload: type[P], info: graphene.ResolveInfo, scope: str,
            work: Callable[[Call], P], *, sent_as: Mapping[str, str] | None = None,
            **empty: Any) -> P:
    """Run `work`; a LedgerError becomes userErrors, its field renamed to the one the partner
    sent (`sent_as` adds the mutation's own names to the header's). A request still in flight
    is not a user error: it propagates so the endpoint answers 409 and the client retries with
    the same key."""
    try:
        return work(begin(info, scope))
    except IdempotencyInProgress:
        raise
    except LedgerError as exc:
        names = {**_SENT_AS, **(sent_as or {})}
        exc.field = names.get(exc.field or "", exc.field)
        return payload(user_errors=user_errors(exc), **empty)  # type: ignore[call-arg]


def user_errors_field() -> Any:
    return graphene.List(graphene.NonNull(UserError), required=True)
