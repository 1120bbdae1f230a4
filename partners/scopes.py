"""What a key may do. Scopes are checked per root field of the GraphQL operation before
anything executes, so a key without `redeem` is refused with 403 SCOPE_MISSING and no write."""

from __future__ import annotations

from collections.abc import Iterable

from network.ledger.errors import InvalidInput

READ = "read"
ENROL = "enrol"
EARN = "earn"
REDEEM = "redeem"
EVENTS = "events"  # recordEvent, registerEventType
CAMPAIGNS = "campaigns"  # manage (and simulate) the partner's own campaigns
WEBHOOKS = "webhooks"  # manage the partner's webhook endpoints and see their deliveries
REWARDS = "rewards"  # publish catalog rewards, upload codes, redeem and refund coupons
ALL_SCOPES = frozenset({READ, ENROL, EARN, REDEEM, EVENTS, CAMPAIGNS, WEBHOOKS, REWARDS})

# Partner root fields and the scope each needs; a root field not listed needs `read`.
FIELD_SCOPES: dict[str, str] = {
    "enrolMember": ENROL,
    "awardPoints": EARN,
    "awardPointsBatch": EARN,
    "reverseEarn": EARN,
    "redeemPoints": REDEEM,
    "authorizeHold": REDEEM,
    "captureHold": REDEEM,
    "voidHold": REDEEM,
    "reverseRedemption": REDEEM,
    "recordEvent": EVENTS,
    "registerEventType": EVENTS,
    "createCampaign": CAMPAIGNS,
    "updateCampaign": CAMPAIGNS,
    "setCampaignStatus": CAMPAIGNS,
    "createWebhookEndpoint": WEBHOOKS,
    "updateWebhookEndpoint": WEBHOOKS,
    "rotateWebhookSecret": WEBHOOKS,
    "deleteWebhookEndpoint": WEBHOOKS,
    "replayWebhookDelivery": WEBHOOKS,
    "createReward": REWARDS,
    "updateReward": REWARDS,
    "setRewardStatus": REWARDS,
    "uploadRewardCodes": REWARDS,
    "redeemCoupon": REWARDS,
    "refundCoupon": REWARDS,
}


def partner_fields(root_fields: Iterable[str]) -> set[str]:
    """The root fields only a partner may call; an unsigned request selecting one gets 401.

    Partner mutations are listed above; every partner query's name starts with `partner`
    (`partner`, and settlement's `partnerSettlementStatement`, which this package cannot import).
    """
    return {name for name in root_fields if name in FIELD_SCOPES or name.startswith("partner")}


def parse_scopes(value: str | list[str] | tuple[str, ...]) -> frozenset[str]:
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    unknown = sorted(set(items) - ALL_SCOPES)
    if unknown:
        raise InvalidInput(
            f"unknown scope(s) {', '.join(unknown)}; use {', '.join(sorted(ALL_SCOPES))}",
            field="scopes", code="UNKNOWN_SCOPE",
        )
    if not items:
        raise InvalidInput("a key needs at least one scope", field="scopes")
    return frozenset(items)


def required_scope(field_name: str) -> str:
    return FIELD_SCOPES.get(field_name, READ)
