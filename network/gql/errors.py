"""How a mutation says no: `userErrors { field code message }`, in the style partners know, with
`code` an enum of exactly the codes that mutation can answer.

Each mutation declares the error classes it may meet (`HubError` subclasses, or a selection of
a family's codes, `WalletError.only("INVALID_ID")`); `UserErrors(name, ...)` turns that into the
SDL's `<name>ErrorCode` enum and `<name>Error` type, and `run_mutation`
(network/gql/mutation.py) turns a refusal into that type. Enum values are the codes themselves,
so the wire carries the same strings as before. Codes that never reach userErrors are in no
enum: IDEMPOTENCY_IN_PROGRESS (HTTP 409), FORBIDDEN, the HTTP-level authentication codes and
INTERNAL_ERROR are answered in `errors`.
"""

from __future__ import annotations

from typing import Any

import graphene

from network.errors import ErrorCodes, HubError, codes_of

FIELD_DOC = ("The input field at fault, named as sent (cardNumber, lines.3.amount, or a header "
             "such as Idempotency-Key); null when no one field is.")


class UserError(graphene.ObjectType):
    """The userErrors of a mutation that never refuses (always empty)."""

    field = graphene.String(description=FIELD_DOC)
    code = graphene.String(required=True, description="A stable machine-readable code.")
    message = graphene.String(required=True, description="What went wrong, for a person.")


class UserErrors:
    """The userErrors of one mutation: its `<name>Error` type and `<name>ErrorCode` enum."""

    def __init__(self, name: str, *errors: type[HubError] | ErrorCodes) -> None:
        self.name = name
        self.codes = codes_of(*errors)
        if not self.codes:  # GraphQL has no empty enums
            self.type = UserError
            return
        self.enum = graphene.Enum(f"{name}ErrorCode", [(code, code) for code in self.codes],
                                  description=f"Every code {name}'s userErrors can carry.")
        self.type: type[graphene.ObjectType] = type(f"{name}Error", (graphene.ObjectType,), {
            "__doc__": f"Why {name} refused (nothing was written).",
            "field": graphene.String(description=FIELD_DOC),
            "code": self.enum(required=True, description="A stable machine-readable code."),
            "message": graphene.String(required=True, description="What went wrong, for a "
                                                                  "person."),
        })

    def field(self, description: str | None = None) -> graphene.List:
        """The payload's `userErrors: [<name>Error!]!`."""
        return graphene.List(graphene.NonNull(self.type), required=True,
                             description=description)

    def declares(self, error: HubError) -> bool:
        return error.code in self.codes

    def of(self, error: HubError, field: str | None = None) -> list[Any]:
        """`error` as this mutation's userErrors (`field` renames its field)."""
        return [self.type(field=field if field is not None else error.field,  # type: ignore[call-arg]
                          code=error.code, message=error.message)]
