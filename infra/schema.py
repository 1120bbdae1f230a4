"""The root schema, composed from each package's slice (network <- partners <- settlement)."""

from __future__ import annotations

from collections.abc import Iterable

import graphene
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLEnumType, GraphQLObjectType, get_named_type

from network.gql.lottery_staff import Mutation as LotteryStaffMutation
from network.gql.me import MeMutation, MeQuery
from network.gql.schema import Mutation as NetworkMutation
from network.gql.schema import Query as NetworkQuery
from partners.gql import Mutation as PartnersMutation
from partners.gql import Query as PartnersQuery
from partners.gql.campaign_staff import Mutation as CampaignStaffMutation
from partners.gql.reward_staff import Mutation as RewardStaffMutation
from partners.scopes import FIELD_SCOPES
from settlement.gql import Mutation as SettlementMutation
from settlement.gql import Query as SettlementQuery


class Query(NetworkQuery, MeQuery, PartnersQuery, SettlementQuery, graphene.ObjectType):
    pass


class Mutation(NetworkMutation, MeMutation, PartnersMutation, SettlementMutation,
               LotteryStaffMutation, graphene.ObjectType):
    pass


def build_schema() -> graphene.Schema:
    has_mutations = bool(Mutation._meta.fields)
    return graphene.Schema(query=Query, mutation=Mutation if has_mutations else None,
                           auto_camelcase=True)


schema = build_schema()


def sdl() -> str:
    """The exported contract, as committed in graphql/schema.graphql."""
    return str(schema).rstrip() + "\n"


def error_codes() -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """Each mutation's `code` enum and its values, as the SDL publishes them (generated from
    the error classes each mutation declares); (None, ()) for one that is never refused."""
    mutation = schema.graphql_schema.mutation_type
    assert mutation is not None
    found: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for name, field in mutation.fields.items():
        payload = get_named_type(field.type)
        assert isinstance(payload, GraphQLObjectType)
        error = get_named_type(payload.fields["userErrors"].type)
        assert isinstance(error, GraphQLObjectType)
        code = get_named_type(error.fields["code"].type)
        found[name] = ((code.name, tuple(code.values)) if isinstance(code, GraphQLEnumType)
                       else (None, ()))
    return found


def mutation_groups() -> dict[str, list[str]]:
    """The README's three tables of codes: partner, member and staff mutations."""
    staff = {to_camel_case(name) for slice_ in (SettlementMutation, CampaignStaffMutation,
                                                        LotteryStaffMutation, RewardStaffMutation)
             for name in slice_._meta.fields}
    groups: dict[str, list[str]] = {"partner": [], "member": [], "staff": []}
    for name in error_codes():
        group = "partner" if name in FIELD_SCOPES else "staff" if name in staff else "member"
        groups[group].append(name)
    return groups


def error_codes_table(mutations: Iterable[str]) -> str:
    """Markdown: each mutation, its enum, and the codes its userErrors can carry."""
    codes = error_codes()
    lines = ["| mutation | `code` enum: values |", "|---|---|"]
    for name in mutations:
        enum, values = codes[name]
        listed = f"`{enum}`: " + ", ".join(f"`{code}`" for code in values) if enum else "none"
        lines.append(f"| `{name}` | {listed} |")
    return "\n".join(lines) + "\n"
