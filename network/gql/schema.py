"""The network's slice of the GraphQL schema: the Relay node field and the public charity list."""

from __future__ import annotations

import graphene
from graphene import relay
from sqlalchemy import select

from network.db.schema import parties
from network.gql.context import RequestContext


class Charity(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    code = graphene.String(required=True)
    name = graphene.String(required=True)
    name_fa = graphene.String()

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> Charity | None:
        ctx: RequestContext = info.context
        row = ctx.db.read(lambda c: c.execute(select(parties).where(
            parties.c.id == int(id), parties.c.kind == "charity")).first())
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: object) -> Charity:
        return cls(id=row.id, code=row.code, name=row.name, name_fa=row.name_fa)  # type: ignore[attr-defined]


class Query(graphene.ObjectType):
    node = relay.Node.Field()
    charities = graphene.List(graphene.NonNull(Charity), required=True,
                              description="Charities members can donate points to.")

    def resolve_charities(root, info: graphene.ResolveInfo) -> list[Charity]:
        ctx: RequestContext = info.context
        rows = ctx.db.read(lambda c: c.execute(
            select(parties).where(parties.c.kind == "charity").order_by(parties.c.name)).all())
        return [Charity.from_row(row) for row in rows]


class Mutation(graphene.ObjectType):
    """The network itself has no mutations of its own yet; members' live in network/gql/me*."""
