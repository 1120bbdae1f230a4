"""Webhook endpoints over the signed API (scope `webhooks`): create, update (URL, events,
enable), rotate the signing key, delete, replay a delivery; `partner { webhookEndpoints {
deliveries } }` to see what was sent and what the endpoint answered."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from network.gql.context import RequestContext
from network.gql.pagination import decode_cursor, encode_cursor, page_size, split_page
from network.ledger.errors import InvalidId, Required
from partners.gql.mutation_support import Call, PartnerMutation, partner_errors
from partners.gql.refs import decode_id
from partners.scopes import WEBHOOKS
from partners.webhooks import signing, store
from partners.webhooks.errors import (
    InvalidWebhookUrl,
    TooManyWebhookEndpoints,
    UnknownWebhookEvent,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
)
from partners.webhooks.events import EVENT_TYPES


class WebhookSigning(graphene.Enum):
    """How deliveries are signed (webhook-signature): HMAC_SHA256 (`v1,`) with a `whsec_…`
    secret you and the hub share; ED25519 (`v1a,`) with the hub's key for this endpoint, which
    you verify with its `whpk_…` public key."""

    HMAC_SHA256 = signing.HMAC
    ED25519 = signing.ED25519


class WebhookDeliveryStatus(graphene.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WebhookDelivery(graphene.ObjectType):
    """One event sent (or to be sent) to one endpoint."""

    class Meta:
        interfaces = (relay.Node,)

    webhook_id = graphene.String(required=True, description="The webhook-id header: the same "
                                                           "on every attempt and replay.")
    event_type = graphene.String(required=True)
    status = graphene.Field(WebhookDeliveryStatus, required=True)
    attempts = graphene.Int(required=True)
    next_attempt_at = graphene.DateTime(description="When it is tried next (pending only).")
    last_attempt_at = graphene.DateTime()
    last_response_status = graphene.Int(description="Your endpoint's HTTP status, last "
                                                    "attempt; null when none came back.")
    last_error = graphene.String()
    delivered_at = graphene.DateTime()
    created_at = graphene.DateTime(required=True)
    replay_of = graphene.ID(description="The delivery this one replays.")
    payload = graphene.String(required=True, description="The JSON body, as sent.")

    @classmethod
    def of(cls, found: store.Delivery) -> WebhookDelivery:
        return cls(id=found.id, webhook_id=found.msg_id, event_type=found.type,
                   status=found.status, attempts=found.attempts,
                   next_attempt_at=found.next_attempt_at, last_attempt_at=found.last_attempt_at,
                   last_response_status=found.last_status, last_error=found.last_error,
                   delivered_at=found.delivered_at, created_at=found.created_at,
                   replay_of=(relay.Node.to_global_id("WebhookDelivery", found.replay_of)
                              if found.replay_of else None),
                   payload=found.body)

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> WebhookDelivery | None:
        partner = info.context.partner(WEBHOOKS)
        if not id.isdigit():
            return None
        try:
            return cls.of(info.context.db.read(store.get_delivery, int(id), partner.party_id))
        except WebhookDeliveryNotFound:
            return None


class WebhookDeliveryEdge(graphene.ObjectType):
    node = graphene.Field(WebhookDelivery, required=True)
    cursor = graphene.String(required=True)


class WebhookDeliveryConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(WebhookDeliveryEdge), required=True)
    page_info = graphene.Field(relay.PageInfo, required=True)


class WebhookEndpoint(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    url = graphene.String(required=True)
    events = graphene.List(graphene.NonNull(graphene.String), required=True)
    signing = graphene.Field(WebhookSigning, required=True)
    public_key = graphene.String(description="ED25519: the `whpk_…` key you verify with "
                                             "(null for HMAC_SHA256).")
    enabled = graphene.Boolean(required=True)
    disabled_reason = graphene.String()
    failing_since = graphene.DateTime(description="Since when every attempt has failed; null "
                                                  "after a success. Disabled after 5 days.")
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    deliveries = graphene.Field(
        WebhookDeliveryConnection, required=True,
        first=graphene.Int(description="1 to 100 (default 20)."),
        after=graphene.String(description="An endCursor of this connection."),
        description="Newest first.")

    @classmethod
    def of(cls, found: store.Endpoint) -> WebhookEndpoint:
        return cls(id=found.id, url=found.url, events=list(found.events),
                   signing=found.signing, public_key=found.public_key, enabled=found.enabled,
                   disabled_reason=found.disabled_reason, failing_since=found.failing_since,
                   created_at=found.created_at, updated_at=found.updated_at)

    def resolve_deliveries(self, info: graphene.ResolveInfo, first: int | None = None,
                           after: str | None = None) -> WebhookDeliveryConnection:
        size = page_size(first)
        cursor = decode_cursor(after, "delivery")
        found = info.context.db.read(store.list_deliveries, int(self.id), limit=size + 1,
                                     before_id=cursor)
        page, has_next = split_page(found, size)
        edges = [WebhookDeliveryEdge(node=WebhookDelivery.of(d),
                                     cursor=encode_cursor("delivery", d.id)) for d in page]
        return WebhookDeliveryConnection(edges=edges, page_info=relay.PageInfo(
            has_next_page=has_next, has_previous_page=cursor is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> WebhookEndpoint | None:
        partner = info.context.partner(WEBHOOKS)
        if not id.isdigit():
            return None
        try:
            return cls.of(info.context.db.read(store.get_endpoint, int(id), partner.party_id))
        except WebhookEndpointNotFound:
            return None


def endpoints_of(ctx: RequestContext) -> list[WebhookEndpoint]:
    """`partner { webhookEndpoints }` (scope webhooks)."""
    partner = ctx.partner(WEBHOOKS)
    return [WebhookEndpoint.of(e) for e in ctx.db.read(store.list_endpoints, partner.party_id)]


EVENTS_DOC = "Event types wanted: " + ", ".join(EVENT_TYPES) + "."
ID_ERRORS = (Required, InvalidId)


class CreateWebhookEndpointInput(graphene.InputObjectType):
    url = graphene.String(required=True, description="https://…, at most 2,000 characters.")
    events = graphene.List(graphene.NonNull(graphene.String), required=True,
                           description=EVENTS_DOC)
    signing = WebhookSigning(default_value=signing.HMAC, description="HMAC_SHA256 when omitted.")


CREATE_ERRORS = partner_errors("CreateWebhookEndpoint", InvalidWebhookUrl, UnknownWebhookEvent,
                               TooManyWebhookEndpoints)


class CreateWebhookEndpointPayload(graphene.ObjectType):
    endpoint = graphene.Field(WebhookEndpoint)
    secret = graphene.String(description="HMAC_SHA256: the `whsec_…` secret, shown here and by "
                                         "rotateWebhookSecret only. Null for ED25519 (use the "
                                         "endpoint's publicKey).")
    user_errors = CREATE_ERRORS.field()


def _secret(call: Call, found: store.Endpoint) -> str | None:
    if found.signing != signing.HMAC:
        return None
    return found.key_text(call.ctx.settings.secret_key)


class CreateWebhookEndpoint(PartnerMutation):
    class Arguments:
        input = CreateWebhookEndpointInput(required=True)

    errors = CREATE_ERRORS
    Output = CreateWebhookEndpointPayload
    scope = WEBHOOKS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> CreateWebhookEndpointPayload:
        kind = getattr(input.get("signing"), "value", input.get("signing")) or signing.HMAC
        found = store.create_endpoint(
            call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
            partner_id=call.partner.party_id, url=input["url"], events=input["events"],
            signing_kind=kind, secret_key=call.ctx.settings.secret_key, now=call.ctx.now)
        return CreateWebhookEndpointPayload(endpoint=WebhookEndpoint.of(found),
                                            secret=_secret(call, found), user_errors=[])


class UpdateWebhookEndpointInput(graphene.InputObjectType):
    endpoint_id = graphene.ID(required=True, description="A WebhookEndpoint id.")
    url = graphene.String(description="A new URL; unchanged when omitted.")
    events = graphene.List(graphene.NonNull(graphene.String),
                           description="The new list (replaces the old one). " + EVENTS_DOC)
    enabled = graphene.Boolean(description="false: stop sending (pending deliveries are "
                                           "cancelled); true: start again, failure clock "
                                           "reset.")


UPDATE_ERRORS = partner_errors("UpdateWebhookEndpoint", *ID_ERRORS, WebhookEndpointNotFound,
                               InvalidWebhookUrl, UnknownWebhookEvent)


class UpdateWebhookEndpointPayload(graphene.ObjectType):
    endpoint = graphene.Field(WebhookEndpoint)
    user_errors = UPDATE_ERRORS.field()


class UpdateWebhookEndpoint(PartnerMutation):
    class Arguments:
        input = UpdateWebhookEndpointInput(required=True)

    errors = UPDATE_ERRORS
    Output = UpdateWebhookEndpointPayload
    scope = WEBHOOKS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> UpdateWebhookEndpointPayload:
        endpoint_id = decode_id(input.get("endpoint_id"), "WebhookEndpoint", "endpointId")
        found = store.update_endpoint(
            call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
            partner_id=call.partner.party_id, endpoint_id=endpoint_id, url=input.get("url"),
            events=input.get("events"), enabled=input.get("enabled"), now=call.ctx.now)
        return UpdateWebhookEndpointPayload(endpoint=WebhookEndpoint.of(found), user_errors=[])


class EndpointInput(graphene.InputObjectType):
    endpoint_id = graphene.ID(required=True, description="A WebhookEndpoint id.")


ROTATE_ERRORS = partner_errors("RotateWebhookSecret", *ID_ERRORS, WebhookEndpointNotFound)


class RotateWebhookSecretPayload(graphene.ObjectType):
    endpoint = graphene.Field(WebhookEndpoint, description="With its new publicKey (ED25519).")
    secret = graphene.String(description="HMAC_SHA256: the new `whsec_…` secret. Deliveries "
                                         "carry a signature with the old key too for 24 hours.")
    user_errors = ROTATE_ERRORS.field()


class RotateWebhookSecret(PartnerMutation):
    class Arguments:
        input = EndpointInput(required=True)

    errors = ROTATE_ERRORS
    Output = RotateWebhookSecretPayload
    scope = WEBHOOKS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> RotateWebhookSecretPayload:
        endpoint_id = decode_id(input.get("endpoint_id"), "WebhookEndpoint", "endpointId")
        found = store.rotate_secret(call.ctx.db, scope=call.scope,
                                    idempotency_key=call.idempotency_key,
                                    partner_id=call.partner.party_id, endpoint_id=endpoint_id,
                                    secret_key=call.ctx.settings.secret_key, now=call.ctx.now)
        return RotateWebhookSecretPayload(endpoint=WebhookEndpoint.of(found),
                                          secret=_secret(call, found), user_errors=[])


DELETE_ERRORS = partner_errors("DeleteWebhookEndpoint", *ID_ERRORS, WebhookEndpointNotFound)


class DeleteWebhookEndpointPayload(graphene.ObjectType):
    deleted_endpoint_id = graphene.ID()
    user_errors = DELETE_ERRORS.field()


class DeleteWebhookEndpoint(PartnerMutation):
    class Arguments:
        input = EndpointInput(required=True)

    errors = DELETE_ERRORS
    Output = DeleteWebhookEndpointPayload
    scope = WEBHOOKS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> DeleteWebhookEndpointPayload:
        endpoint_id = decode_id(input.get("endpoint_id"), "WebhookEndpoint", "endpointId")
        deleted = store.delete_endpoint(call.ctx.db, scope=call.scope,
                                        idempotency_key=call.idempotency_key,
                                        partner_id=call.partner.party_id,
                                        endpoint_id=endpoint_id, now=call.ctx.now)
        return DeleteWebhookEndpointPayload(
            deleted_endpoint_id=relay.Node.to_global_id("WebhookEndpoint", deleted),
            user_errors=[])


class ReplayWebhookDeliveryInput(graphene.InputObjectType):
    delivery_id = graphene.ID(required=True, description="A WebhookDelivery id.")


REPLAY_ERRORS = partner_errors("ReplayWebhookDelivery", *ID_ERRORS, WebhookDeliveryNotFound,
                               WebhookEndpointDisabled)


class ReplayWebhookDeliveryPayload(graphene.ObjectType):
    delivery = graphene.Field(WebhookDelivery, description="The new delivery: same webhook-id "
                                                           "and payload, sent again.")
    user_errors = REPLAY_ERRORS.field()


class ReplayWebhookDelivery(PartnerMutation):
    class Arguments:
        input = ReplayWebhookDeliveryInput(required=True)

    errors = REPLAY_ERRORS
    Output = ReplayWebhookDeliveryPayload
    scope = WEBHOOKS

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> ReplayWebhookDeliveryPayload:
        delivery_id = decode_id(input.get("delivery_id"), "WebhookDelivery", "deliveryId")
        found = store.replay_delivery(call.ctx.db, scope=call.scope,
                                      idempotency_key=call.idempotency_key,
                                      partner_id=call.partner.party_id,
                                      delivery_id=delivery_id, now=call.ctx.now)
        return ReplayWebhookDeliveryPayload(delivery=WebhookDelivery.of(found), user_errors=[])
