"""The member's slice of the GraphQL schema: `me` and the member's mutations.

`MeQuery` and `MeMutation` are mixins for infra/schema.py, like every package's slice.
"""

from __future__ import annotations

import graphene

from network.gql import me_preload
from network.gql.me_actions import Donate, RevokeSession, SignOut, UpdateContact
from network.gql.me_join import JoinNetwork, RequestJoinCode
from network.gql.me_lottery import AcceptGift, DeclineGift, EnterLottery, SendPoints
from network.gql.me_preferences import UpdatePreferences
from network.gql.me_privacy import EraseMyData
from network.gql.me_profile import UpdateProfile
from network.gql.me_signin import RequestSignInCode, VerifySignInCode
from network.gql.me_types import Member, MemberSession, WalletEntry, ctx_of
from network.gql.rewards import BuyReward
from network.wallet import reads

# Referenced so the schema knows the node types even before a field returns them.
NODE_TYPES = (Member, WalletEntry, MemberSession)


class MeQuery(graphene.ObjectType):
    me = graphene.Field(Member, required=True,
                        description="The signed-in member (bearer token from verifySignInCode).")

    def resolve_me(root, info: graphene.ResolveInfo) -> Member:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        # The member, their wallet and first history page in one snapshot (see me_preload).
        found = reads.snapshot(ctx.reads, me_preload.load, member_id, ctx.settings.secret_key,
                               ctx.now, me_preload.plan(info))
        if found.member is None:  # a session outliving its member cannot happen: fail loudly
            raise LookupError(f"member {member_id} of a live session is missing")
        me = Member.of(found.member)
        me.preloaded_wallet = found.wallet
        me.preloaded_history = found.history
        return me


class MeMutation(graphene.ObjectType):
    request_sign_in_code = RequestSignInCode.Field(
        description="Send a member a one-time sign-in code by SMS or email.")
    verify_sign_in_code = VerifySignInCode.Field(
        description="Trade a code for a bearer token (a new session).")
    donate = Donate.Field(description="Donate spendable points to a charity.")
    buy_reward = BuyReward.Field(description="Buy a reward from the catalog with points.")
    update_contact = UpdateContact.Field(description="Change the member's contact details.")
    sign_out = SignOut.Field(description="End this session (or every session).")
    revoke_session = RevokeSession.Field(description="End one of the member's sessions.")
    request_join_code = RequestJoinCode.Field(
        description="Join the network: send a one-time code to a phone or email address.")
    join_network = JoinNetwork.Field(
        description="Trade the join code for a new card and a bearer token.")
    update_profile = UpdateProfile.Field(description="Change the member's profile.")
    erase_my_data = EraseMyData.Field(
        description="Erase the member's personal data now (the ledger keeps ids and points).")
    update_preferences = UpdatePreferences.Field(
        description="Choose which messages the member gets (consent), quiet hours, time zone.")
    enter_lottery = EnterLottery.Field(description="Enter a lottery draw (paid with points).")
    send_points = SendPoints.Field(description="Give points to another member, by card number "
                                               "or phone.")
    accept_gift = AcceptGift.Field(description="Accept a gift waiting for your consent.")
    decline_gift = DeclineGift.Field(description="Decline a waiting gift: its points go back to "
                                                 "the sender.")
