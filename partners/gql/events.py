"""Custom events over the signed API: `recordEvent` (a review, a survey, an app install...) and
`registerEventType` (a partner's own type with its attribute spec). Scope `events`."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene.types.generic import GenericScalar

from network.gql.context import RequestContext
from network.ledger.errors import InvalidInput
from network.programme import event_specs, events, explain
from network.programme.event_specs import (
    EventTypeExists,
    InvalidAttributes,
    InvalidAttributeSpec,
    InvalidEventTypeCode,
    UnknownEventType,
)
from network.programme.event_types import EventType as StoredEventType
from network.programme.inbox import RecordedFact
from partners.gql.app_caches import app_caches
from partners.gql.mutation_support import MEMBER_INPUT, Call, PartnerMutation, partner_errors
from partners.gql.refs import CARD_NUMBER_DOC, MEMBER_ID_DOC, resolve_member
from partners.gql.types import EarnBreakdownLine
from partners.scopes import EVENTS


class JSON(GenericScalar):
    """A JSON value: an object, list, string, number, boolean or null."""


class MemberEvent(graphene.ObjectType):
    """A custom event as the hub recorded it."""

    id = graphene.ID(required=True)
    type = graphene.String(required=True, description="The event type's code.")
    member_id = graphene.ID(required=True, description="The member's PartnerMember id.")
    attributes = graphene.Field(JSON, required=True, description="As checked against the type's "
                                                                 "spec; number attributes as "
                                                                 "exact decimal strings.")
    occurred_at = graphene.DateTime(required=True, description="When it happened (UTC).")
    recorded_at = graphene.DateTime(required=True, description="When the hub recorded it (UTC).")
    points = graphene.Int(required=True, description="Points the campaigns triggered by this "
                                                     "event gave the member (0: none applied).")
    breakdown = graphene.List(
        graphene.NonNull(EarnBreakdownLine), required=True,
        description="Why: each campaign that gave points, with its funder (the party billed in "
                    "settlement). Empty when it gave nothing.")

    def resolve_breakdown(self, info: graphene.ResolveInfo) -> list[EarnBreakdownLine]:
        award = getattr(self, "_award", None)
        if award is None:
            return []
        ctx: RequestContext = info.context
        lines = ctx.db.read(lambda conn: explain.for_entries(
            conn, {award.entry_id: (award.issuer_id, award.points)}).get(award.entry_id, []))
        return [EarnBreakdownLine.of(line) for line in lines]

    @classmethod
    def of(cls, recorded: RecordedFact) -> MemberEvent:
        fact = recorded.fact
        event = cls(id=relay.Node.to_global_id("MemberEvent", recorded.id),
                    type=fact.type,  # type: ignore[union-attr]
                    member_id=relay.Node.to_global_id("PartnerMember", fact.member_id),
                    attributes=event_specs.attributes_json(fact.attributes),
                    occurred_at=fact.at, recorded_at=recorded.recorded_at,
                    points=recorded.award.points if recorded.award else 0)
        event._award = recorded.award  # type: ignore[attr-defined]
        return event


class EventType(graphene.ObjectType):
    """A custom event type and the attribute spec its events are checked against."""

    code = graphene.String(required=True)
    network_standard = graphene.Boolean(required=True, description="The network's own type "
                                                                   "(every partner may use it); "
                                                                   "false: yours.")
    attributes = graphene.Field(JSON, required=True, description="The attribute spec, as "
                                                                 "registered (README: Custom "
                                                                 "events).")
    created_at = graphene.DateTime(required=True)

    @classmethod
    def of(cls, stored: StoredEventType) -> EventType:
        return cls(code=stored.code, network_standard=stored.owner_party_id is None,
                   attributes=stored.spec.as_json(), created_at=stored.created_at)


class RecordEventInput(graphene.InputObjectType):
    member_id = graphene.ID(description=MEMBER_ID_DOC)
    card_number = graphene.String(description=CARD_NUMBER_DOC)
    type = graphene.String(required=True, description="A network type (review, "
                                                      "survey_completed, social_share, "
                                                      "app_install) or one you registered.")
    attributes = JSON(description="An object the type's spec accepts; {} or null when it has "
                                  "no required attribute.")
    occurred_at = graphene.DateTime(description="When it happened, with an offset: not in the "
                                                "future, at most 90 days ago (now when omitted).")


RECORD_ERRORS = partner_errors("RecordEvent", *MEMBER_INPUT, UnknownEventType, InvalidAttributes,
                               InvalidInput)


class RecordEventPayload(graphene.ObjectType):
    event = graphene.Field(MemberEvent)
    user_errors = RECORD_ERRORS.field()


class RecordEvent(PartnerMutation):
    class Arguments:
        input = RecordEventInput(required=True)

    errors = RECORD_ERRORS
    Output = RecordEventPayload
    scope = EVENTS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> RecordEventPayload:
        member_id = resolve_member(call.ctx.db, input, app_caches(call.ctx))
        recorded = events.record_event(
            call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
            partner_id=call.partner.party_id, member_id=member_id,
            member_field="memberId" if input.get("member_id") is not None else "cardNumber",
            type=input["type"], attributes=input.get("attributes"),
            occurred_at=input.get("occurred_at"), now=call.ctx.now,
            timezone=call.ctx.settings.timezone)
        return RecordEventPayload(event=MemberEvent.of(recorded), user_errors=[])


class RegisterEventTypeInput(graphene.InputObjectType):
    code = graphene.String(required=True, description="2-40 characters of a-z, 0-9 and _, "
                                                      "starting with a letter; unique across "
                                                      "the network.")
    attributes = JSON(required=True, description='Attribute name -> rule: {"rating": {"type": '
                                                 '"integer", "required": true, "min": 1, "max": '
                                                 '5}}; rules: type (string, integer, number, '
                                                 'boolean), required, enum, min, max, '
                                                 'maxLength.')


REGISTER_ERRORS = partner_errors("RegisterEventType", InvalidEventTypeCode, InvalidAttributeSpec,
                                 EventTypeExists)


class RegisterEventTypePayload(graphene.ObjectType):
    event_type = graphene.Field(EventType)
    user_errors = REGISTER_ERRORS.field()


class RegisterEventType(PartnerMutation):
    class Arguments:
        input = RegisterEventTypeInput(required=True)

    errors = REGISTER_ERRORS
    Output = RegisterEventTypePayload
    scope = EVENTS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> RegisterEventTypePayload:
        stored = events.register_type(
            call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
            owner_party_id=call.partner.party_id, code=input["code"],
            spec=input["attributes"], now=call.ctx.now)
        return RegisterEventTypePayload(event_type=EventType.of(stored), user_errors=[])
