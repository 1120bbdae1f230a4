"""The programme in the earn: the plan step adds campaign and tier effects to the contract's base
points, and the booking claims them under the member's lock.

Two halves, because an earn is planned before its transaction and booked inside it:
- `prepare` (before, a read) gathers what the rules read about the earn's members, and only what
  the campaigns that could apply need: the member's tier when a tier multiplier or a tier
  condition could matter, usage counts when a campaign has member limits, whether it is their
  first purchase at the partner when a campaign asks. An earn that no campaign can touch reads
  nothing at all (the index is cached, network/programme/store.py) and keeps the contract's
  plan as it is, so on PostgreSQL it stays one statement.
- `with_programme` wraps the contract's plan step: the base points from the contract, then
  `rules.evaluate` over the purchase fact. When effects apply, the Credit carries
  `CampaignExtras`, and the ledger takes the general path: it locks the member's balance row and
  calls `claim`, which evaluates again with the usage read under that lock (so two concurrent
  earns cannot both use a member's last allowed award) and the budgets left, and answers the
  funded parts the ledger books as lots, one per funder; `record` then takes each campaign's
  points from its budget with a conditional UPDATE, so two earns can never both take a
  budget's last points (see CampaignExtras for the retry when one loses that race).

The member's segments (network/programme/segments_store.py, refreshed by the worker) are read
only when a campaign that could apply names segments.

Tiers (network/programme/tiers_store.py): with tiers on, `prepare` reads each member's stored
tier and window points in one statement, since the tier multiplier and the earn-time upgrade
both need them: for a single earn on PostgreSQL a prepared statement on the thread's own
connection (`tiers_store.standing_one`, a tenth of the CPU of the same read through
SQLAlchemy), for a batch one grouped read of its members (`tiers_store.standings`). The plan
then knows, with no further read, whether this earn takes the member above the tier they hold
(`tiers_store.upgrade_due`); only such an earn carries extras for the upgrade, which is
written inside its transaction after the entry. A member in the first tier whose earn matches
no campaign and crosses nothing keeps the contract's plan as it is: one statement on
PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from network import parties
from network.config import get_settings
from network.db.engine import Database, RetryableConflict
from network.db.schema import journal_entries
from network.ledger.rules import Credit, CreditPart
from network.money import Money
from network.programme import awards, ladder_store, store, tiers_store
from network.programme.campaigns import Campaign
from network.programme.campaigns_schema import campaigns as campaigns_table
from network.programme.facts import BasketLine, Fact, MemberState, Purchase
from network.programme.index import CampaignIndex, Rule
from network.programme.rules import Plan, Programme, Usage, evaluate
from network.programme.segments_store import segments_of
from network.programme.tiers import HeldTier

PURCHASE = ("purchase", "")


class SaleLine(Protocol):
    """What the programme reads of an award line (partners.earning.AwardLine)."""

    @property
    def member_id(self) -> int: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def basket(self) -> tuple[BasketLine, ...]: ...


L = TypeVar("L", bound=SaleLine)

_programmes: dict[tuple[str, str], Programme] = {}
_lock = threading.Lock()


def programme_for(db: Database, timezone: str) -> Programme:
    """The programme's settings for this database and zone, built once per process and again
    when the tier ladder changes (ladder_store's cache: no round trip while it is fresh)."""
    key = (db.url, timezone)
    ladder = ladder_store.for_database(db)
    found = _programmes.get(key)
    if found is None or found.tiers is not ladder:
        found = Programme(zone=ZoneInfo(timezone), network_party_id=db.read(
            parties.network_party_id), tier_funder=_tier_funder(), tiers=ladder)
        with _lock:
            _programmes[key] = found
    return found


def _tier_funder() -> Literal["issuer", "network"]:
    return "network" if get_settings().tier_funder == "network" else "issuer"


def forget() -> None:
    """Tests that empty and refill a database under one URL."""
    _programmes.clear()


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the plan step reads: the campaigns that could apply at this partner, the settings,
    and each member's state and usage (gathered only when some candidate needs them)."""

    partner_id: int
    index: CampaignIndex
    candidates: tuple[Rule, ...]
    programme: Programme
    members: Mapping[int, MemberState]
    usage: Mapping[int, Mapping[int, Usage]]
    first_here: frozenset[int]  # members with no earn at this partner yet
    # member id -> (stored tier, window points before this earn), when tiers are on
    standings: Mapping[int, tuple[HeldTier | None, int]] = dataclasses.field(
        default_factory=dict)

    @property
    def inert(self) -> bool:
        """Nothing the programme could add: no campaign here, and tiers off."""
        return not self.candidates and not self.programme.tiers


def prepare(db: Database, *, partner_id: int, member_ids: Iterable[int], at: dt.datetime,
            timezone: str) -> Prepared:
    programme = programme_for(db, timezone)

    members = sorted(set(member_ids))
    # One member (a single earn): the tier read is one prepared statement of its own on
    # PostgreSQL (tiers_store.standing_one); a batch's members in one grouped read below.
    one = (tiers_store.standing_one(db, members[0], at, tier_window(programme))
           if programme.tiers and len(members) == 1 else None)

    def read(conn: Connection) -> Prepared:
        index = store.load_index(conn)
        candidates = index.candidates(PURCHASE, partner_id)
        if not candidates and not programme.tiers:
            return Prepared(partner_id, index, candidates, programme, {}, {}, frozenset())
        conds = [rule.campaign.conditions for rule in candidates]
        standing = ({members[0]: one} if one is not None
                    else tiers_store.standings(conn, members, at, tier_window(programme))
                    if programme.tiers else {})
        states = {m: member_state(conn, m, candidates, at, programme,
                                  standing=standing.get(m)) for m in members}
        limited = [r.campaign.id for r in candidates if _has_member_limits(r.campaign)]
        usage = ({m: store.usage(conn, m, limited, at, programme) for m in members}
                 if limited else {})
        first = (frozenset(m for m in members if _first_here(conn, m, partner_id))
                 if any(c.first_at_partner for c in conds) else frozenset())
        return Prepared(partner_id, index, candidates, programme, states, usage, first,
                        standing)

    return db.read(read)


def tier_window(programme: Programme) -> dt.timedelta:
    return programme.tiers[0].window


def member_state(conn: Connection, member_id: int, candidates: Iterable[Rule], at: dt.datetime,
                 programme: Programme, *, purchase: bool = True,
                 standing: tuple[HeldTier | None, int] | None = None) -> MemberState:
    """What the rules read of a member, and only what these candidates need: the tier in force
    (tiers.in_force over the stored tier and the window's points: one statement, unless the
    caller read them already, `standing`) when a tier multiplier (purchases only) or a tier
    condition could matter, the segments when a condition names segments."""
    conds = [rule.campaign.conditions for rule in candidates]
    needs_tier = ((purchase and bool(programme.tier_bonus))
                  or any(c.tiers is not None for c in conds))
    needs_segments = any(c.segments is not None for c in conds)
    tier = None
    if needs_tier and programme.tiers:
        if standing is None:
            standing = tiers_store.standings(conn, [member_id], at,
                                             tier_window(programme))[member_id]
        tier = tiers_store.tier_in_force(programme.tiers, standing)
    return MemberState(member_id, tier,
                       segments_of(conn, member_id) if needs_segments else frozenset())


def _has_member_limits(c: Campaign) -> bool:
    lim = c.limits
    return any(v is not None for v in (lim.per_member_day, lim.per_member_week,
                                       lim.per_member_month, lim.per_member_campaign))


def _first_here(conn: Connection, member_id: int, partner_id: int) -> bool:
    je = journal_entries.c
    return conn.execute(select(je.id).where(je.member_id == member_id, je.party_id == partner_id,
                                            je.kind == "earn").limit(1)).first() is None


def purchase_of(line: SaleLine, prepared: Prepared, at: dt.datetime) -> Purchase:
    return Purchase(partner_id=prepared.partner_id, member_id=line.member_id,
                    amount=Money(line.amount_minor, line.currency), at=at, channel=line.channel,
                    lines=line.basket, first_at_partner=line.member_id in prepared.first_here)


def with_programme(contract: Callable[[L], Credit], prepared: Prepared,
                   at: dt.datetime) -> Callable[[L], Credit]:
    """The contract's plan step, plus the programme's effects (see the module docstring)."""
    if prepared.inert:
        return contract

    def plan(line: L) -> Credit:
        credit = contract(line)
        member = prepared.members.get(line.member_id, MemberState(line.member_id, None))
        # The common earn with tiers on and no campaign here, by a member whose tier adds
        # nothing: no fact to build, nothing to evaluate; only the upgrade test below.
        bare = not prepared.candidates and member.tier not in prepared.programme.tier_bonus
        fact = None if bare else purchase_of(line, prepared, at)
        planned = (Plan(credit.points, ()) if fact is None else
                   evaluate(fact, member, prepared.index, base_points=credit.points,
                            programme=prepared.programme,
                            usage=prepared.usage.get(line.member_id)))
        upgrade = False
        if prepared.standings:
            current, earned = prepared.standings.get(line.member_id, (None, 0))
            upgrade = tiers_store.upgrade_due(prepared.programme.tiers, current,
                                              earned + planned.total)
        if not planned.effects and not upgrade:
            return credit
        fact = fact or purchase_of(line, prepared, at)
        return Credit(credit.points, credit.vests_at, credit.expires_at,
                      CampaignExtras(fact, member, credit.points, prepared, upgrade=upgrade))

    return plan


@dataclass
class CampaignExtras:
    """The programme's points for one earn, settled under the member's lock (`rules.Extras`).

    Budgets, optimistically: `claim` reads what each budget has left without locking its row,
    and `record`, the booking's last write, takes the points with one conditional UPDATE
    (`store.take_budget`), so a campaign's row is locked only from there to COMMIT and earns
    that share a budget do not queue behind each other's whole booking. If the budget no longer
    has the points (a concurrent earn took them), the transaction is rolled back and run again
    (RetryableConflict) in exact mode: the budget rows locked first, as the module docstring
    says. Either way the budget is never overspent: the UPDATE's condition is the guard."""

    fact: Fact  # a purchase, or a stored event or lifecycle fact (fact_awards.py)
    member: MemberState
    base_points: int
    prepared: Prepared
    exact: bool = False  # lock the budget rows before evaluating (after a lost race)
    # The plan saw this earn take the member above their stored tier: `record` upgrades them
    # (tiers_store.upgrade_at_earn decides again on the exact figure, under the lock).
    upgrade: bool = False

    def claim(self, conn: Connection, member_id: int, at: dt.datetime) -> tuple[CreditPart, ...]:
        prepared = self.prepared
        budgets = _budgets_left(conn, [rule.campaign for rule in prepared.candidates],
                                lock=self.exact)
        limited = [r.campaign.id for r in prepared.candidates if _has_member_limits(r.campaign)]
        usage = store.usage(conn, member_id, limited, self.fact.at, prepared.programme) \
            if limited else {}
        planned: Plan = evaluate(self.fact, self.member, prepared.index,
                                 base_points=self.base_points, programme=prepared.programme,
                                 usage=usage, budget_left=budgets)
        return tuple(CreditPart(part.party_id, part.points, effect.source, effect.code,
                                effect.campaign_id)
                     for effect in planned.effects for part in effect.parts if part.points)

    def record(self, conn: Connection, entry_id: int, member_id: int,
               parts: tuple[CreditPart, ...], at: dt.datetime) -> None:
        spend: dict[int, int] = {}
        for part in parts:
            if part.campaign_id is not None:
                spend[part.campaign_id] = spend.get(part.campaign_id, 0) + part.points
        for campaign_id in sorted(spend):  # ascending: concurrent earns cannot deadlock
            if not store.take_budget(conn, campaign_id, spend[campaign_id]):
                self.exact = True
                raise RetryableConflict(f"campaign {campaign_id}'s budget was spent meanwhile")
        awards.record(conn, entry_id, member_id, parts, at)
        if self.upgrade:
            programme = self.prepared.programme
            tiers_store.upgrade_at_earn(conn, member_id, at, definitions=programme.tiers,
                                        zone=programme.zone,
                                        partner_id=self.prepared.partner_id)


def _budgets_left(conn: Connection, campaigns: list[Campaign], *,
                  lock: bool) -> dict[int, int]:
    """Points left per budgeted candidate; with `lock`, their rows locked (ascending id) until
    the booking commits."""
    ids = sorted(c.id for c in campaigns if c.limits.budget_points is not None)
    if not ids:
        return {}
    c = campaigns_table.c
    query = select(c.id, c.budget_points, c.spent_points).where(c.id.in_(ids)).order_by(c.id)
    rows = conn.execute(query.with_for_update() if lock else query).all()
    return {row.id: row.budget_points - row.spent_points for row in rows
            if row.budget_points is not None}
