"""The member's privacy rights over the API: `me.dataExport` (everything held about them, as
JSON) and `eraseMyData` (network/privacy.py says what goes and what the ledger keeps)."""

from __future__ import annotations

from typing import Any

import graphene

from network import privacy
from network.gql.errors import UserErrors
from network.gql.me_types import ctx_of, member_part
from network.gql.mutation import HubMutation
from network.ledger.errors import MemberNotFound
from network.wallet.errors import WalletError


@member_part("dataExport")
def data_export(info: graphene.ResolveInfo, member_id: int) -> dict[str, Any]:
    ctx = ctx_of(info)
    return ctx.db.read(privacy.export, member_id, ctx.settings.secret_key, ctx.now)


class EraseMyDataInput(graphene.InputObjectType):
    confirm = graphene.Boolean(required=True, description="true: yes, erase my personal data "
                                                          "now. It cannot be undone.")


ERASE_MY_DATA_ERRORS = UserErrors("EraseMyData", WalletError.only("ERASURE_NOT_CONFIRMED"),
                                  MemberNotFound)


class EraseMyDataPayload(graphene.ObjectType):
    erased = graphene.Boolean(required=True, description="true: done; this token and every "
                                                         "other session no longer work.")
    user_errors = ERASE_MY_DATA_ERRORS.field()


class EraseMyData(HubMutation):
    """Erase the member's personal data at once and end every session; the card stops
    working. The ledger keeps its entries (ids and points only)."""

    class Arguments:
        input = EraseMyDataInput(required=True)

    errors = ERASE_MY_DATA_ERRORS
    Output = EraseMyDataPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> EraseMyDataPayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        if input.get("confirm") is not True:
            raise WalletError("ERASURE_NOT_CONFIRMED", "Send confirm: true to erase your "
                              "personal data; it cannot be undone.", field="confirm")
        request = ctx.request
        privacy.erase(ctx.db, secret=ctx.settings.secret_key, member_id=member_id, now=ctx.now,
                      request_id=request.headers.get("x-request-id") if request else None)
        return EraseMyDataPayload(erased=True, user_errors=[])

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: dict[str, Any],
                error: Any) -> dict[str, Any]:
        return {"erased": False}
