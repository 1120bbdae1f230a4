"""`userErrors { field code message }`: how a mutation says no, in the style partners know."""

from __future__ import annotations

import graphene

from network.ledger.errors import LedgerError


class UserError(graphene.ObjectType):
    field = graphene.String(description="The input field at fault, named as sent (cardNumber, "
                                        "lines.3.amount, or a header such as Idempotency-Key); "
                                        "null when no one field is.")
    code = graphene.String(required=True, description="A stable machine-readable code.")
    message = graphene.String(required=True, description="What went wrong, for a person.")


def user_errors_field(description: str | None = None) -> graphene.List:
    """Every payload's `userErrors: [UserError!]!`."""
    return graphene.List(graphene.NonNull(UserError), required=True, description=description)


def user_errors(exc: LedgerError) -> list[UserError]:
    return [UserError(field=exc.field, code=exc.code, message=exc.message)]
