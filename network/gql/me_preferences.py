"""The member's message preferences over GraphQL: `me { preferences }` and `updatePreferences`.

The same rules as the wallet page (network/notifications/preferences.py): programme messages on
by default per channel, marketing only with `wordingVersion` naming the consent words the app
showed (`preferences { marketingWording { version text } }`), quiet hours as HH:MM in the
member's time zone (null: the network's).
"""

from __future__ import annotations

from typing import Any

import graphene

from network.gql.errors import UserErrors
from network.gql.me_types import ctx_of, member_part
from network.gql.mutation import HubMutation
from network.notifications import preferences
from network.notifications.preferences import Change, PreferencesError


class QuietHours(graphene.ObjectType):
    start = graphene.String(required=True, description="HH:MM, the member's local time.")
    end = graphene.String(required=True, description="HH:MM; before start: ends the next day.")


class ConsentWording(graphene.ObjectType):
    version = graphene.String(required=True, description="Send it back as wordingVersion.")
    text = graphene.String(required=True, language=graphene.String(default_value="en"),
                           description="The exact words to show beside the marketing opt-in.")

    def resolve_text(self, info: graphene.ResolveInfo, language: str = "en") -> str:
        words = preferences.WORDINGS[self.version]
        return words.get(language, words["en"])


class MessagePreferences(graphene.ObjectType):
    """Which messages the member gets. Sign-in codes and security notices are always sent."""

    programme_sms = graphene.Boolean(required=True, description="Points earned, expiring, tier, "
                                                                "rewards... by SMS.")
    programme_email = graphene.Boolean(required=True)
    marketing_sms = graphene.Boolean(required=True, description="Offers; only after opt-in.")
    marketing_email = graphene.Boolean(required=True)
    quiet_hours = graphene.Field(QuietHours, description="Null: no quiet hours.")
    time_zone = graphene.String(description="IANA zone; null: the network's.")
    effective_time_zone = graphene.String(required=True)
    marketing_wording = graphene.Field(ConsentWording, required=True,
                                       description="The consent words in force now.")

    @classmethod
    def of(cls, prefs: preferences.Preferences) -> MessagePreferences:
        quiet = (QuietHours(start=preferences.clock_text(prefs.quiet[0]),
                            end=preferences.clock_text(prefs.quiet[1]))
                 if prefs.quiet is not None else None)
        return cls(programme_sms=prefs.programme_sms, programme_email=prefs.programme_email,
                   marketing_sms=prefs.marketing_sms, marketing_email=prefs.marketing_email,
                   quiet_hours=quiet, time_zone=prefs.time_zone,
                   effective_time_zone=prefs.zone.key,
                   marketing_wording=ConsentWording(version=preferences.WORDING_VERSION))


@member_part("preferences")
def load(info: graphene.ResolveInfo, member_id: int) -> MessagePreferences:
    ctx = ctx_of(info)
    return MessagePreferences.of(ctx.db.read(preferences.load, member_id,
                                             ctx.settings.timezone))


class QuietHoursInput(graphene.InputObjectType):
    start = graphene.String(required=True, description="HH:MM")
    end = graphene.String(required=True, description="HH:MM")


class UpdatePreferencesInput(graphene.InputObjectType):
    programme_sms = graphene.Boolean(description="Omit to keep.")
    programme_email = graphene.Boolean()
    marketing_sms = graphene.Boolean(description="true needs wordingVersion.")
    marketing_email = graphene.Boolean(description="true needs wordingVersion.")
    wording_version = graphene.String(description="The marketingWording version shown.")
    language = graphene.String(description="The language the wording was shown in (en, fa).")
    quiet_hours = graphene.Field(QuietHoursInput,
                                 description="Omit to keep; null switches quiet hours off.")
    time_zone = graphene.String(description="IANA zone; \"\" or null: the network's. Omit to "
                                            "keep.")


UPDATE_PREFERENCES_ERRORS = UserErrors("UpdatePreferences", PreferencesError.only(
    "INVALID_QUIET_HOURS", "INVALID_TIME_ZONE", "CONSENT_WORDING_OUTDATED"))


class UpdatePreferencesPayload(graphene.ObjectType):
    preferences = graphene.Field(MessagePreferences)
    user_errors = UPDATE_PREFERENCES_ERRORS.field()


def change_of(input: dict[str, Any]) -> Change:
    quiet: Any = "keep"
    if "quiet_hours" in input:
        given = input["quiet_hours"]
        quiet = None if given is None else (
            preferences.parse_clock(given["start"], "quietHours.start"),
            preferences.parse_clock(given["end"], "quietHours.end"))
    zone: Any = "keep"
    if "time_zone" in input:
        zone = preferences.check_zone(input["time_zone"])
    language = input.get("language") or "en"
    return Change(programme_sms=input.get("programme_sms"),
                  programme_email=input.get("programme_email"),
                  marketing_sms=input.get("marketing_sms"),
                  marketing_email=input.get("marketing_email"), quiet=quiet, time_zone=zone,
                  wording_version=input.get("wording_version"),
                  language=language if language in preferences.WORDINGS[
                      preferences.WORDING_VERSION] else "en")


class UpdatePreferences(HubMutation):
    class Arguments:
        input = UpdatePreferencesInput(required=True)

    errors = UPDATE_PREFERENCES_ERRORS
    Output = UpdatePreferencesPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: dict[str, Any]) -> UpdatePreferencesPayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        after = ctx.db.write(preferences.change, member_id, change_of(input), source="api",
                             now=ctx.now, network_zone=ctx.settings.timezone)
        return UpdatePreferencesPayload(preferences=MessagePreferences.of(after), user_errors=[])
