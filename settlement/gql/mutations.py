"""Write side for finance staff: preview and close a period (pay stays on the CLI, where a
long run of Stripe calls has a terminal and a progress bar)."""

from __future__ import annotations

from typing import Any

import graphene

from network.errors import HubError
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation
from settlement import run as runs
from settlement.errors import SettlementError
from settlement.gql.types import SettlementRun, ctx

# The period as typed, and what computing it from the ledger can find wrong.
PERIOD_RUN = SettlementError.only(
    "BAD_PERIOD", "PERIOD_OUT_OF_RANGE", "BAD_TIME_ZONE", "NO_NETWORK_PARTY", "NO_CONTRACT",
    "CONTROL_TOTALS_MISMATCH", "BAD_CONSUMPTION_KIND", "BAD_ISSUER", "BAD_SINK", "BAD_REVERSAL",
    "BAD_SEGMENT")


class SettlementPeriodInput(graphene.InputObjectType):
    period = graphene.String(required=True, description="Calendar month, YYYY-MM.")


class _PeriodMutation(HubMutation):
    class Meta:
        abstract = True

    class Arguments:
        input = SettlementPeriodInput(required=True)

    run = graphene.Field(SettlementRun)
    changed = graphene.Boolean()

    action = staticmethod(runs.preview)

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: SettlementPeriodInput) -> _PeriodMutation:
        context = ctx(info)
        context.staff("finance")
        outcome = cls.action(context.db, context.settings, input.period, now=context.now)
        return cls(run=SettlementRun.of(outcome.run), changed=outcome.changed, user_errors=[])

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: SettlementPeriodInput,
                error: HubError) -> dict[str, Any]:
        return {"run": None, "changed": False}


class PreviewSettlement(_PeriodMutation):
    """Compute a period as a draft (recomputable)."""

    errors = UserErrors("PreviewSettlement", PERIOD_RUN)
    user_errors = errors.field()
    action = staticmethod(runs.preview)


class CloseSettlement(_PeriodMutation):
    """Freeze a period; closing a closed period changes nothing."""

    errors = UserErrors("CloseSettlement", PERIOD_RUN, SettlementError.only("PERIOD_NOT_OVER"))
    user_errors = errors.field()
    action = staticmethod(runs.close)
