"""enrolMember: one member of the whole network, whichever partner enrols them."""

from __future__ import annotations

from typing import Any

import graphene

from network import members
from network.errors import HubError
from network.ledger.errors import InvalidCardNumber, InvalidEmail, InvalidInput, InvalidPhone
from partners.gql.mutation_support import Call, PartnerMutation, partner_errors
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
    birth_date = graphene.Date(description="YYYY-MM-DD, from 1900-01-01 to today; for birthday "
                                           "bonuses.")
    referrer_code = graphene.String(description="The referral code of the member who invited "
                                                "this one (case and dashes ignored).")


ENROL_ERRORS = partner_errors("EnrolMember", InvalidCardNumber, InvalidPhone, InvalidEmail,
                              members.MemberExists, members.ReferrerNotFound, InvalidInput)


class EnrolMemberPayload(graphene.ObjectType):
    member = graphene.Field(PartnerMember, description="The new member; on MEMBER_EXISTS for a "
                                                       "phone or email, the existing one with "
                                                       "it (null for a card number).")
    user_errors = ENROL_ERRORS.field()


def _existing(info: graphene.ResolveInfo, data: dict[str, Any]) -> PartnerMember | None:
    ctx = info.context
    secret = ctx.settings.secret_key

    def load(conn: Any) -> PartnerMember | None:
        for field in ("phone", "email"):
            if data.get(field):
                found = members.find(conn, secret, **{field: data[field]},
                                    country=ctx.settings.default_country)
                if found is not None:
                    return PartnerMember.from_member(conn, ctx, found)
        return None

    return ctx.db.read(load)


class EnrolMember(PartnerMutation):
    class Arguments:
        input = EnrolMemberInput(required=True)

    errors = ENROL_ERRORS
    Output = EnrolMemberPayload
    scope = ENROL

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> EnrolMemberPayload:
        member = members.enrol(
            call.ctx.db, secret=call.ctx.settings.secret_key, scope=call.scope,
            idempotency_key=call.idempotency_key, enrolled_by=call.partner.party_id,
            card_number=input.get("card_number"), phone=input.get("phone"),
            email=input.get("email"), display_name=input.get("display_name"),
            locale=input.get("locale") or "en", country=call.ctx.settings.default_country,
            birth_date=input.get("birth_date"), referrer_code=input.get("referrer_code"),
            timezone=call.ctx.settings.timezone,
        )
        view = call.ctx.db.read(lambda conn: PartnerMember.from_member(conn, call.ctx, member))
        return EnrolMemberPayload(member=view, user_errors=[])

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: dict[str, Any],
                error: HubError) -> dict[str, Any]:
        """On MEMBER_EXISTS for a phone or email, the member who has it."""
        taken = isinstance(error, members.MemberExists) and error.field in ("phone", "email")
        return {"member": _existing(info, input) if taken else None}
