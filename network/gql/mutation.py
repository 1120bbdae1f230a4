"""The one way every GraphQL slice writes a mutation.

A mutation declares up front what it takes (`Arguments`), answers (`Output`) and may refuse
(`errors`, a `UserErrors`), and does its one use case in `perform`; `HubMutation.mutate`
runs it through `run_mutation`, which turns a refusal into the payload's `userErrors` with
nothing written. Partner mutations add their scope and Idempotency-Key on top
(partners/gql/mutation_support.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import graphene

from network.errors import HubError
from network.gql.errors import UserErrors

log = logging.getLogger("pointsnet.graphql")
P = TypeVar("P")


def run_mutation(payload: Callable[..., P], errors: UserErrors, work: Callable[[], P], *,
                 renamed: Mapping[str, str] | None = None,
                 refused_with: Callable[[HubError], Mapping[str, Any]] | None = None) -> P:
    """Run `work`; a refusal whose code the mutation declares becomes `payload(user_errors=...)`
    (nothing was written), its field renamed to the one the caller sent (`renamed`), with the
    payload's other fields from `refused_with(error)`.

    Anything else propagates to the endpoint, which answers it in `errors` with its code:
    IDEMPOTENCY_IN_PROGRESS is meant to (HTTP 409, retry with the same key); an undeclared code
    is a bug in the mutation's declaration, logged so it gets fixed."""
    try:
        return work()
    except HubError as error:
        if not errors.declares(error):
            if error.code != "IDEMPOTENCY_IN_PROGRESS":
                log.error("%s refused with %s, which it does not declare", errors.name,
                          error.code, extra={"undeclared_code": error.code})
            raise
        if renamed and error.field in renamed:
            error.field = renamed[error.field]
        more = refused_with(error) if refused_with is not None else {}
        return payload(user_errors=errors.of(error), **more)


class HubMutation(graphene.Mutation):
    """A mutation taking one `input`: subclasses set `errors` and write `perform`."""

    class Meta:
        abstract = True

    errors: ClassVar[UserErrors]
    # Input names the domain uses -> the names the caller sent, for userErrors' `field`.
    renamed: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> Any:
        """The use case; raise a HubError to refuse (before anything is written)."""
        raise NotImplementedError

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: Any,
                error: HubError) -> Mapping[str, Any]:
        """The payload's fields besides userErrors when refused (null unless said here)."""
        return {}

    @classmethod
    def mutate(cls, root: object, info: graphene.ResolveInfo, input: Any) -> Any:
        return cls.carry_out(lambda: cls.perform(info, input), info, input)

    @classmethod
    def carry_out(cls, work: Callable[[], Any], info: Any, input: Any) -> Any:
        """`work` (the use case) through `run_mutation` with this mutation's declarations (not
        named `run`: a payload may have an output field of that name, settlement's has);
        `info` is graphql-core's, or None on a persisted operation's lean path (whose
        mutations' `refused` do not read it)."""
        return run_mutation(cls._meta.output, cls.errors, work, renamed=cls.renamed,
                            refused_with=lambda error: cls.refused(info, input, error))
