"""What every partner mutation shares: the caller, its scope, its Idempotency-Key header, and
turning a refusal into `userErrors` (with nothing written).

One request, one mutation: the Idempotency-Key names the request, so a document selecting two
mutation fields (`a: awardPoints(…) b: redeemPoints(…)`) would book the first and find the key
used by the second. Such a request is refused whole, each field saying MULTIPLE_MUTATIONS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import graphene
from graphql.execution.collect_fields import collect_fields

from network.auth import PartnerPrincipal
from network.errors import ErrorCodes, HubError
from network.gql.context import RequestContext
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation, run_mutation
from network.ledger.errors import (
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    InvalidCardNumber,
    InvalidId,
    MemberNotFound,
    MemberReference,
    MultipleMutations,
    Required,
)
from partners import idempotency_key

IDEMPOTENCY_FIELD = idempotency_key.HEADER  # how userErrors name the header

# What every partner mutation may answer, whatever it does (`begin` and the key's replay check).
EVERY_MUTATION = (MultipleMutations, IdempotencyKeyMissing, IdempotencyKeyInvalid,
                  IdempotencyKeyReused)
# How an input names its member (partners.gql.refs): memberId or cardNumber.
MEMBER_INPUT = (MemberReference, Required, InvalidId, InvalidCardNumber, MemberNotFound)


def partner_errors(name: str, *errors: type[HubError] | ErrorCodes) -> UserErrors:
    """A partner mutation's userErrors: its own errors, then those every one may answer."""
    return UserErrors(name, *errors, *EVERY_MUTATION)


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
        raise MultipleMutations(
            f"one Idempotency-Key names one mutation, and this request selects {len(fields)} "
            f"({', '.join(fields)}); send each in its own request with its own key, or award "
            "many purchases with awardPointsBatch")
    return call_of(ctx, partner)


def call_of(ctx: RequestContext, partner: PartnerPrincipal) -> Call:
    """The call of a request selecting one mutation field: its Idempotency-Key checked."""
    key = ctx.headers.get(idempotency_key.HEADER.lower(), "").strip()
    if not key:
        raise IdempotencyKeyMissing("mutations need an Idempotency-Key header (covered by the "
                                    "signature)", field=IDEMPOTENCY_FIELD)
    wrong = idempotency_key.problem(key)
    if wrong:
        raise IdempotencyKeyInvalid(wrong, field=IDEMPOTENCY_FIELD)
    return Call(ctx, partner, key)


# The ledger names its own parameters; userErrors name what the partner sent.
SENT_AS = {"idempotencyKey": IDEMPOTENCY_FIELD}


class PartnerMutation(HubMutation):
    """A partner's mutation: `scope` is what its key must carry; `execute` gets the checked
    call (caller, scope, Idempotency-Key) and the input."""

    class Meta:
        abstract = True

    scope: ClassVar[str]
    renamed: ClassVar[Mapping[str, str]] = SENT_AS

    @classmethod
    def execute(cls, call: Call, input: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> Any:
        return cls.execute(begin(info, cls.scope), input)

    @classmethod
    def answer(cls, ctx: RequestContext, input: Any) -> Any:
        """What `mutate` returns, for a request known to select this one field and nothing else
        (a persisted operation, infra/persisted_operations.py): graphql-core's `info` is only
        needed to find out what `begin` checks for a document it has never seen."""
        return cls.carry_out(lambda: cls.execute(call_of(ctx, ctx.partner(cls.scope)), input),
                       None, input)

def every_problem(cls: Any, info: graphene.ResolveInfo, input: Any) -> Any:
    """A `mutate` for writes whose refusal lists problems (a campaign's or a reward's definition, a
    code upload): run it, and answer each problem as a userError of its own."""
    problems: list[Any] = []

    def refused_with(error: Any) -> dict[str, Any]:
        problems.extend(getattr(error, "problems", ()))
        return {}

    payload = run_mutation(cls._meta.output, cls.errors, lambda: cls.perform(info, input),
                           renamed=cls.renamed, refused_with=refused_with)
    if len(problems) > 1:
        payload.user_errors = [cls.errors.type(field=p.field or None, code=p.code,
                                               message=p.message) for p in problems]
    return payload
