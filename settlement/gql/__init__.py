"""The settlement slice of the GraphQL schema (`Query` and `Mutation` mixins for infra/schema.py).

Finance staff authenticate with `Authorization: Bearer pnst_…` (settlement.staff); partners read
their own statements with their usual signed requests.
"""

from __future__ import annotations

import graphene

from settlement.gql.mutations import CloseSettlement, PreviewSettlement
from settlement.gql.queries import SettlementQuery


class Query(SettlementQuery, graphene.ObjectType):
    pass


class Mutation(graphene.ObjectType):
    preview_settlement = PreviewSettlement.Field(
        description="Compute a settlement period as a draft (finance staff).")
    close_settlement = CloseSettlement.Field(
        description="Close a settlement period for good (finance staff).")
