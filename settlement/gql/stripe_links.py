"""Staff mutations linking parties to Stripe (the same operations as `pointsnet settle link /
create-customer / onboard`, settlement/payouts/links.py), and the parties' links to read."""

from __future__ import annotations

from typing import Any

import graphene

from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation
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


# Naming a party, linking an id to it, and calling Stripe.
_PARTY = ("UNKNOWN_PARTY", "NOT_SETTLED_PARTY", "BAD_STRIPE_ACCOUNT_ID", "BAD_STRIPE_CUSTOMER_ID",
          "STRIPE_ID_IN_USE")
_STRIPE = ("NO_STRIPE", "STRIPE_REFUSED", "STRIPE_UNREACHABLE")


class LinkPartyToStripeInput(graphene.InputObjectType):
    party = graphene.String(required=True, description="The party's code.")
    stripe_account_id = graphene.String(description="acct_… of an existing connected account.")
    stripe_customer_id = graphene.String(description="cus_… of an existing customer.")


class LinkPartyToStripe(HubMutation):
    """Link a party to Stripe ids that already exist (replacing what was linked)."""

    class Arguments:
        input = LinkPartyToStripeInput(required=True)

    errors = UserErrors("LinkPartyToStripe", SettlementError.only(*_PARTY, "NOTHING_TO_LINK"))
    party = graphene.Field(SettlementPartyStripe)
    user_errors = errors.field()

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: LinkPartyToStripeInput) -> LinkPartyToStripe:
        ctx(info).staff("finance")
        linked = ctx(info).db.write(links.link, input.party, account_id=input.stripe_account_id,
                                    customer_id=input.stripe_customer_id)
        return cls(party=SettlementPartyStripe.of(linked), user_errors=[])


class CreatePartyStripeCustomerInput(graphene.InputObjectType):
    party = graphene.String(required=True, description="The party's code.")
    email = graphene.String(description="Where Stripe sends the party's invoices.")


class CreatePartyStripeCustomer(HubMutation):
    """Create the party's Stripe customer and link it."""

    class Arguments:
        input = CreatePartyStripeCustomerInput(required=True)

    errors = UserErrors("CreatePartyStripeCustomer",
                        SettlementError.only(*_PARTY, "ALREADY_LINKED", *_STRIPE))
    party = graphene.Field(SettlementPartyStripe)
    user_errors = errors.field()

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: CreatePartyStripeCustomerInput) -> CreatePartyStripeCustomer:
        ctx(info).staff("finance")
        linked = links.create_customer(ctx(info).db, gateway_of(info), input.party, input.email)
        return cls(party=SettlementPartyStripe.of(linked), user_errors=[])


class CreatePartyOnboardingLinkInput(graphene.InputObjectType):
    party = graphene.String(required=True, description="The party's code.")
    return_url = graphene.String(required=True, description="Where Stripe sends the party "
                                 "after onboarding.")
    refresh_url = graphene.String(required=True, description="Where Stripe sends the party "
                                  "when the link expired or was used (ask for a new one there).")
    email = graphene.String(description="The party's email, prefilled in onboarding.")


class CreatePartyOnboardingLink(HubMutation):
    """A single-use Stripe Connect onboarding URL (Account Link) for the party, creating and
    linking its Express connected account first when it has none."""

    class Arguments:
        input = CreatePartyOnboardingLinkInput(required=True)

    errors = UserErrors("CreatePartyOnboardingLink",
                        SettlementError.only(*_PARTY, "BAD_URL", *_STRIPE))
    party = graphene.Field(SettlementPartyStripe)
    url = graphene.String(description="Send it to the party; it works once.")
    expires_at = graphene.DateTime()
    created_account = graphene.Boolean()
    user_errors = errors.field()

    @classmethod
    def perform(cls, info: graphene.ResolveInfo,
                input: CreatePartyOnboardingLinkInput) -> CreatePartyOnboardingLink:
        ctx(info).staff("finance")
        result = links.onboard(ctx(info).db, gateway_of(info), input.party,
                               return_url=input.return_url, refresh_url=input.refresh_url,
                               email=input.email)
        return cls(party=SettlementPartyStripe.of(result.party), url=result.url,
                   expires_at=result.expires_at, created_account=result.created_account,
                   user_errors=[])


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
