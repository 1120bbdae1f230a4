"""The settlement slice of the GraphQL schema (`Query` and `Mutation` mixins for infra/schema.py).

Finance staff authenticate with `Authorization: Bearer pnst_…` (network.staff); partners read
their own statements with their usual signed requests.
"""

from __future__ import annotations

import graphene

from settlement.gql.mutations import CloseSettlement, PreviewSettlement
from settlement.gql.queries import SettlementQuery
from settlement.gql.stripe_links import (
    CreatePartyOnboardingLink,
    CreatePartyStripeCustomer,
    LinkPartyToStripe,
    StripeLinksQuery,
)


class Query(SettlementQuery, StripeLinksQuery, graphene.ObjectType):
    pass


class Mutation(graphene.ObjectType):
    preview_settlement = PreviewSettlement.Field(
        description="Compute a settlement period as a draft (finance staff).")
    close_settlement = CloseSettlement.Field(
        description="Close a settlement period for good (finance staff).")
    link_party_to_stripe = LinkPartyToStripe.Field(
        description="Link a party to existing Stripe ids (finance staff).")
    create_party_stripe_customer = CreatePartyStripeCustomer.Field(
        description="Create and link a party's Stripe customer (finance staff).")
    create_party_onboarding_link = CreatePartyOnboardingLink.Field(
        description="A Stripe Connect onboarding link for a party (finance staff).")
