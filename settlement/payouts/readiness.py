"""`pay --dry-run --check-stripe`: what Stripe itself would refuse, found before paying.

The plan's own blockers (pay.plan) need only our database: a party with no Stripe id. This
asks Stripe, read only, about the ids that are linked: a connected account that has not
finished onboarding cannot receive transfers (Stripe refuses them with
insufficient_capabilities_for_transfer), and an id Stripe does not know, or a deleted
customer, cannot be paid or invoiced. `pay` would fail those payments one by one; the dry run
lists them all, with the fix, before anything is sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from settlement.payouts.gateway import PermanentStripeError, StripeGateway, TransientStripeError
from settlement.payouts.pay import Planned


def _stripe_blocker(gateway: StripeGateway, item: Planned) -> str | None:
    if item.direction == "pay_out" and item.stripe_account_id:
        account = gateway.retrieve_account(item.stripe_account_id)
        state = _capability(account, "transfers")
        if state != "active":
            return (f"is owed {item.amount} but its connected account {account.id} cannot "
                    f"receive transfers yet (transfers capability {state}): the party must "
                    f"finish onboarding; a new link: pointsnet settle onboard --party "
                    f"{item.code} --return-url … --refresh-url …")
    if item.direction == "collect" and item.stripe_customer_id:
        customer = gateway.retrieve_customer(item.stripe_customer_id)
        if _field(customer, "deleted"):
            return (f"owes {item.amount} but its Stripe customer {customer.id} was deleted: "
                    f"link another: pointsnet settle link --party {item.code} --customer cus_…")
    return None


def _field(obj: Any, name: str) -> Any:
    return obj[name] if name in obj else None


def _capability(account: Any, name: str) -> str:
    capabilities = _field(account, "capabilities")
    return (capabilities[name] if capabilities and name in capabilities else None) or "missing"


def check_at_stripe(gateway: StripeGateway, planned: list[Planned]) -> list[Planned]:
    """The plan with Stripe's blockers added to each party whose linked ids Stripe would
    refuse (GET requests only: nothing is created or changed at Stripe)."""
    out = []
    for item in planned:
        try:
            blocker = _stripe_blocker(gateway, item)
        except PermanentStripeError as exc:
            linked = item.stripe_account_id if item.direction == "pay_out" \
                else item.stripe_customer_id
            blocker = (f"is linked to {linked}, which Stripe refuses: {exc.message} "
                       f"({exc.code}); relink: pointsnet settle link --party {item.code}")
        except TransientStripeError as exc:
            blocker = f"could not be checked, Stripe unreachable: {exc}"
        out.append(replace(item, blockers=(*item.blockers, blocker)) if blocker else item)
    return out
