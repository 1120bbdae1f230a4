"""What a partner sees: itself, a member (balance and tier, never contact details or another
partner's history), its own transactions and holds.

Every loader filters by the calling partner, so `node(id:)` on another partner's transaction
returns null exactly like an id that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from graphene import relay
from sqlalchemy import Connection

from network import members
from network.clock import as_utc
from network.gql.context import RequestContext
from network.ledger import balances
from network.programme import explain, ladder_store, tier_facts
from partners import ledger_view
from partners.scopes import READ


class TransactionKind(graphene.Enum):
    """What a PartnerTransaction did; HOLD_EXPIRY is booked by the hub when a hold lapses;
    REWARD is a member buying a reward you honour (its refund is a REVERSE_REDEMPTION). BONUS:
    points this partner funded (a campaign's or a fact's) on an entry that is not one of its
    own earns, e.g. its campaign at another partner or a review bonus; `points` is its part.
    BONUS_REVERSAL: such points taken back with the earn they were booked on (a refund at the
    other partner); it `reverses` the BONUS, and `points` is the part taken back."""

    EARN = "earn"
    REDEEM = "redeem"
    REWARD = "reward"
    HOLD = "hold"
    CAPTURE = "capture"
    VOID = "void"
    HOLD_EXPIRY = "hold_expiry"
    REVERSE_EARN = "reverse_earn"
    REVERSE_REDEMPTION = "reverse_redemption"
    BONUS = "bonus"
    BONUS_REVERSAL = "bonus_reversal"


PARTNER_KINDS = ledger_view.PARTNER_KINDS


def _ctx(info: graphene.ResolveInfo) -> RequestContext:
    return info.context


class PartnerMember(graphene.ObjectType):
    """A network member as a partner's till sees them."""

    class Meta:
        interfaces = (relay.Node,)

    card_number = graphene.String(required=True, description="16 digits, the last a Luhn check "
                                                             "digit.")
    display_name = graphene.String()
    balance = graphene.Int(required=True, description="Points the member owns: spendable + "
                                                      "pending - debt (outside holds).")
    spendable = graphene.Int(required=True, description="Points that can be redeemed now.")
    pending = graphene.Int(required=True, description="Points earned but not yet vested.")
    held = graphene.Int(required=True, description="Points reserved by open holds.")
    tier = graphene.String(description="Network tier: blue, silver, gold or platinum (lower "
                                       "case).")
    enrolled_here = graphene.Boolean(required=True,
                                     description="Whether your business enrolled this member.")

    @classmethod
    def load(cls, conn: Connection, ctx: RequestContext, member_id: int) -> PartnerMember | None:
        member = members.get(conn, member_id, ctx.settings.secret_key)
        if member is None:
            return None
        return cls.from_member(conn, ctx, member)

    @classmethod
    def from_member(cls, conn: Connection, ctx: RequestContext, member: Any) -> PartnerMember:
        wallet = balances.summary(conn, member.id, ctx.now)
        tier = tier_facts.status(conn, member.id, ctx.now)
        partner = ctx.partner()
        return cls(
            id=member.id, card_number=member.card_number, display_name=member.display_name,
            balance=wallet.total, spendable=wallet.spendable, pending=wallet.pending,
            held=wallet.held, tier=tier.name if tier else None,
            enrolled_here=member.enrolled_by_party_id == partner.party_id,
        )

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> PartnerMember | None:
        ctx = _ctx(info)
        ctx.partner(READ)
        if not id.isdigit():
            return None
        return ctx.db.read(lambda conn: cls.load(conn, ctx, int(id)))


class EarnSource(graphene.Enum):
    """Where an earn's points came from: your contract, a campaign, or the member's tier;
    REWARD: a campaign's points the member was given as a catalog reward, spent on it at once."""

    BASE = "base"
    CAMPAIGN = "campaign"
    TIER = "tier"
    REWARD = "reward"


class EarnBreakdownLine(graphene.ObjectType):
    """One reason an earn gave points, and who funds them (the party billed in settlement)."""

    source = graphene.Field(EarnSource, required=True)
    campaign_code = graphene.String(description="For CAMPAIGN and REWARD: the campaign's code.")
    campaign_name = graphene.String(description="For CAMPAIGN and REWARD: its name in English.")
    campaign_name_fa = graphene.String(description="For CAMPAIGN and REWARD: its name in "
                                                   "Persian.")
    reward_name = graphene.String(description="For REWARD: the reward issued, in English.")
    reward_name_fa = graphene.String(description="For REWARD: the reward issued, in Persian.")
    tier = graphene.String(description="For TIER: the member's tier code (lower case).")
    funder_code = graphene.String(required=True, description="The party whose points these are "
                                                             "(a partner's code, or network).")
    points = graphene.Int(required=True, description="Points of this line; the lines sum to the "
                                                     "transaction's points.")

    @classmethod
    def of(cls, line: explain.Line) -> EarnBreakdownLine:
        campaign = line.source in ("campaign", "reward")
        return cls(source=line.source, campaign_code=line.code if campaign else None,
                   campaign_name=line.name_en if campaign else None,
                   campaign_name_fa=line.name_fa if campaign else None,
                   reward_name=line.reward_en, reward_name_fa=line.reward_fa,
                   tier=line.code if line.source == "tier" else None,
                   funder_code=line.funder_code, points=line.points)


class PartnerTransaction(graphene.ObjectType):
    """One ledger entry between this partner and a member."""

    class Meta:
        interfaces = (relay.Node,)

    kind = graphene.Field(TransactionKind, required=True)
    points = graphene.Int(required=True, description="Always positive; the kind gives the sign.")
    reference = graphene.String(description="Your own reference (receipt, order number).")
    booked_at = graphene.DateTime(required=True, description="When the hub booked it (ISO 8601, "
                                                             "UTC).")
    member_id = graphene.ID(required=True, description="The member's PartnerMember id.")
    reverses = graphene.ID(description="For reversals: the transaction reversed.")
    hold_id = graphene.ID(description="For hold, capture, void and hold expiry: the PartnerHold "
                                      "id.")
    purchase_amount = graphene.Int(description="For earns: the purchase in minor units (the "
                                               "amount awardPoints was given).")
    purchase_currency = graphene.String(description="For earns: the purchase's ISO 4217 code.")
    breakdown = graphene.List(
        graphene.NonNull(EarnBreakdownLine), required=True,
        description="For earns: why it gave its points, your contract's base first, then each "
                    "campaign or tier part with its funder. Empty for other kinds.")

    def resolve_breakdown(self, info: graphene.ResolveInfo) -> list[EarnBreakdownLine]:
        return self.breakdown_lines(_ctx(info))

    def breakdown_lines(self, ctx: RequestContext) -> list[EarnBreakdownLine]:
        if self.kind != "earn" and getattr(self.kind, "value", None) != "earn":
            return []
        partner_id = ctx.partner().party_id
        entry_id, points = int(self.id), int(self.points)
        stored = getattr(self, "_breakdown", None)
        if stored is not None:  # an answer's receipt: names from this process's recent reads
            names = explain.shared_names(str(ctx.db.url))
            parts = explain.receipt_parts(stored, issuer_id=partner_id, points=points)
            if names.missing(parts):
                ctx.db.read(names.load, parts)
            ladder = ladder_store.for_database(ctx.db)
            return [EarnBreakdownLine.of(line) for line in names.lines(parts, ladder)]

        def read(conn: Connection) -> list[explain.Line]:
            found = explain.for_entries(conn, {entry_id: (partner_id, points)}).get(entry_id)
            return found or explain.from_receipt(conn, (), issuer_id=partner_id, points=points)

        return [EarnBreakdownLine.of(line) for line in ctx.db.read(read)]

    @classmethod
    def from_row(cls, row: Any) -> PartnerTransaction:
        details = row.details or {}
        return cls(
            id=row.id, kind=row.kind, points=row.points, reference=row.reference,
            booked_at=as_utc(row.booked_at),
            member_id=relay.Node.to_global_id("PartnerMember", row.member_id),
            reverses=(relay.Node.to_global_id("PartnerTransaction", row.reverses_entry_id)
                      if row.reverses_entry_id else None),
            hold_id=relay.Node.to_global_id("PartnerHold", row.hold_id) if row.hold_id else None,
            purchase_amount=details.get("amount_minor"),
            purchase_currency=details.get("currency"),
        )

    @classmethod
    def load(cls, conn: Connection, partner_id: int, entry_id: int) -> PartnerTransaction | None:
        row = ledger_view.entry(conn, partner_id, entry_id)
        return cls.from_row(row) if row else None

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> PartnerTransaction | None:
        ctx = _ctx(info)
        partner = ctx.partner(READ)
        if not id.isdigit():
            return None
        return ctx.db.read(cls.load, partner.party_id, int(id))


class HoldStatus(graphene.Enum):
    """AUTHORIZED until captured, voided or expired. A hold past its expiresAt stays AUTHORIZED
    until the hub's expiry run releases it, and captureHold or voidHold on it is HOLD_EXPIRED."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


class PartnerHold(graphene.ObjectType):
    """Points reserved like a card authorisation, until captured, voided or expired."""

    class Meta:
        interfaces = (relay.Node,)

    status = graphene.Field(HoldStatus, required=True)
    points = graphene.Int(required=True, description="Points reserved when it was authorised.")
    captured = graphene.Int(required=True, description="Points captureHold took; 0 until then "
                                                       "(and when voided or expired).")
    expires_at = graphene.DateTime(required=True, description="When it lapses (ISO 8601, UTC).")
    reference = graphene.String(description="The reference authorizeHold was given.")
    member_id = graphene.ID(required=True, description="The member's PartnerMember id.")

    @classmethod
    def load(cls, conn: Connection, partner_id: int, hold_id: int,
             member_id: int | None = None) -> PartnerHold | None:
        row = ledger_view.hold(conn, partner_id, hold_id, member_id)
        if row is None:
            return None
        return cls(
            id=row.id, status=row.status, points=row.points, captured=row.captured,
            expires_at=as_utc(row.expires_at), reference=row.reference,
            member_id=relay.Node.to_global_id("PartnerMember", row.member_id),
        )

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> PartnerHold | None:
        ctx = _ctx(info)
        partner = ctx.partner(READ)
        if not id.isdigit():
            return None
        return ctx.db.read(cls.load, partner.party_id, int(id))


class PartnerTransactionConnection(relay.Connection):
    class Meta:
        node = PartnerTransaction


class PartnerContract(graphene.ObjectType):
    """The terms in force now, as they affect the API."""

    earn_points_per_unit = graphene.Decimal(required=True,
                                            description="Points per major currency unit spent.")
    allow_explicit_points = graphene.Boolean(required=True,
                                             description="Whether awardPoints may name `points`.")
    pending_days = graphene.Int(required=True, description="Days earned points stay pending "
                                                           "before they can be spent.")
    validity_months = graphene.Int(required=True, description="Months points stay valid once "
                                                              "spendable.")
    currency = graphene.String(required=True, description="The network's ISO 4217 currency: the "
                                                          "one every purchase is in.")


def as_datetime(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None
