"""`userErrors { field code message }`: how a mutation says no, in the style partners know."""

from __future__ import annotations

import graphene

from network.ledger.errors import LedgerError


class UserError(graphene.ObjectType):
    field = graphene.String(description="The input field at fault, in the input's own naming.")
    code = graphene.String(required=True, description="A stable machine-readable code.")
    message = graphene.String(required=True, description="What went wrong, for a person.")


def user_errors(exc: LedgerError) -> list[UserError]:
    return [UserError(field=exc.field, code=exc.code, message=exc.message)]
