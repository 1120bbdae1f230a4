"""The partners' slice of the GraphQL schema: `Query` and `Mutation` mixins for infra/schema.py.

Every field here needs an RFC 9421-signed request from a partner key with the right scope; the
authenticator refuses anything else before execution (see partners/authenticator.py).
"""

from __future__ import annotations

import graphene

from partners.gql.campaign_simulation import Query as SimulationQuery
from partners.gql.campaign_staff import Mutation as CampaignStaffMutation
from partners.gql.campaigns import CreateCampaign, SetCampaignStatus, UpdateCampaign
from partners.gql.earn import AwardPoints, AwardPointsBatch
from partners.gql.enrol import EnrolMember
from partners.gql.events import RecordEvent, RegisterEventType
from partners.gql.reversals import ReverseEarn, ReverseRedemption
from partners.gql.reward_staff import Mutation as RewardStaffMutation
from partners.gql.reward_staff import Query as RewardStaffQuery
from partners.gql.rewards import (
    CreateReward,
    RedeemCoupon,
    RefundCoupon,
    SetRewardStatus,
    UpdateReward,
    UploadRewardCodes,
)
from partners.gql.spend import AuthorizeHold, CaptureHold, RedeemPoints, VoidHold
from partners.gql.viewer import PartnerQuery
from partners.gql.webhooks import (
    CreateWebhookEndpoint,
    DeleteWebhookEndpoint,
    ReplayWebhookDelivery,
    RotateWebhookSecret,
    UpdateWebhookEndpoint,
)


class Query(PartnerQuery, SimulationQuery, RewardStaffQuery, graphene.ObjectType):
    pass


class Mutation(CampaignStaffMutation, RewardStaffMutation, graphene.ObjectType):
    enrol_member = EnrolMember.Field(
        description="Enrol a member of the whole network (scope enrol; Idempotency-Key).")
    award_points = AwardPoints.Field(
        description="Award points for a purchase (scope earn; Idempotency-Key).")
    award_points_batch = AwardPointsBatch.Field(
        description="Award points for up to 1,000 purchases, with a result per line (scope "
                    "earn; one Idempotency-Key for the batch).")
    redeem_points = RedeemPoints.Field(
        description="Take points as payment at once (scope redeem; Idempotency-Key).")
    authorize_hold = AuthorizeHold.Field(
        description="Reserve points, like a card authorisation (scope redeem; Idempotency-Key).")
    capture_hold = CaptureHold.Field(
        description="Take all or part of a hold; release the rest (scope redeem; "
                    "Idempotency-Key).")
    void_hold = VoidHold.Field(
        description="Release a hold completely (scope redeem; Idempotency-Key).")
    reverse_earn = ReverseEarn.Field(
        description="Take back points a purchase earned (refund; scope earn; Idempotency-Key).")
    reverse_redemption = ReverseRedemption.Field(
        description="Give back points a purchase or capture was paid with (refund; scope "
                    "redeem; Idempotency-Key).")
    record_event = RecordEvent.Field(
        description="Record a custom event (a review, a survey...) for a member (scope events; "
                    "Idempotency-Key).")
    register_event_type = RegisterEventType.Field(
        description="Register your own event type and its attribute spec (scope events; "
                    "Idempotency-Key).")
    create_campaign = CreateCampaign.Field(
        description="Save a new campaign of yours as a draft (scope campaigns; "
                    "Idempotency-Key).")
    update_campaign = UpdateCampaign.Field(
        description="Replace one of your campaigns' definition (scope campaigns; "
                    "Idempotency-Key).")
    set_campaign_status = SetCampaignStatus.Field(
        description="Activate, pause or end one of your campaigns; activation needs the "
                    "network's approval when it funds others or touches their sales (scope "
                    "campaigns; Idempotency-Key).")
    create_webhook_endpoint = CreateWebhookEndpoint.Field(
        description="Register an https endpoint for the events you want, signed with HMAC-SHA256 "
                    "or Ed25519 (Standard Webhooks; scope webhooks; Idempotency-Key).")
    update_webhook_endpoint = UpdateWebhookEndpoint.Field(
        description="Change an endpoint's URL or events, or disable or enable it (scope "
                    "webhooks; Idempotency-Key).")
    rotate_webhook_secret = RotateWebhookSecret.Field(
        description="A new signing key for an endpoint; the old one signs too for 24 hours "
                    "(scope webhooks; Idempotency-Key).")
    delete_webhook_endpoint = DeleteWebhookEndpoint.Field(
        description="Stop and remove an endpoint (its pending deliveries are cancelled; scope "
                    "webhooks; Idempotency-Key).")
    replay_webhook_delivery = ReplayWebhookDelivery.Field(
        description="Send a delivery's event again, same webhook-id and payload (scope "
                    "webhooks; Idempotency-Key).")
    create_reward = CreateReward.Field(
        description="Publish a reward you honour, as a draft (scope rewards; Idempotency-Key).")
    update_reward = UpdateReward.Field(
        description="Change some fields of a reward you honour (scope rewards; "
                    "Idempotency-Key).")
    set_reward_status = SetRewardStatus.Field(
        description="Put a reward on sale, pause or retire it (scope rewards; "
                    "Idempotency-Key).")
    upload_reward_codes = UploadRewardCodes.Field(
        description="Add a CSV of codes to a pool reward, all or none (scope rewards; "
                    "Idempotency-Key).")
    redeem_coupon = RedeemCoupon.Field(
        description="Use a member's coupon at your till (scope rewards; Idempotency-Key).")
    refund_coupon = RefundCoupon.Field(
        description="Give an unused coupon's points back to the member (scope rewards; "
                    "Idempotency-Key).")
