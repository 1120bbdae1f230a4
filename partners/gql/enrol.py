"""enrolMember: one member of the whole network, whichever partner enrols them."""

from __future__ import annotations

from typing import Any

import graphene

from network import members
from network.gql.errors import user_errors, user_errors_field
from network.ledger.errors import IdempotencyInProgress, LedgerError
from partners.gql.mutation_support import Call, as_sent, begin
from partners.gql.types import PartnerMember
from partners.scopes import ENROL


class EnrolMemberInput(graphene.InputObjectType):
    card_number = graphene.String(description="16 digits with a Luhn check digit; the hub "
                                              "issues one when omitted.")
    phone = graphene.String(description="With its country code (+98 935 111 2233, or 00 for +), "
                                        "or as dialled in the network's country (09351112233); "
                                        "Persian and other decimal digits, spaces, dashes and "
                                        "brackets accepted; stored as E.164, encrypted; unique "
                                        "across the network.")
    email = graphene.String(description="At most 254 characters; stored encrypted; unique across "
                                        "the network.")
    display_name = graphene.String(description="At most 200 characters.")
    locale = graphene.String(description="en or fa (en when omitted or null).",
                             default_value="en")


class EnrolMemberPayload(graphene.ObjectType):
    member = graphene.Field(PartnerMember, description="The new member; on MEMBER_EXISTS for a "
                                                       "phone or email, the existing one with "
                                                       "it (null for a card number).")
    user_errors = user_errors_field()


def _existing(call: Call, data: dict[str, Any]) -> PartnerMember | None:
    secret = call.ctx.settings.secret_key

    def load(conn: Any) -> PartnerMember | None:
        for field in ("phone", "email"):
            if data.get(field):
                found = members.find(conn, secret, **{field: data[field]},
                                    country=call.ctx.settings.default_country)
                if found is not None:
                    return PartnerMember.from_member(conn, call.ctx, found)
        return None

    return call.ctx.db.read(load)


class EnrolMember(graphene.Mutation):
    class Arguments:
        input = EnrolMemberInput(required=True)

    Output = EnrolMemberPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> EnrolMemberPayload:
        try:
            call = begin(info, ENROL)
            member = members.enrol(
                call.ctx.db, secret=call.ctx.settings.secret_key, scope=call.scope,
                idempotency_key=call.idempotency_key, enrolled_by=call.partner.party_id,
                card_number=input.get("card_number"), phone=input.get("phone"),
                email=input.get("email"), display_name=input.get("display_name"),
                locale=input.get("locale") or "en",
                country=call.ctx.settings.default_country,
            )
        except IdempotencyInProgress:
            raise
        except members.MemberExists as exc:
            existing = _existing(call, input) if exc.field in ("phone", "email") else None
            return EnrolMemberPayload(member=existing, user_errors=user_errors(exc))
        except LedgerError as exc:
            return EnrolMemberPayload(member=None, user_errors=user_errors(as_sent(exc)))
        view = call.ctx.db.read(lambda conn: PartnerMember.from_member(conn, call.ctx, member))
        return EnrolMemberPayload(member=view, user_errors=[])
