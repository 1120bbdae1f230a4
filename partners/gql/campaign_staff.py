"""Network staff on partners' campaigns: approveCampaign and rejectCampaign (role operator or
finance), for a campaign that funds other parties' points or applies to other partners' sales
(network/programme/approval.py)."""

from __future__ import annotations

from typing import Any

import graphene

from network.gql.context import PermissionDenied, RequestContext
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation
from network.programme import management
from network.programme.approval import ApprovalError
from network.programme.store import CampaignError
from partners.gql.campaigns import Campaign

DECIDERS = frozenset({"operator", "finance"})


def decider(ctx: RequestContext) -> str:
    """The staff member's name, if their roles may approve campaigns."""
    staff = ctx.staff()
    if not staff.roles & DECIDERS:
        raise PermissionDenied("approving campaigns needs the 'operator' or 'finance' role")
    return staff.name


class CampaignDecisionInput(graphene.InputObjectType):
    code = graphene.String(required=True, description="The campaign's code.")
    note = graphene.String(description="For the partner, at most 500 characters (say why, when "
                                       "rejecting).")


def _errors(name: str) -> UserErrors:
    return UserErrors(name, CampaignError.only("CAMPAIGN_NOT_FOUND"),
                      ApprovalError.only("NOT_PENDING_APPROVAL", "NOTE_TOO_LONG"))


class _Decision(HubMutation):
    class Meta:
        abstract = True

    class Arguments:
        input = CampaignDecisionInput(required=True)

    campaign = graphene.Field(Campaign)
    decision = "approve"

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> Any:
        by = decider(info.context)
        decided = management.decide(info.context.db, input.code, cls.decision, by=by,
                                    note=input.get("note"))
        return cls(campaign=Campaign.of(decided), user_errors=[])


class ApproveCampaign(_Decision):
    """Approve a partner campaign's pending definition; the partner can then activate it."""

    errors = _errors("ApproveCampaign")
    user_errors = errors.field()
    decision = "approve"


class RejectCampaign(_Decision):
    """Reject a partner campaign's pending definition; a changed definition asks again."""

    errors = _errors("RejectCampaign")
    user_errors = errors.field()
    decision = "reject"


class Mutation(graphene.ObjectType):
    approve_campaign = ApproveCampaign.Field(
        description="Approve a partner's campaign that funds others or touches their sales "
                    "(staff: operator or finance).")
    reject_campaign = RejectCampaign.Field(
        description="Reject a partner's campaign awaiting approval (staff: operator or "
                    "finance).")
