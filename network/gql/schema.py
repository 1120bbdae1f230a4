"""The network's slice of the GraphQL schema: the Relay node field and the public charity list."""

from __future__ import annotations

import graphene
from graphene import relay
from graphql_relay import from_global_id

from network import parties
from network.gql.context import RequestContext
from network.gql.pagination import parse_key
from network.ledger.errors import InvalidId


class Charity(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    code = graphene.String(required=True)
    name = graphene.String(required=True)
    name_fa = graphene.String()

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> Charity | None:
        ctx: RequestContext = info.context
        party = ctx.db.read(parties.get, int(id), "charity")
        return cls.of(party) if party else None

    @classmethod
    def of(cls, party: parties.Party) -> Charity:
        return cls(id=party.id, code=party.code, name=party.name, name_fa=party.name_fa)


def _check_node_id(info: graphene.ResolveInfo, global_id: str) -> None:
    """Refuses an id this API never issues, as decode_id does (INVALID_ID), before graphene
    would raise on it (an INTERNAL_ERROR). A well-formed id of nothing the caller may see is
    still null, per Relay."""
    try:
        type_name, raw = from_global_id(global_id)
    except Exception:  # noqa: BLE001 - graphql_relay raises several types on junk
        type_name, raw = "", ""
    found = info.schema.get_type(type_name) if type_name else None
    graphene_type = getattr(found, "graphene_type", None)
    is_node = relay.Node in getattr(getattr(graphene_type, "_meta", None), "interfaces", ())
    if not is_node or parse_key(raw) is None:
        raise InvalidId("id is not an id from this API", field="id")


class Query(graphene.ObjectType):
    node = graphene.Field(relay.Node, id=graphene.ID(required=True,
                                                     description="The ID of the object"))
    charities = graphene.List(graphene.NonNull(Charity), required=True,
                              description="Charities members can donate points to.")

    def resolve_charities(root, info: graphene.ResolveInfo) -> list[Charity]:
        ctx: RequestContext = info.context
        found = ctx.db.read(lambda conn: parties.list_parties(conn, "charity", by_name=True))
        return [Charity.of(party) for party in found]

    def resolve_node(root, info: graphene.ResolveInfo, id: str) -> relay.Node | None:
        _check_node_id(info, id)
        return relay.Node.get_node_from_global_id(info, id)


class Mutation(graphene.ObjectType):
    """The network itself has no mutations of its own yet; members' live in network/gql/me*."""
