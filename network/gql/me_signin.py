"""requestSignInCode and verifySignInCode: how an API client gets a member's bearer token.

Both work without a principal (that is the point); their limits and outcomes are the same as
the web page's, because both call network.signin.service.
"""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from network.gql.errors import UserErrors
from network.gql.me_types import MemberSession, ctx_of
from network.gql.mutation import HubMutation
from network.notifications.inline import kick
from network.signin.addresses import mask
from network.signin.service import SignIn
from network.wallet.errors import WalletError
from network.web import i18n


def signin_for(info: graphene.ResolveInfo) -> SignIn:
    """One SignIn per request context (cheap: it only derives keys)."""
    ctx = ctx_of(info)
    if "signin" not in ctx.cache:
        ctx.cache["signin"] = SignIn(ctx.db, ctx.settings, clock=lambda: ctx.now)
    return ctx.cache["signin"]


def client_ip(info: graphene.ResolveInfo) -> str:
    request = ctx_of(info).request
    return request.client.host if request is not None and request.client else "unknown"


class RequestSignInCodeInput(graphene.InputObjectType):
    address = graphene.String(required=True, description="A phone number (with its country "
                                                         "code, or as dialled in the network's "
                                                         "country) or an email address.")
    language = graphene.String(description="en or fa, for the message; default: the member's.")


# The address as typed, and how often it (and the client) may ask or try.
ADDRESS = WalletError.only("ADDRESS_REQUIRED", "INVALID_EMAIL", "INVALID_PHONE", "RATE_LIMITED")
REQUEST_CODE_ERRORS = UserErrors("RequestSignInCode", ADDRESS,
                                 WalletError.only("INVALID_LOCALE"))
VERIFY_CODE_ERRORS = UserErrors("VerifySignInCode", ADDRESS, WalletError.only(
    "INVALID_CODE_FORMAT", "CODE_INVALID", "TOO_MANY_ATTEMPTS", "CODE_EXPIRED"))


class RequestSignInCodePayload(graphene.ObjectType):
    channel = graphene.String(description="email or sms.")
    masked_address = graphene.String()
    expires_in_seconds = graphene.Int()
    user_errors = REQUEST_CODE_ERRORS.field()


class RequestSignInCode(HubMutation):
    """Send a one-time code. Answers alike for members and strangers, so it reveals nobody."""

    class Arguments:
        input = RequestSignInCodeInput(required=True)

    errors = REQUEST_CODE_ERRORS
    Output = RequestSignInCodePayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: dict[str, Any]) -> RequestSignInCodePayload:
        signin = signin_for(info)
        language = input.get("language")
        if language is not None and language not in i18n.SUPPORTED:
            raise WalletError("INVALID_LOCALE", "language is 'en' or 'fa'.", field="language")
        address = signin.request_code(input.get("address"), client_ip=client_ip(info),
                                      language=language)
        kick(ctx_of(info).db)
        return RequestSignInCodePayload(
            channel=address.channel, masked_address=mask(address),
            expires_in_seconds=int(signin.policy.ttl.total_seconds()), user_errors=[])


class VerifySignInCodeInput(graphene.InputObjectType):
    address = graphene.String(required=True)
    code = graphene.String(required=True, description="The 6 digits that were sent.")


class VerifySignInCodePayload(graphene.ObjectType):
    token = graphene.String(description="Send as `Authorization: Bearer <token>`. Shown once.")
    session = graphene.Field(MemberSession)
    member_id = graphene.ID(description="The Member id of `me`.")
    user_errors = VERIFY_CODE_ERRORS.field()


class VerifySignInCode(HubMutation):
    class Arguments:
        input = VerifySignInCodeInput(required=True)

    errors = VERIFY_CODE_ERRORS
    Output = VerifySignInCodePayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: dict[str, Any]) -> VerifySignInCodePayload:
        request = ctx_of(info).request
        agent = request.headers.get("user-agent", "") if request is not None else ""
        token, session = signin_for(info).verify(
            input.get("address"), input.get("code"), client_ip=client_ip(info),
            kind="bearer", user_agent=agent)
        return VerifySignInCodePayload(
            token=token, session=MemberSession.of(session),
            member_id=relay.Node.to_global_id("Member", session.member_id), user_errors=[])
