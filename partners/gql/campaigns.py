"""Partners manage their own campaigns (scope `campaigns`): createCampaign, updateCampaign,
setCampaignStatus, and `partner { campaigns }`. The use cases are network/programme/management.py;
this module is their GraphQL shape. Every problem with a definition is a userError of its own,
naming its field (`limits.budgetPoints`, `funder[0].share`)."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene.types.generic import GenericScalar

from network.gql.context import RequestContext
from network.gql.errors import UserErrors
from network.gql.pagination import decode_cursor, encode_cursor, page_size, split_page
from network.programme import codec, management
from partners.gql.mutation_support import Call, PartnerMutation, every_problem, partner_errors
from partners.scopes import CAMPAIGNS

CampaignStatus = graphene.Enum("CampaignStatus", [(s.upper(), s) for s in
                                                  ("draft", "active", "paused", "ended")],
                               description="Where a campaign is in its life; ENDED is final.")
CampaignApproval = graphene.Enum(
    "CampaignApproval", [(s, s) for s in ("NOT_NEEDED", "PENDING_APPROVAL", "APPROVED",
                                          "REJECTED")],
    description="The network's approval, needed before activation by a campaign that funds "
                "other parties' points or applies to other partners' sales.")


class ApprovalReason(graphene.ObjectType):
    """Why a campaign needs the network's approval."""

    field = graphene.String(required=True)
    code = graphene.String(required=True, description="FUNDS_OTHER_PARTY or "
                                                      "TOUCHES_OTHER_SALES.")
    message = graphene.String(required=True)


class Campaign(graphene.ObjectType):
    """A campaign, with its definition in the codec's JSON format (README, The programme)."""

    code = graphene.String(required=True)
    name_en = graphene.String(required=True)
    name_fa = graphene.String(required=True)
    status = graphene.Field(CampaignStatus, required=True)
    approval = graphene.Field(CampaignApproval, required=True)
    approval_reasons = graphene.List(graphene.NonNull(ApprovalReason), required=True)
    approval_note = graphene.String(description="The network's note on a rejection.")
    definition = GenericScalar(required=True, description="The campaign's JSON document.")
    spent_points = graphene.Int(required=True, description="Points of its budget given so far.")
    budget_points = graphene.Int(description="Null: no budget.")
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)

    @classmethod
    def of(cls, managed: management.Managed) -> Campaign:
        s = managed.stored
        c = s.campaign
        doc = codec.to_document(c)
        doc.pop("status", None)
        return cls(code=c.code, name_en=c.name_en, name_fa=c.name_fa, status=c.status,
                   approval=managed.approval,
                   approval_reasons=[ApprovalReason(field=p.field, code=p.code,
                                                    message=p.message)
                                     for p in managed.reasons],
                   approval_note=managed.note, definition=doc, spent_points=s.spent_points,
                   budget_points=c.limits.budget_points, created_at=s.created_at,
                   updated_at=s.updated_at)


class CampaignEdge(graphene.ObjectType):
    node = graphene.Field(Campaign, required=True)
    cursor = graphene.String(required=True)


class CampaignConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(CampaignEdge), required=True)
    page_info = graphene.Field(relay.PageInfo, required=True)


def campaigns_page(ctx: RequestContext, first: int | None, after: str | None
                   ) -> CampaignConnection:
    """`partner { campaigns(first, after) }`: the partner's own, oldest first."""
    partner = ctx.partner(CAMPAIGNS)
    size = page_size(first)
    cursor = decode_cursor(after, "campaign")
    found = ctx.db.read(management.list_owned, partner.party_id, after_id=cursor or 0,
                        limit=size + 1)
    page, has_next = split_page(found, size)
    edges = [CampaignEdge(node=Campaign.of(m),
                          cursor=encode_cursor("campaign", m.stored.campaign.id)) for m in page]
    return CampaignConnection(edges=edges, page_info=relay.PageInfo(
        has_next_page=has_next, has_previous_page=cursor is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None))


class _CampaignMutation(PartnerMutation):
    """A campaign write: every problem of a refused definition becomes its own userError."""

    class Meta:
        abstract = True

    scope = CAMPAIGNS
    campaign = graphene.Field(Campaign, description="The campaign as saved; null when refused.")

    @classmethod
    def mutate(cls, root: object, info: graphene.ResolveInfo, input: Any) -> Any:
        return every_problem(cls, info, input)


def _errors(name: str) -> UserErrors:
    return partner_errors(name, management.CampaignRefused)


class CreateCampaignInput(graphene.InputObjectType):
    definition = GenericScalar(required=True, description="The campaign's JSON document (codec "
                                                          "format); parties by partyId or by "
                                                          "party code.")


class CreateCampaign(_CampaignMutation):
    """Save a new campaign of yours as a draft (activate it with setCampaignStatus)."""

    class Arguments:
        input = CreateCampaignInput(required=True)

    errors = _errors("CreateCampaign")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> CreateCampaign:
        saved = management.create(call.ctx.db, partner_id=call.partner.party_id,
                                   scope=call.scope, idempotency_key=call.idempotency_key,
                                   definition=input.definition)
        return cls(campaign=Campaign.of(saved), user_errors=[])


class UpdateCampaignInput(graphene.InputObjectType):
    code = graphene.String(required=True, description="The campaign to change (yours).")
    definition = GenericScalar(required=True, description="The whole new JSON document; its "
                                                          "code, if any, is ignored.")


class UpdateCampaign(_CampaignMutation):
    """Replace the definition of one of your campaigns (not an ended one)."""

    class Arguments:
        input = UpdateCampaignInput(required=True)

    errors = _errors("UpdateCampaign")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> UpdateCampaign:
        saved = management.update(call.ctx.db, partner_id=call.partner.party_id,
                                  scope=call.scope, idempotency_key=call.idempotency_key,
                                  code=input.code, definition=input.definition)
        return cls(campaign=Campaign.of(saved), user_errors=[])


class SetCampaignStatusInput(graphene.InputObjectType):
    code = graphene.String(required=True)
    status = CampaignStatus(required=True, description="ACTIVE, PAUSED or ENDED.")


class SetCampaignStatus(_CampaignMutation):
    """Activate, pause or end one of your campaigns."""

    class Arguments:
        input = SetCampaignStatusInput(required=True)

    errors = _errors("SetCampaignStatus")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> SetCampaignStatus:
        status = getattr(input.status, "value", input.status)
        saved = management.set_status(call.ctx.db, partner_id=call.partner.party_id,
                                      scope=call.scope, idempotency_key=call.idempotency_key,
                                      code=input.code, status=status)
        return cls(campaign=Campaign.of(saved), user_errors=[])
