"""requestJoinCode and joinNetwork: self-enrolment over the member API.

The same flow as the /join page (network/wallet/join.py): a code to the address, then the code
for a card and a bearer token. Neither needs a principal; what they reveal is what sign-in
reveals (nothing: a member's address gets a sign-in code, a stranger's a join code, and both
answers read alike).
"""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from network import cards, members
from network.gql.errors import UserErrors
from network.gql.me_signin import ADDRESS, client_ip, signin_for
from network.gql.me_types import MemberSession, ctx_of
from network.gql.mutation import HubMutation
from network.notifications.inline import kick
from network.signin.addresses import mask
from network.wallet.errors import WalletError
from network.wallet.join import Join
from network.wallet.qr import card_svg


def join_for(info: graphene.ResolveInfo) -> Join:
    return Join(signin_for(info))


class RequestJoinCodeInput(graphene.InputObjectType):
    address = graphene.String(required=True, description="A phone number (with its country "
                                                         "code, or as dialled in the network's "
                                                         "country) or an email address.")
    language = graphene.String(description="en or fa: the message's language and the new "
                                           "member's preferred language. Default: en.")
    referrer_code = graphene.String(description="The referral code of the member who invited "
                                                "them (their link's ?ref=); optional.")


REQUEST_JOIN_CODE_ERRORS = UserErrors("RequestJoinCode", ADDRESS,
                                      WalletError.only("INVALID_LOCALE"),
                                      members.ReferrerNotFound)


class RequestJoinCodePayload(graphene.ObjectType):
    channel = graphene.String(description="email or sms.")
    masked_address = graphene.String()
    expires_in_seconds = graphene.Int()
    user_errors = REQUEST_JOIN_CODE_ERRORS.field()


class RequestJoinCode(HubMutation):
    """Send a one-time code to join (to a member's address: a sign-in code). Answers alike for
    members and strangers."""

    class Arguments:
        input = RequestJoinCodeInput(required=True)

    errors = REQUEST_JOIN_CODE_ERRORS
    Output = RequestJoinCodePayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: dict[str, Any]) -> RequestJoinCodePayload:
        join = join_for(info)
        address = join.request_code(input.get("address"), client_ip=client_ip(info),
                                    language=input.get("language"),
                                    raw_referrer=input.get("referrer_code"))
        kick(ctx_of(info).db)
        return RequestJoinCodePayload(
            channel=address.channel, masked_address=mask(address),
            expires_in_seconds=int(join.signin.policy.ttl.total_seconds()), user_errors=[])


class JoinNetworkInput(graphene.InputObjectType):
    address = graphene.String(required=True)
    code = graphene.String(required=True, description="The 6 digits that were sent.")
    language = graphene.String(description="en or fa; the new member's preferred language.")
    referrer_code = graphene.String(description="As given to requestJoinCode.")


JOIN_NETWORK_ERRORS = UserErrors("JoinNetwork", ADDRESS, WalletError.only(
    "INVALID_LOCALE", "INVALID_CODE_FORMAT", "CODE_INVALID", "TOO_MANY_ATTEMPTS",
    "CODE_EXPIRED"), members.ReferrerNotFound)


class JoinNetworkPayload(graphene.ObjectType):
    token = graphene.String(description="Send as `Authorization: Bearer <token>`. Shown once.")
    session = graphene.Field(MemberSession)
    member_id = graphene.ID(description="The Member id of `me`.")
    card_number = graphene.String(description="The new card, ready to use at once.")
    card_qr_svg = graphene.String(description="The card number as a QR code (inline SVG).")
    joined = graphene.Boolean(description="true: a new member; false: the address was a "
                                          "member's already, and this signed them in.")
    user_errors = JOIN_NETWORK_ERRORS.field()


class JoinNetwork(HubMutation):
    """Trade the code for a membership (card and QR at once) and a bearer token."""

    class Arguments:
        input = JoinNetworkInput(required=True)

    errors = JOIN_NETWORK_ERRORS
    Output = JoinNetworkPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> JoinNetworkPayload:
        request = ctx_of(info).request
        agent = request.headers.get("user-agent", "") if request is not None else ""
        done = join_for(info).verify(
            input.get("address"), input.get("code"), client_ip=client_ip(info), kind="bearer",
            user_agent=agent, language=input.get("language"),
            raw_referrer=input.get("referrer_code"))
        kick(ctx_of(info).db)
        card = done.member.card_number
        return JoinNetworkPayload(
            token=done.token, session=MemberSession.of(done.session),
            member_id=relay.Node.to_global_id("Member", done.member.id), card_number=card,
            card_qr_svg=card_svg(card, "Member card") if cards.is_valid(card) else None,
            joined=done.joined, user_errors=[])
