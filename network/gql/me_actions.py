"""What a signed-in member can do over the API: donate, update contact details, sign out,
revoke a session. Each needs the member's bearer token; refusals come back as userErrors with
nothing written."""

from __future__ import annotations

from typing import Any

import graphene
from graphql_relay import from_global_id

from network.errors import HubError
from network.gql.errors import UserErrors
from network.gql.me_signin import signin_for
from network.gql.me_types import Member, Wallet, WalletData, WalletEntry, ctx_of
from network.gql.mutation import HubMutation
from network.gql.pagination import parse_key
from network.ledger.errors import (
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    MemberNotFound,
)
from network.notifications.inline import kick
from network.wallet import donations, history
from network.wallet.contact import KEEP, ContactChange, update_contact
from network.wallet.errors import WalletError


def decode(value: str | None, type_name: str, field: str) -> int:
    try:
        kind, raw = from_global_id(value or "")
    except Exception as exc:  # noqa: BLE001 - graphql_relay raises several types on junk
        raise WalletError("INVALID_ID", f"{field} is not a valid id.", field=field) from exc
    # parse_key, not str.isdigit: that also takes '²' (int() then fails: INTERNAL_ERROR), '١'
    # (read as another id) and numbers past BIGINT (an overflow in PostgreSQL).
    key = parse_key(raw) if kind == type_name else None
    if key is None:
        raise WalletError("INVALID_ID", f"{field} is not a {type_name} id.", field=field)
    return key


class DonateInput(graphene.InputObjectType):
    charity_id = graphene.ID(required=True, description="A Charity id (see `charities`).")
    points = graphene.Int(required=True)
    idempotency_key = graphene.String(required=True, description="Repeat it to retry safely.")


DONATE_ERRORS = UserErrors(
    "Donate", WalletError.only("INVALID_ID", "INVALID_AMOUNT", "AMOUNT_TOO_LARGE",
                               "CHARITY_NOT_FOUND", "INSUFFICIENT_POINTS"),
    MemberNotFound, IdempotencyKeyMissing, IdempotencyKeyInvalid, IdempotencyKeyReused)


class DonatePayload(graphene.ObjectType):
    entry = graphene.Field(WalletEntry)
    wallet = graphene.Field(Wallet)
    user_errors = DONATE_ERRORS.field()


class Donate(HubMutation):
    class Arguments:
        input = DonateInput(required=True)

    errors = DONATE_ERRORS
    Output = DonatePayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> DonatePayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        charity_id = decode(input.get("charity_id"), "Charity", "charityId")
        points = donations.parse_points(input.get("points"))
        receipt = donations.donate(ctx.db, member_id, charity_id, points,
                                   input.get("idempotency_key") or "", now=ctx.now,
                                   settings=ctx.settings)
        kick(ctx.db)  # the receipt
        entry = ctx.db.read(history.entry, member_id, receipt.entry_id)
        wallet = WalletData.load(ctx, member_id)
        return DonatePayload(entry=WalletEntry.of(member_id, entry) if entry else None,
                             wallet=wallet, user_errors=[])


class UpdateContactInput(graphene.InputObjectType):
    email = graphene.String(description="New email; \"\" removes it; omit to keep.")
    phone = graphene.String(description="New phone, with its country code or as dialled in the "
                                        "network's country; \"\" removes it.")
    display_name = graphene.String(description="\"\" removes it.")
    locale = graphene.String(description="en or fa.")


UPDATE_CONTACT_ERRORS = UserErrors("UpdateContact", WalletError.only(
    "INVALID_EMAIL", "INVALID_PHONE", "NAME_TOO_LONG", "INVALID_NAME", "INVALID_LOCALE",
    "MEMBER_NOT_FOUND", "CONTACT_REQUIRED", "EMAIL_TAKEN", "PHONE_TAKEN"))


class UpdateContactPayload(graphene.ObjectType):
    member = graphene.Field(Member)
    user_errors = UPDATE_CONTACT_ERRORS.field()


class UpdateContact(HubMutation):
    class Arguments:
        input = UpdateContactInput(required=True)

    errors = UPDATE_CONTACT_ERRORS
    Output = UpdateContactPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> UpdateContactPayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id

        def given(name: str) -> object:
            return KEEP if input.get(name) is None else input[name]

        change = ContactChange(email=given("email"), phone=given("phone"),
                               display_name=given("display_name"), locale=given("locale"))
        member = update_contact(ctx.db, ctx.settings.secret_key, member_id, change, ctx.now,
                                ctx.settings.default_country)
        kick(ctx.db)
        return UpdateContactPayload(member=Member.of(member), user_errors=[])


class SignOutInput(graphene.InputObjectType):
    everywhere = graphene.Boolean(default_value=False,
                                  description="End every session of the member, not just this.")


SIGN_OUT_ERRORS = UserErrors("SignOut")  # none: signing out is never refused


class SignOutPayload(graphene.ObjectType):
    revoked = graphene.Int(required=True, description="How many sessions were ended.")
    user_errors = SIGN_OUT_ERRORS.field("Always empty: signing out is never refused.")


class SignOut(HubMutation):
    class Arguments:
        input = SignOutInput(required=True)

    errors = SIGN_OUT_ERRORS
    Output = SignOutPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> SignOutPayload:
        principal = ctx_of(info).member()
        signin = signin_for(info)
        if input.get("everywhere"):
            ids = [s.id for s in signin.sessions(principal.member_id)]
        else:
            ids = [principal.session_id] if principal.session_id is not None else []
        revoked = sum(signin.revoke(principal.member_id, i) for i in ids)
        return SignOutPayload(revoked=revoked, user_errors=[])


class RevokeSessionInput(graphene.InputObjectType):
    session_id = graphene.ID(required=True, description="A MemberSession id.")


REVOKE_SESSION_ERRORS = UserErrors("RevokeSession",
                                   WalletError.only("INVALID_ID", "SESSION_NOT_FOUND"))


class RevokeSessionPayload(graphene.ObjectType):
    revoked = graphene.Boolean(required=True)
    user_errors = REVOKE_SESSION_ERRORS.field()


class RevokeSession(HubMutation):
    class Arguments:
        input = RevokeSessionInput(required=True)

    errors = REVOKE_SESSION_ERRORS
    Output = RevokeSessionPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> RevokeSessionPayload:
        principal = ctx_of(info).member()
        session_id = decode(input.get("session_id"), "MemberSession", "sessionId")
        if not signin_for(info).revoke(principal.member_id, session_id):
            raise WalletError("SESSION_NOT_FOUND", "You have no live session with this id.",
                              field="sessionId")
        return RevokeSessionPayload(revoked=True, user_errors=[])

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: dict[str, Any],
                error: HubError) -> dict[str, Any]:
        return {"revoked": False}
