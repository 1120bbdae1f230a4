"""Read side: runs, matrix, positions, payments and statements for finance staff; a partner
reads its own statements of closed periods through its signed API."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from network.gql.pagination import (
    ForwardConnectionField,
    decode_cursor,
    encode_cursor,
    page_size,
    split_page,
)
from partners.scopes import READ
from settlement import store
from settlement.gql.types import (
    SettlementRun,
    SettlementRunConnection,
    SettlementStatement,
    ctx,
)
from settlement.period import Period
from settlement.statements.build import build_statement


class SettlementQuery(graphene.ObjectType):
    settlement_runs = ForwardConnectionField(
        SettlementRunConnection, description="Settlement runs, newest first (staff only).")
    settlement_run = graphene.Field(SettlementRun, period=graphene.String(required=True),
                                    description="The run of one period, YYYY-MM (staff only).")
    partner_settlement_statement = graphene.Field(
        SettlementStatement, period=graphene.String(required=True),
        description="Your own signed statement for a closed period (partner signed request).")

    def resolve_settlement_runs(self, info: graphene.ResolveInfo, first: int | None = None,
                                after: str | None = None, **_: Any) -> Any:
        ctx(info).staff()
        size = page_size(first)
        cursor = decode_cursor(after, "SettlementRun")
        runs, has_next = split_page(ctx(info).db.read(store.runs_before, cursor, size + 1), size)
        edges = [SettlementRunConnection.Edge(node=SettlementRun.of(r),
                                              cursor=encode_cursor("SettlementRun", r.id))
                 for r in runs]
        return SettlementRunConnection(edges=edges, page_info=relay.PageInfo(
            has_next_page=has_next, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    def resolve_settlement_run(self, info: graphene.ResolveInfo,
                               period: str) -> SettlementRun | None:
        ctx(info).staff()
        run = ctx(info).db.read(store.find_run, str(Period.parse(period)))
        return SettlementRun.of(run) if run else None

    def resolve_partner_settlement_statement(self, info: graphene.ResolveInfo,
                                             period: str) -> SettlementStatement | None:
        partner = ctx(info).partner(READ)
        run = ctx(info).db.read(store.find_run, str(Period.parse(period)))
        if run is None or run.is_open:
            return None  # drafts are the hub's working papers, not statements
        st = ctx(info).db.read(build_statement, run, partner.party_id, ctx(info).now)
        return SettlementStatement.of(info, st)
