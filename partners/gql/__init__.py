"""The partners' slice of the GraphQL schema: `Query` and `Mutation` mixins for infra/schema.py.

Every field here needs an RFC 9421-signed request from a partner key with the right scope; the
authenticator refuses anything else before execution (see partners/authenticator.py).
"""

from __future__ import annotations

import graphene

from partners.gql.earn import AwardPoints, AwardPointsBatch
from partners.gql.enrol import EnrolMember
from partners.gql.reversals import ReverseEarn, ReverseRedemption
from partners.gql.spend import AuthorizeHold, CaptureHold, RedeemPoints, VoidHold
from partners.gql.viewer import PartnerQuery


class Query(PartnerQuery, graphene.ObjectType):
    pass


class Mutation(graphene.ObjectType):
    enrol_member = EnrolMember.Field(description="Enrol a member of the whole network.")
    award_points = AwardPoints.Field(description="Award points for a purchase.")
    award_points_batch = AwardPointsBatch.Field(
        description="Award points for up to 1,000 purchases, with a result per line.")
    redeem_points = RedeemPoints.Field(description="Take points as payment at once.")
    authorize_hold = AuthorizeHold.Field(description="Reserve points, like a card authorisation.")
    capture_hold = CaptureHold.Field(description="Take all or part of a hold; release the rest.")
    void_hold = VoidHold.Field(description="Release a hold completely.")
    reverse_earn = ReverseEarn.Field(description="Take back points a purchase earned (refund).")
    reverse_redemption = ReverseRedemption.Field(
        description="Give back points a purchase was paid with (refund).")
