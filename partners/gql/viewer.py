"""`partner { … }`: the calling partner as the root of everything it may read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import graphene
from graphene import relay
from sqlalchemy import Connection

from network import members
from network.gql.context import RequestContext
from network.gql.pagination import (
    ForwardConnectionField,
    decode_cursor,
    encode_cursor,
    page_size,
    split_page,
)
from network.ledger.errors import InvalidInput
from network.programme import event_types
from partners import ledger_view
from partners.contracts import in_force
from partners.gql.campaign_simulation import (
    CampaignSimulation,
    partner_simulation,
    simulate_field,
)
from partners.gql.campaigns import CampaignConnection, campaigns_page
from partners.gql.events import EventType
from partners.gql.refs import decode_id
from partners.gql.rewards import PartnerRewardConnection, rewards_page
from partners.gql.types import (
    PartnerContract,
    PartnerHold,
    PartnerMember,
    PartnerTransaction,
    PartnerTransactionConnection,
    TransactionKind,
    as_datetime,
)
from partners.gql.webhooks import WebhookEndpoint, endpoints_of
from partners.registry import get_partner
from partners.scopes import READ


class PartnerViewer(graphene.ObjectType):
    """The partner whose key signed the request."""

    class Meta:
        interfaces = (relay.Node,)

    code = graphene.String(required=True, description="Your partner code at the hub.")
    name = graphene.String(required=True)
    contract = graphene.Field(PartnerContract, required=True,
                              description="Your contract terms in force now (NO_CONTRACT if "
                                          "none is).")
    member = graphene.Field(
        PartnerMember,
        id=graphene.ID(description="A PartnerMember id."),
        card_number=graphene.String(description="16 digits with a Luhn check digit; a wrong one "
                                                "is INVALID_CARD_NUMBER."),
        phone=graphene.String(description="7 to 15 digits, optionally with a leading +."),
        email=graphene.String(description="An email address."),
        description="Look a member up by exactly one of id, cardNumber, phone or email (else "
                    "MEMBER_REFERENCE); null when nobody matches.",
    )
    hold = graphene.Field(PartnerHold, id=graphene.ID(required=True, description="A PartnerHold "
                                                                                 "id."),
                          description="One of your holds; null for an unknown hold or another "
                                      "partner's.")
    event_types = graphene.List(graphene.NonNull(EventType), required=True,
                                description="The custom event types you may record "
                                            "(recordEvent): the network's and your own, by code.")
    transactions = ForwardConnectionField(
        PartnerTransactionConnection,
        kinds=graphene.List(graphene.NonNull(TransactionKind),
                            description="Only these kinds; all when omitted or empty."),
        booked_from=graphene.DateTime(description="Inclusive (ISO 8601 with an offset)."),
        booked_before=graphene.DateTime(description="Exclusive (ISO 8601 with an offset)."),
        member_id=graphene.ID(description="Only this member's (a PartnerMember id)."),
        description="Your transactions, newest first; `first` is 1 to 100 (default 20), "
                    "`after` an endCursor of this connection.",
    )

    campaigns = graphene.Field(
        CampaignConnection, required=True,
        first=graphene.Int(description="1 to 100 (default 20)."),
        after=graphene.String(description="An endCursor of this connection."),
        description="Your campaigns, oldest first (scope campaigns).")
    webhook_endpoints = graphene.List(
        graphene.NonNull(WebhookEndpoint), required=True,
        description="Your webhook endpoints, oldest first, with their deliveries (scope "
                    "webhooks).")
    rewards = graphene.Field(
        PartnerRewardConnection, required=True,
        first=graphene.Int(description="1 to 100 (default 20)."),
        after=graphene.String(description="An endCursor of this connection."),
        description="The rewards you honour, oldest first (scope rewards).")
    simulate_campaign = simulate_field(
        "Replay a draft campaign over a past month of your own sales (scope campaigns).")

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> PartnerViewer | None:
        partner = info.context.partner(READ)
        return _viewer(info.context) if id == str(partner.party_id) else None

    def resolve_contract(self, info: graphene.ResolveInfo) -> PartnerContract:
        ctx: RequestContext = info.context
        terms = ctx.db.read(in_force, self.id, ctx.now)
        return PartnerContract(
            # Numeric(18, 6) comes back as 10.000000; show the rate as it was agreed: 10.
            earn_points_per_unit=Decimal(format(terms.earn_points_per_unit.normalize(), "f")),
            allow_explicit_points=terms.allow_explicit_points,
            pending_days=terms.pending_days, validity_months=terms.validity_months,
            currency=ctx.settings.currency,
        )

    def resolve_campaigns(self, info: graphene.ResolveInfo, first: int | None = None,
                          after: str | None = None) -> CampaignConnection:
        return campaigns_page(info.context, first, after)

    def resolve_webhook_endpoints(self, info: graphene.ResolveInfo) -> list[WebhookEndpoint]:
        return endpoints_of(info.context)
    def resolve_rewards(self, info: graphene.ResolveInfo, first: int | None = None,
                        after: str | None = None) -> PartnerRewardConnection:
        return rewards_page(info.context, first, after)

    def resolve_simulate_campaign(self, info: graphene.ResolveInfo, definition: Any,
                                  period: str) -> CampaignSimulation:
        return partner_simulation(info.context, definition, period)

    def resolve_member(self, info: graphene.ResolveInfo, id: str | None = None,
                       card_number: str | None = None, phone: str | None = None,
                       email: str | None = None) -> PartnerMember | None:
        ctx: RequestContext = info.context
        given = [v for v in (id, card_number, phone, email) if v is not None]
        if len(given) != 1:
            raise InvalidInput("look a member up by exactly one of id, cardNumber, phone, email",
                               field="member", code="MEMBER_REFERENCE")
        secret = ctx.settings.secret_key

        def load(conn: Connection) -> PartnerMember | None:
            if id is not None:
                return PartnerMember.load(conn, ctx, decode_id(id, "PartnerMember", "id"))
            found = members.find(conn, secret, card_number=card_number, phone=phone, email=email,
                                 country=ctx.settings.default_country)
            return PartnerMember.from_member(conn, ctx, found) if found else None

        return ctx.db.read(load)

    def resolve_event_types(self, info: graphene.ResolveInfo) -> list[EventType]:
        return [EventType.of(t) for t in info.context.db.read(event_types.listed, self.id)]

    def resolve_hold(self, info: graphene.ResolveInfo, id: str) -> PartnerHold | None:
        return info.context.db.read(PartnerHold.load, self.id, decode_id(id, "PartnerHold", "id"))

    def resolve_transactions(self, info: graphene.ResolveInfo, first: int | None = None,
                             after: str | None = None, kinds: list[Any] | None = None,
                             booked_from: datetime | None = None,
                             booked_before: datetime | None = None,
                             member_id: str | None = None, **_: Any) -> Any:
        ctx: RequestContext = info.context
        size = page_size(first)
        cursor = decode_cursor(after, "tx")
        wanted = [getattr(k, "value", k) for k in kinds or []]
        member = decode_id(member_id, "PartnerMember", "memberId") if member_id else None
        # In UTC, as stored: SQLite compares the text of the timestamps and so would read
        # 12:46+03:30 as 12:46 UTC.
        rows = ctx.db.read(ledger_view.entries, self.id, limit=size + 1, before_id=cursor,
                           kinds=wanted, booked_from=as_datetime(booked_from),
                           booked_before=as_datetime(booked_before), member_id=member)
        page, has_next = split_page(rows, size)
        edges = [
            PartnerTransactionConnection.Edge(node=PartnerTransaction.from_row(row),
                                              cursor=encode_cursor("tx", row.id))
            for row in page
        ]
        return PartnerTransactionConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=has_next, has_previous_page=cursor is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _viewer(ctx: RequestContext) -> PartnerViewer:
    partner = ctx.partner(READ)
    found = ctx.db.read(get_partner, partner.party_id)
    if found is None:
        raise InvalidInput("the partner behind this key no longer exists", code="NO_PARTNER")
    return PartnerViewer(id=found.id, code=found.code, name=found.name)


class PartnerQuery(graphene.ObjectType):
    partner = graphene.Field(
        PartnerViewer, required=True,
        description="The calling partner (needs a signed request and the 'read' scope).",
    )

    def resolve_partner(root, info: graphene.ResolveInfo) -> PartnerViewer:
        return _viewer(info.context)
