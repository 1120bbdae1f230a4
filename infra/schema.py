"""The root schema, composed from each package's slice (network <- partners <- settlement)."""

from __future__ import annotations

import graphene

from network.gql.schema import Mutation as NetworkMutation
from network.gql.schema import Query as NetworkQuery


class Query(NetworkQuery, graphene.ObjectType):
    pass


class Mutation(NetworkMutation, graphene.ObjectType):
    pass


def build_schema() -> graphene.Schema:
    has_mutations = bool(Mutation._meta.fields)
    return graphene.Schema(query=Query, mutation=Mutation if has_mutations else None,
                           auto_camelcase=True)


schema = build_schema()
