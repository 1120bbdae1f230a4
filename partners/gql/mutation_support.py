"""What every partner mutation shares: the caller, its scope, its Idempotency-Key header, and
turning a refusal into `userErrors` (with nothing written).

One request, one mutation: the Idempotency-Key names the request, so a document selecting two
mutation fields (`a: awardPoints(…) b: redeemPoints(…)`) would book the first and find the key
used by the second. Such a request is refused whole, each field saying MULTIPLE_MUTATIONS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import graphene
from graphql.execution.collect_fields import collect_fields

from network.auth import PartnerPrincipal
from network.gql.context import RequestContext
from network.gql.errors import user_errors
from network.ledger.errors import IdempotencyInProgress, InvalidInput, LedgerError
from partners import idempotency_key

P = TypeVar("P")
IDEMPOTENCY_FIELD = idempotency_key.HEADER  # how userErrors name the header


@dataclass(frozen=True)
class Call:
    ctx: RequestContext
    partner: PartnerPrincipal
    idempotency_key: str

    @property
    def scope(self) -> str:
        return self.partner.scope


def _mutation_fields(info: graphene.ResolveInfo) -> list[str]:
    """The response keys of the operation's root (aliases count, `__typename` does not)."""
    fields = collect_fields(info.schema, info.fragments, info.variable_values,
                            info.parent_type, info.operation.selection_set)
    return [name for name in fields if not name.startswith("__")]


def begin(info: graphene.ResolveInfo, scope: str) -> Call:
    ctx: RequestContext = info.context
    partner = ctx.partner(scope)
    fields = _mutation_fields(info)
    if len(fields) > 1:
        raise InvalidInput(
            f"one Idempotency-Key names one mutation, and this request selects {len(fields)} "
            f"({', '.join(fields)}); send each in its own request with its own key, or award "
            "many purchases with awardPointsBatch", code="MULTIPLE_MUTATIONS")
    key = ctx.headers.get(idempotency_key.HEADER.lower(), "").strip()
    if not key:
        raise InvalidInput("mutations need an Idempotency-Key header (covered by the signature)",
                           field=IDEMPOTENCY_FIELD, code="IDEMPOTENCY_KEY_MISSING")
    wrong = idempotency_key.problem(key)
    if wrong:
        raise InvalidInput(wrong, field=IDEMPOTENCY_FIELD, code="IDEMPOTENCY_KEY_INVALID")
    return Call(ctx, partner, key)


# The ledger names its own parameters; userErrors name what the partner sent.
_SENT_AS = {"idempotencyKey": IDEMPOTENCY_FIELD}


def as_sent(error: LedgerError, sent_as: Mapping[str, str] | None = None) -> LedgerError:
    """`error` with its field renamed to the one the partner sent (`sent_as` adds a mutation's
    own names to the header's)."""
    names = {**_SENT_AS, **(sent_as or {})}
    error.field = names.get(error.field or "", error.field)
    return error


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
        return payload(user_errors=user_errors(as_sent(exc, sent_as)),  # type: ignore[call-arg]
                       **empty)
