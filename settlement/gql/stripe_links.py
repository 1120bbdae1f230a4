"""Staff mutations linking parties to Stripe (the same operations as `pointsnet settle link /
create-customer / onboard`, settlement/payouts/links.py), and the parties' links to read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene

from network.gql.errors import UserError, user_errors_field
from settlement.errors import SettlementError
from settlement.gql.types import ctx
from settlement.payouts import links
from settlement.payouts.gateway import StripeConfig, StripeGateway


class SettlementPartyStripe(graphene.ObjectType):
    """A party settlement pays (through its connected account) or charges (as a customer)."""

    code = graphene.String(required=True)
    name = graphene.String(required=True)
    kind = graphene.String(required=True, description="partner | charity")
    stripe_account_id = graphene.String(description="acct_…: transfers to the party go here.")
    stripe_customer_id = graphene.String(description="cus_…: the party is invoiced as this.")

    @staticmethod
    def of(link: links.PartyLink) -> SettlementPartyStripe:
        return SettlementPartyStripe(code=link.code, name=link.name, kind=link.kind,
                                     stripe_account_id=link.stripe_account_id,
                                     stripe_customer_id=link.stripe_customer_id)


def gateway_of(info: graphene.ResolveInfo) -> StripeGateway:
    config = StripeConfig.from_extra(ctx(info).settings.extra)
    if not config.api_key:
        raise SettlementError("NO_STRIPE", "Stripe is not configured on the hub "
                              "(POINTSNET_STRIPE_API_KEY)")
    return StripeGateway(config)


def _attempt(make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The payload's fields, or only userErrors when the operation refused (wrote nothing)."""
    try:
        return {**make(), "user_errors": []}
    except SettlementError as exc:
        return {"user_errors": [UserError(field=exc.field, code=exc.code, message=exc.message)]}


class LinkPartyToStripeInput(graphene.InputObjectType):
    party = graphene.String(required=True, description="The party's code.")
    stripe_account_id = graphene.String(description="acct_… of an existing connected account.")
    stripe_customer_id = graphene.String(description="cus_… of an existing customer.")


class LinkPartyToStripe(graphene.Mutation):
    """Link a party to Stripe ids that already exist (replacing what was linked)."""

    class Arguments:
        input = LinkPartyToStripeInput(required=True)

    party = graphene.Field(SettlementPartyStripe)
    user_errors = user_errors_field()

    @staticmethod
    def mutate(root: object, info: graphene.ResolveInfo,
               input: LinkPartyToStripeInput) -> LinkPartyToStripe:
        ctx(info).staff("finance")
        return LinkPartyToStripe(**_attempt(lambda: {"party": SettlementPartyStripe.of(
            ctx(info).db.write(links.link, input.party, account_id=input.stripe_account_id,
                               customer_id=input.stripe_customer_id))}))


class CreatePartyStripeCustomerInput(graphene.InputObjectType):
    party = graphene.String(required=True, description="The party's code.")
    email = graphene.String(description="Where Stripe sends the party's invoices.")


class CreatePartyStripeCustomer(graphene.Mutation):
    """Create the party's Stripe customer and link it."""

    class Arguments:
        input = CreatePartyStripeCustomerInput(required=True)

    party = graphene.Field(SettlementPartyStripe)
    user_errors = user_errors_field()

    @staticmethod
    def mutate(root: object, info: graphene.ResolveInfo,
               input: CreatePartyStripeCustomerInput) -> CreatePartyStripeCustomer:
        ctx(info).staff("finance")
        return CreatePartyStripeCustomer(**_attempt(lambda: {"party": SettlementPartyStripe.of(
            links.create_customer(ctx(info).db, gateway_of(info), input.party, input.email))}))


class CreatePartyOnboardingLinkInput(graphene.InputObjectType):
    party = graphene.String(required=True, description="The party's code.")
    return_url = graphene.String(required=True, description="Where Stripe sends the party "
                                 "after onboarding.")
    refresh_url = graphene.String(required=True, description="Where Stripe sends the party "
                                  "when the link expired or was used (ask for a new one there).")
    email = graphene.String(description="The party's email, prefilled in onboarding.")


class CreatePartyOnboardingLink(graphene.Mutation):
    """A single-use Stripe Connect onboarding URL (Account Link) for the party, creating and
    linking its Express connected account first when it has none."""

    class Arguments:
        input = CreatePartyOnboardingLinkInput(required=True)

    party = graphene.Field(SettlementPartyStripe)
    url = graphene.String(description="Send it to the party; it works once.")
    expires_at = graphene.DateTime()
    created_account = graphene.Boolean()
    user_errors = user_errors_field()

    @staticmethod
    def mutate(root: object, info: graphene.ResolveInfo,
               input: CreatePartyOnboardingLinkInput) -> CreatePartyOnboardingLink:
        ctx(info).staff("finance")

        def make() -> dict[str, Any]:
            result = links.onboard(ctx(info).db, gateway_of(info), input.party,
                                   return_url=input.return_url, refresh_url=input.refresh_url,
                                   email=input.email)
            return {"party": SettlementPartyStripe.of(result.party), "url": result.url,
                    "expires_at": result.expires_at, "created_account": result.created_account}

        return CreatePartyOnboardingLink(**_attempt(make))


class SettlementPartyKind(graphene.Enum):
    PARTNER = "partner"
    CHARITY = "charity"


class StripeLinksQuery(graphene.ObjectType):
    settlement_parties = graphene.List(
        graphene.NonNull(SettlementPartyStripe), required=True,
        kind=graphene.Argument(SettlementPartyKind, description="Only this kind of party."),
        description="The parties settlement pays or charges, with their Stripe ids (staff).")

    def resolve_settlement_parties(self, info: graphene.ResolveInfo,
                                   kind: Any = None) -> list[SettlementPartyStripe]:
        ctx(info).staff()
        wanted = getattr(kind, "value", kind)  # graphene passes the enum member
        return [SettlementPartyStripe.of(p) for p in ctx(info).db.read(links.all_links)
                if wanted is None or p.kind == wanted]
