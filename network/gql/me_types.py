"""What a signed-in member sees of themselves: the Member node, its wallet, history, sessions.

Every resolver that reads member data checks that the object belongs to the calling member
(`own`), so no path through the graph -- `me`, `node(id:)`, a reversal link -- shows one member
another member's data; a foreign id looks exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphene
from graphene import relay
from sqlalchemy.engine import Connection

from network import members, referrals
from network.gql import rewards as rewards_gql
from network.gql.context import PermissionDenied, RequestContext
from network.gql.rewards import Catalog, MemberReward
from network.ledger import balances
from network.ledger.balances import WalletBalance
from network.programme import explain, ladder_store, tiers
from network.signin import devices
from network.signin import sessions as session_store
from network.signin.sessions import Session
from network.wallet import history, pending, reads, totals
from network.wallet.errors import WalletError
from network.wallet.history import HistoryEntry
from network.wallet.parties_view import PartyName
from network.wallet.qr import card_svg
from network.wallet.worth import worth
from network.web.i18n import locale_for

# Parts of `me` served by their own modules (profile, privacy, preferences, lottery and gifts).
# Those modules build on this one (ctx_of, own, Wallet), so this one imports none of them: each
# registers its part with `member_part` when network/gql/me.py imports it, and Member's fields
# name their types by import path (tests/test_import_circles.py keeps the slice free of circles).
MemberPart = Callable[[graphene.ResolveInfo, int], Any]
_member_parts: dict[str, MemberPart] = {}


def member_part(name: str) -> Callable[[MemberPart], MemberPart]:
    """Register the resolver of `me.<name>`: called with the request and the member's id,
    after `own` has checked the member is the signed-in one."""
    def register(resolve: MemberPart) -> MemberPart:
        _member_parts[name] = resolve
        return resolve
    return register


def _part(name: str, info: graphene.ResolveInfo, member_id: int) -> Any:
    own(info, member_id)
    return _member_parts[name](info, member_id)


def ctx_of(info: graphene.ResolveInfo) -> RequestContext:
    return info.context


def own(info: graphene.ResolveInfo, member_id: int) -> RequestContext:
    """The context, after checking the caller is the member who owns `member_id`'s data."""
    ctx = ctx_of(info)
    if ctx.member().member_id != member_id:
        raise PermissionDenied("a member can only see their own wallet")
    return ctx


class DatedPoints(graphene.ObjectType):
    points = graphene.Int(required=True)
    at = graphene.DateTime(required=True)


class PointsValue(graphene.ObjectType):
    """Points in money at the network's published value per point (a guide; rounded half-even
    to the currency's minor unit)."""

    amount = graphene.String(required=True, description="Decimal in major units, e.g. \"7.00\".")
    amount_minor = graphene.Int(required=True, description="In minor units (cents).")
    currency = graphene.String(required=True, description="ISO 4217.")
    per_point = graphene.String(required=True, description="The published value of one point.")


class Tier(graphene.ObjectType):
    """The tier the member holds (stored; recalculated at earn time and daily)."""

    name = graphene.String(required=True, description="blue, silver, gold or platinum.")
    earned = graphene.Int(required=True, description="Points earned in the last 12 months.")
    next_name = graphene.String(description="The next tier up; null at the top.")
    next_threshold = graphene.Int(description="Points in 12 months the next tier needs.")
    remaining = graphene.Int(required=True, description="Points still to earn for the next tier.")
    since = graphene.DateTime(description="When the member reached this tier; null for the "
                                          "first tier, which everyone holds.")
    kept_until = graphene.Date(description="The last day the tier is kept if the member falls "
                                           "below it (network time zone); null for the first "
                                           "tier.")
    points_to_keep = graphene.Int(required=True,
                                  description="Points still to earn by keptUntil to keep the "
                                              "tier; 0 while the member qualifies for it.")
    earn_multiplier = graphene.String(required=True,
                                      description="What the tier multiplies a purchase's base "
                                                  "points by, e.g. \"1.25\".")


class WalletParty(graphene.ObjectType):
    """A partner, charity or the network itself, as named in a member's wallet."""

    id = graphene.ID(required=True, description="For charities, the Charity id donate takes.")
    kind = graphene.String(required=True, description="partner, charity or network.")
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    name_fa = graphene.String()

    @classmethod
    def of(cls, party: PartyName) -> WalletParty:
        type_name = "Charity" if party.kind == "charity" else "WalletParty"
        return cls(id=relay.Node.to_global_id(type_name, party.id), kind=party.kind,
                   code=party.code, name=party.name, name_fa=party.name_fa)


class PartyTotal(graphene.ObjectType):
    party = graphene.Field(WalletParty, required=True)
    earned = graphene.Int(required=True, description="Earned net of reversals.")
    spent = graphene.Int(required=True, description="Spent or donated net of refunds.")


class WalletEntryKind(graphene.Enum):
    EARN = "earn"
    BONUS = "bonus"
    REDEEM = "redeem"
    REWARD = "reward"
    HOLD = "hold"
    CAPTURE = "capture"
    VOID = "void"
    HOLD_EXPIRY = "hold_expiry"
    REVERSE_EARN = "reverse_earn"
    REVERSE_REDEMPTION = "reverse_redemption"
    DONATE = "donate"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    EXPIRE = "expire"
    LOTTERY = "lottery"
    GIFT_OUT = "gift_out"


class PendingPoints(graphene.ObjectType):
    points = graphene.Int(required=True)
    at = graphene.DateTime(required=True, description="When they become spendable.")
    partner = graphene.Field(WalletParty, required=True, description="Who issued them.")


class WalletEarnSource(graphene.Enum):
    BASE = "base"
    CAMPAIGN = "campaign"
    TIER = "tier"
    REWARD = "reward"


class WalletEarnLine(graphene.ObjectType):
    """One reason an earn gave points: the partner's base, a campaign, or the member's tier."""

    source = graphene.Field(WalletEarnSource, required=True)
    code = graphene.String(description="The campaign's or tier's code; null for BASE.")
    name = graphene.String(description="The campaign's or tier's name in English; null for "
                                       "BASE.")
    name_fa = graphene.String(description="Its name in Persian.")
    reward_name = graphene.String(description="For REWARD: the catalog reward the campaign "
                                              "gave (its points were spent on it), in English.")
    reward_name_fa = graphene.String(description="For REWARD: its name in Persian.")
    funder = graphene.Field(WalletParty, required=True, description="Whose points these are.")
    points = graphene.Int(required=True)

    @classmethod
    def of(cls, line: explain.Line) -> WalletEarnLine:
        funder = PartyName(line.funder_id, line.funder_kind, line.funder_code,
                           line.funder_name_en, line.funder_name_fa)
        return cls(source=line.source, code=line.code, name=line.name_en, name_fa=line.name_fa,
                   reward_name=line.reward_en, reward_name_fa=line.reward_fa,
                   funder=WalletParty.of(funder), points=line.points)


class WalletEntry(graphene.ObjectType):
    """One line of the member's history."""

    class Meta:
        interfaces = (relay.Node,)

    kind = graphene.Field(WalletEntryKind, required=True)
    points = graphene.Int(required=True, description="The amount of the entry, always positive.")
    wallet_points = graphene.Int(required=True,
                                 description="Signed change to the member's wallet (a hold moves "
                                             "points out of it; its capture moves none).")
    party = graphene.Field(WalletParty, description="The partner or charity on the other side.")
    reference = graphene.String(description="The partner's reference (receipt, order number).")
    booked_at = graphene.DateTime(required=True)
    reverses = graphene.Field(lambda: WalletEntry, description="The entry this one reverses.")
    reversed_by = graphene.List(graphene.NonNull(lambda: WalletEntry), required=True,
                                description="Entries that reverse this one.")
    breakdown = graphene.List(graphene.NonNull(WalletEarnLine), required=True,
                              description="For an earn a campaign or tier added to: why, line by "
                                          "line (the base first). Empty otherwise.")

    def resolve_breakdown(self, info: graphene.ResolveInfo) -> list[WalletEarnLine]:
        return [WalletEarnLine.of(line) for line in self.entry.breakdown]

    @classmethod
    def of(cls, member_id: int, entry: HistoryEntry) -> WalletEntry:
        node = cls(id=entry.id, kind=entry.kind, points=entry.points,
                   wallet_points=entry.wallet_points,
                   party=WalletParty.of(entry.party) if entry.party else None,
                   reference=entry.reference, booked_at=entry.booked_at)
        node.member_id = member_id
        node.entry = entry
        return node

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> WalletEntry | None:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        if not id.isdigit():
            return None
        found = ctx.reads.read(history.entry, member_id, int(id))
        return cls.of(member_id, found) if found else None

    def resolve_reverses(self, info: graphene.ResolveInfo) -> WalletEntry | None:
        ctx = own(info, self.member_id)
        original = self.entry.reverses_entry_id
        found = ctx.reads.read(history.entry, self.member_id, original) if original else None
        return WalletEntry.of(self.member_id, found) if found else None

    def resolve_reversed_by(self, info: graphene.ResolveInfo) -> list[WalletEntry]:
        ctx = own(info, self.member_id)
        found = [ctx.reads.read(history.entry, self.member_id, i)
                 for i in self.entry.reversed_by]
        return [WalletEntry.of(self.member_id, e) for e in found if e is not None]


class WalletEntryConnection(relay.Connection):
    class Meta:
        node = WalletEntry


@dataclass
class WalletData:
    """Balance and activity read in one transaction; tier and partners are derived from it."""

    member_id: int
    balance: WalletBalance
    activity: totals.Activity
    held: tiers.HeldTier | None = None  # the stored tier (tiers_store)
    ladder: tuple[tiers.TierDefinition, ...] = ()  # the ladder in force when it was read

    @classmethod
    def read(cls, conn: Connection, member_id: int, now: dt.datetime) -> WalletData:
        done = totals.activity(conn, member_id, now)
        return cls(member_id, balances.summary(conn, member_id, now), done, done.held,
                   ladder_store.ladder(conn))

    @classmethod
    def load(cls, ctx: RequestContext, member_id: int) -> WalletData:
        return reads.snapshot(ctx.reads, cls.read, member_id, ctx.now)


class Wallet(graphene.ObjectType):
    total = graphene.Int(required=True, description="spendable + pending - debt.")
    spendable = graphene.Int(required=True)
    pending = graphene.Int(required=True, description="Earned, not yet vested.")
    held = graphene.Int(required=True, description="Reserved by open holds.")
    debt = graphene.Int(required=True, description="Owed after a clawback; repaid first.")
    spendable_value = graphene.Field(PointsValue, required=True,
                                     description="What the spendable points are worth.")
    pending_lots = graphene.List(graphene.NonNull(DatedPoints), required=True,
                                 description="Pending points by the time they vest.")
    pending_by_partner = graphene.List(graphene.NonNull(PendingPoints), required=True,
                                       description="Pending points by partner and vesting time.")
    expiring = graphene.List(graphene.NonNull(DatedPoints), required=True,
                             within_days=graphene.Int(default_value=90),
                             description="Spendable points expiring within the next days.")
    tier = graphene.Field(Tier)
    partners = graphene.List(graphene.NonNull(PartyTotal), required=True,
                             description="Earned and spent per partner (and per charity).")

    def resolve_total(self: WalletData, info: graphene.ResolveInfo) -> int:
        return self.balance.total

    def resolve_spendable(self: WalletData, info: graphene.ResolveInfo) -> int:
        return self.balance.spendable

    def resolve_pending(self: WalletData, info: graphene.ResolveInfo) -> int:
        return self.balance.pending

    def resolve_held(self: WalletData, info: graphene.ResolveInfo) -> int:
        return self.balance.held

    def resolve_debt(self: WalletData, info: graphene.ResolveInfo) -> int:
        return self.balance.debt

    def resolve_spendable_value(self: WalletData, info: graphene.ResolveInfo) -> PointsValue:
        settings = own(info, self.member_id).settings
        money = worth(self.balance.spendable, settings.point_value, settings.currency)
        return PointsValue(amount=str(money.to_major()), amount_minor=money.amount_minor,
                           currency=money.currency, per_point=str(settings.point_value))

    def resolve_pending_by_partner(self: WalletData,
                                   info: graphene.ResolveInfo) -> list[PendingPoints]:
        # The balance's own pending lots grouped by partner, so it always agrees with
        # `pending`; only the partners' names are read, when asked, something is pending and
        # the per-partner sums read with the balance did not name them already.
        ctx = own(info, self.member_id)
        known = [t.party for t in self.activity.partners]
        return [PendingPoints(points=p.points, at=p.vests_at, partner=WalletParty.of(p.party))
                for p in ctx.reads.read(pending.by_partner, self.balance, known)]

    def resolve_pending_lots(self: WalletData, info: graphene.ResolveInfo) -> list[DatedPoints]:
        return [DatedPoints(points=d.points, at=d.at) for d in self.balance.pending_lots]

    def resolve_expiring(self: WalletData, info: graphene.ResolveInfo,
                         within_days: int = 90) -> list[DatedPoints]:
        ctx = own(info, self.member_id)
        if not 1 <= within_days <= 3660:
            raise WalletError("INVALID_WINDOW", "withinDays is between 1 and 3660.",
                              field="withinDays")
        summary = self.balance if within_days == 90 else ctx.reads.read(
            balances.summary, self.member_id, ctx.now, dt.timedelta(days=within_days))
        return [DatedPoints(points=d.points, at=d.at) for d in summary.expiring]

    def resolve_tier(self: WalletData, info: graphene.ResolveInfo) -> Tier | None:
        own(info, self.member_id)
        status = tiers.held_standing(self.ladder, tiers.TierFacts(self.activity.tier_points),
                                     self.held)
        if status is None:
            return None
        return Tier(name=status.name, earned=status.earned, next_name=status.next_name,
                    next_threshold=status.next_threshold, remaining=status.remaining,
                    since=status.since, kept_until=status.until, points_to_keep=status.below,
                    earn_multiplier=str(status.tier.earn_multiplier))

    def resolve_partners(self: WalletData, info: graphene.ResolveInfo) -> list[PartyTotal]:
        own(info, self.member_id)
        return [PartyTotal(party=WalletParty.of(r.party), earned=r.earned, spent=r.spent)
                for r in self.activity.partners]


class MemberSession(graphene.ObjectType):
    """A signed-in browser or API client."""

    class Meta:
        interfaces = (relay.Node,)

    kind = graphene.String(required=True, description="cookie (web page) or bearer (API).")
    created_at = graphene.DateTime(required=True)
    last_seen_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime(required=True)
    user_agent = graphene.String(required=True)
    device = graphene.String(required=True, description="A readable name for the user agent, "
                                                        "e.g. \"Chrome on Android\".")
    ip = graphene.String(required=True)
    current = graphene.Boolean(required=True, description="The session making this request.")

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> MemberSession | None:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        live = ctx.db.read(session_store.list_live, member_id, ctx.now)
        return next((cls.of(s) for s in live if str(s.id) == id), None)

    @classmethod
    def of(cls, session: Session) -> MemberSession:
        return cls(id=session.id, kind=session.kind, created_at=session.created_at,
                   last_seen_at=session.last_seen_at, expires_at=session.expires_at,
                   user_agent=session.user_agent, ip=session.ip)

    def resolve_device(self, info: graphene.ResolveInfo) -> str:
        return devices.label(locale_for("en"), self.user_agent)

    def resolve_current(self, info: graphene.ResolveInfo) -> bool:
        principal = ctx_of(info).principal
        return getattr(principal, "session_id", None) == int(self.id)


class Member(graphene.ObjectType):
    """The signed-in member: one wallet across every partner of the network."""

    class Meta:
        interfaces = (relay.Node,)

    card_number = graphene.String(required=True)
    card_qr_svg = graphene.String(required=True, description="The card number as a QR code "
                                                             "(inline SVG) to show at the till.")
    display_name = graphene.String()
    email = graphene.String()
    phone = graphene.String()
    locale = graphene.String(required=True)
    birth_date = graphene.Date()
    referral_code = graphene.String(required=True, description="The member's own code for "
                                                                "inviting others.")
    referral_link = graphene.String(required=True, description="The invitation link carrying "
                                                                "the code ({base_url}/join?ref=).")
    wallet = graphene.Field(Wallet, required=True)
    history = graphene.Field(WalletEntryConnection, required=True,
                             first=graphene.Int(default_value=20), after=graphene.String(),
                             description="Newest first; first is at most 100.")
    sessions = graphene.List(graphene.NonNull(MemberSession), required=True)
    profile = graphene.Field("network.gql.me_profile.MemberProfile", required=True)
    data_export = graphene.JSONString(required=True, description="Everything the network holds "
                                      "about the member (contacts, profile, ledger, sessions, "
                                      "messages, events, audit entries), as one JSON document.")
    preferences = graphene.Field("network.gql.me_preferences.MessagePreferences", required=True,
                                 description="Which messages the member gets, and when.")
    lotteries = graphene.List(graphene.NonNull("network.gql.me_lottery.MemberLottery"),
                              required=True,
                              description="Lottery draws: public facts and the member's own "
                                          "entries (network/gql/me_lottery.py).")
    gifts = graphene.List(graphene.NonNull("network.gql.me_lottery.MemberGift"), required=True,
                          description="The member's latest 20 gifts, sent and received.")
    catalog = graphene.Field(
        Catalog, required=True,
        partner=graphene.String(description="Only this partner's rewards (its code)."),
        affordable=graphene.Boolean(default_value=False,
                                    description="Only what the spendable points can buy."),
        description="Rewards on sale to this member, by partner then price.")
    rewards = graphene.List(graphene.NonNull(MemberReward), required=True,
                            description="Rewards the member bought, newest first (100 at most).")

    @classmethod
    def of(cls, member: members.Member) -> Member:
        return cls(id=member.id, card_number=member.card_number, display_name=member.display_name,
                   email=member.email, phone=member.phone, locale=member.locale,
                   birth_date=member.birth_date, referral_code=member.referral_code)

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> Member | None:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        if id != str(member_id):
            return None
        found = ctx.reads.read(members.get, member_id, ctx.settings.secret_key)
        return cls.of(found) if found else None

    def resolve_lotteries(self, info: graphene.ResolveInfo) -> Any:
        return _part("lotteries", info, int(self.id))

    def resolve_gifts(self, info: graphene.ResolveInfo) -> Any:
        return _part("gifts", info, int(self.id))

    def resolve_referral_link(self, info: graphene.ResolveInfo) -> str:
        return referrals.link(own(info, int(self.id)).settings.base_url, self.referral_code)

    def resolve_profile(self, info: graphene.ResolveInfo) -> Any:
        return _part("profile", info, int(self.id))

    def resolve_data_export(self, info: graphene.ResolveInfo) -> Any:
        return _part("dataExport", info, int(self.id))
    def resolve_catalog(self, info: graphene.ResolveInfo, partner: str | None = None,
                        affordable: bool = False) -> Catalog:
        return rewards_gql.catalog(own(info, int(self.id)), int(self.id), self.locale, partner,
                                   affordable)

    def resolve_rewards(self, info: graphene.ResolveInfo) -> list[MemberReward]:
        return rewards_gql.my_rewards(own(info, int(self.id)), int(self.id), self.locale)

    def resolve_card_qr_svg(self, info: graphene.ResolveInfo) -> str:
        own(info, int(self.id))
        return card_svg(self.card_number, "Member card")

    def resolve_wallet(self, info: graphene.ResolveInfo) -> WalletData:
        ctx = own(info, int(self.id))
        preloaded = getattr(self, "preloaded_wallet", None)
        return preloaded if preloaded is not None else WalletData.load(ctx, int(self.id))

    def resolve_history(self, info: graphene.ResolveInfo, first: int = 20,
                        after: str | None = None) -> Any:
        ctx = own(info, int(self.id))
        page = getattr(self, "preloaded_history", {}).get((first, after))
        if page is None:
            size = history.check_page_size(first)
            cursor = history.decode_cursor(after) if after else None
            page = ctx.reads.read(history.page, int(self.id), first=size, after=cursor)
        edges = [WalletEntryConnection.Edge(node=WalletEntry.of(int(self.id), e),
                                            cursor=history.encode_cursor(e.booked_at, e.id))
                 for e in page.entries]
        return WalletEntryConnection(edges=edges, page_info=relay.PageInfo(
            has_next_page=page.next_cursor is not None, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    def resolve_preferences(self, info: graphene.ResolveInfo) -> Any:
        return _part("preferences", info, int(self.id))

    def resolve_sessions(self, info: graphene.ResolveInfo) -> list[MemberSession]:
        ctx = own(info, int(self.id))
        live = ctx.db.read(session_store.list_live, int(self.id), ctx.now)
        return [MemberSession.of(s) for s in live]
