"""The root schema, composed from each package's slice (network <- partners <- settlement)."""

from __future__ import annotations

import graphene

from network.gql.me import MeMutation, MeQuery
from network.gql.schema import Mutation as NetworkMutation
from network.gql.schema import Query as NetworkQuery
from partners.gql import Mutation as PartnersMutation
from partners.gql import Query as PartnersQuery
from settlement.gql import Mutation as SettlementMutation
from settlement.gql import Query as SettlementQuery


class Query(NetworkQuery, MeQuery, PartnersQuery, SettlementQuery, graphene.ObjectType):
    pass


class Mutation(NetworkMutation, MeMutation, PartnersMutation, SettlementMutation,
               graphene.ObjectType):
    pass


def build_schema() -> graphene.Schema:
    has_mutations = bool(Mutation._meta.fields)
    return graphene.Schema(query=Query, mutation=Mutation if has_mutations else None,
                           auto_camelcase=True)


schema = build_schema()


def sdl() -> str:
    """The exported contract, as committed in graphql/schema.graphql."""
    return str(schema).rstrip() + "\n"
