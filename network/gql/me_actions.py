"""What a signed-in member can do over the API: donate, update contact details, sign out,
revoke a session. Each needs the member's bearer token; refusals come back as userErrors with
nothing written."""

from __future__ import annotations

from typing import Any

import graphene
from graphql_relay import from_global_id

from network.gql.errors import user_errors, user_errors_field
from network.gql.me_signin import signin_for
from network.gql.me_types import Member, Wallet, WalletData, WalletEntry, ctx_of
from network.gql.pagination import parse_key
from network.ledger.errors import IdempotencyInProgress, LedgerError
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


class DonatePayload(graphene.ObjectType):
    entry = graphene.Field(WalletEntry)
    wallet = graphene.Field(Wallet)
    user_errors = user_errors_field()


class Donate(graphene.Mutation):
    class Arguments:
        input = DonateInput(required=True)

    Output = DonatePayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> Any:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        try:
            charity_id = decode(input.get("charity_id"), "Charity", "charityId")
            points = donations.parse_points(input.get("points"))
            receipt = donations.donate(ctx.db, member_id, charity_id, points,
                                       input.get("idempotency_key") or "", now=ctx.now)
        except IdempotencyInProgress:
            raise
        except LedgerError as exc:
            return DonatePayload(user_errors=user_errors(exc))
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


class UpdateContactPayload(graphene.ObjectType):
    member = graphene.Field(Member)
    user_errors = user_errors_field()


class UpdateContact(graphene.Mutation):
    class Arguments:
        input = UpdateContactInput(required=True)

    Output = UpdateContactPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> Any:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id

        def given(name: str) -> object:
            return KEEP if input.get(name) is None else input[name]

        change = ContactChange(email=given("email"), phone=given("phone"),
                               display_name=given("display_name"), locale=given("locale"))
        try:
            member = update_contact(ctx.db, ctx.settings.secret_key, member_id, change, ctx.now,
                                    ctx.settings.default_country)
        except WalletError as exc:
            return UpdateContactPayload(user_errors=user_errors(exc))
        kick(ctx.db)
        return UpdateContactPayload(member=Member.of(member), user_errors=[])


class SignOutInput(graphene.InputObjectType):
    everywhere = graphene.Boolean(default_value=False,
                                  description="End every session of the member, not just this.")


class SignOutPayload(graphene.ObjectType):
    revoked = graphene.Int(required=True, description="How many sessions were ended.")
    user_errors = user_errors_field()


class SignOut(graphene.Mutation):
    class Arguments:
        input = SignOutInput(required=True)

    Output = SignOutPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> Any:
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


class RevokeSessionPayload(graphene.ObjectType):
    revoked = graphene.Boolean(required=True)
    user_errors = user_errors_field()


class RevokeSession(graphene.Mutation):
    class Arguments:
        input = RevokeSessionInput(required=True)

    Output = RevokeSessionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> Any:
        principal = ctx_of(info).member()
        try:
            session_id = decode(input.get("session_id"), "MemberSession", "sessionId")
            if not signin_for(info).revoke(principal.member_id, session_id):
                raise WalletError("SESSION_NOT_FOUND", "You have no live session with this id.",
                                  field="sessionId")
        except WalletError as exc:
            return RevokeSessionPayload(revoked=False, user_errors=user_errors(exc))
        return RevokeSessionPayload(revoked=True, user_errors=[])
