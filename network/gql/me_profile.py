"""The member's profile over the API: `me.profile` and `updateProfile`.

A save that makes the profile complete for the first time raises `profile_completed` for the
programme (network/profile.py), in the save's own transaction.
"""

from __future__ import annotations

from typing import Any

import graphene

from network import profile
from network.gql.errors import UserErrors
from network.gql.me_types import ctx_of, member_part
from network.gql.mutation import HubMutation
from network.ledger.errors import MemberNotFound
from network.wallet.errors import WalletError


class MemberProfile(graphene.ObjectType):
    """What the member tells the network about themselves; complete = name, birth date, city
    and at least one interest."""

    display_name = graphene.String()
    birth_date = graphene.Date()
    city = graphene.String()
    language = graphene.String(required=True, description="en or fa: the wallet's and the "
                                                          "messages' language.")
    interests = graphene.List(graphene.NonNull(graphene.String), required=True)
    available_interests = graphene.List(graphene.NonNull(graphene.String), required=True,
                                        description="The network's list to choose from.")
    complete = graphene.Boolean(required=True)
    completed_at = graphene.DateTime(description="When it was first complete.")

    @classmethod
    def of(cls, found: profile.Profile) -> MemberProfile:
        return cls(display_name=found.display_name, birth_date=found.birth_date, city=found.city,
                   language=found.language, interests=list(found.interests),
                   available_interests=list(profile.INTERESTS), complete=found.complete,
                   completed_at=found.completed_at)


@member_part("profile")
def load(info: graphene.ResolveInfo, member_id: int) -> MemberProfile:
    found = ctx_of(info).db.read(profile.get, member_id)
    if found is None:
        raise LookupError(f"member {member_id} of a live session is missing")
    return MemberProfile.of(found)


class UpdateProfileInput(graphene.InputObjectType):
    display_name = graphene.String(description="\"\" removes it; omit to keep.")
    birth_date = graphene.String(description="YYYY-MM-DD; \"\" removes it.")
    city = graphene.String(description="\"\" removes it.")
    language = graphene.String(description="en or fa.")
    interests = graphene.List(graphene.NonNull(graphene.String),
                              description="The whole new list (from availableInterests).")


UPDATE_PROFILE_ERRORS = UserErrors("UpdateProfile", WalletError.only(
    "NAME_TOO_LONG", "INVALID_NAME", "INVALID_BIRTH_DATE", "CITY_TOO_LONG", "INVALID_CITY",
    "INVALID_LOCALE", "UNKNOWN_INTEREST"), MemberNotFound)


class UpdateProfilePayload(graphene.ObjectType):
    profile = graphene.Field(MemberProfile)
    completed_now = graphene.Boolean(description="This save completed the profile for the "
                                                 "first time (the programme was told).")
    user_errors = UPDATE_PROFILE_ERRORS.field()


class UpdateProfile(HubMutation):
    class Arguments:
        input = UpdateProfileInput(required=True)

    errors = UPDATE_PROFILE_ERRORS
    Output = UpdateProfilePayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> UpdateProfilePayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        change = profile.ProfileChange(
            display_name=input.get("display_name"), birth_date=input.get("birth_date"),
            city=input.get("city"), language=input.get("language"),
            interests=input.get("interests"))
        request = ctx.request
        saved = profile.update_profile(
            ctx.db, member_id, change, now=ctx.now, timezone=ctx.settings.timezone,
            request_id=request.headers.get("x-request-id") if request is not None else None)
        return UpdateProfilePayload(profile=MemberProfile.of(saved.profile),
                                    completed_now=saved.completed_now, user_errors=[])
