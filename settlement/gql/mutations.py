"""Write side for finance staff: preview and close a period (pay stays on the CLI, where a
long run of Stripe calls has a terminal and a progress bar)."""

from __future__ import annotations

import graphene

from network.gql.errors import UserError, user_errors_field
from settlement import run as runs
from settlement.errors import SettlementError
from settlement.gql.types import SettlementRun, ctx


class SettlementPeriodInput(graphene.InputObjectType):
    period = graphene.String(required=True, description="Calendar month, YYYY-MM.")


class _PeriodMutation(graphene.Mutation):
    class Meta:
        abstract = True

    class Arguments:
        input = SettlementPeriodInput(required=True)

    run = graphene.Field(SettlementRun)
    changed = graphene.Boolean()
    user_errors = user_errors_field()

    action = staticmethod(runs.preview)

    @classmethod
    def mutate(cls, root: object, info: graphene.ResolveInfo,
               input: SettlementPeriodInput) -> _PeriodMutation:
        context = ctx(info)
        context.staff("finance")
        try:
            outcome = cls.action(context.db, context.settings, input.period, now=context.now)
        except SettlementError as exc:
            return cls(run=None, changed=False, user_errors=[
                UserError(field=exc.field, code=exc.code, message=exc.message)])
        return cls(run=SettlementRun.of(outcome.run), changed=outcome.changed, user_errors=[])


class PreviewSettlement(_PeriodMutation):
    """Compute a period as a draft (recomputable)."""

    action = staticmethod(runs.preview)


class CloseSettlement(_PeriodMutation):
    """Freeze a period; closing a closed period changes nothing."""

    action = staticmethod(runs.close)
