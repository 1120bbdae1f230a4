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

Tiers (network/programme/tiers_store.py): the tier multiplier, tier conditions and the earn-time
upgrade need each member's stored tier and window points. A batch reads its members' in one
grouped read (`tiers_store.standings`), and its lines of one member add up: each line's tier is
the one in force after the points planned for that member's earlier lines (so the line that
crosses silver upgrades, and the lines after it earn silver's multiplier). A single earn on
PostgreSQL reads nothing before its statement (`Prepared.deferred`): the plan evaluates the
rules in one pass for every tier the member may hold (`rules.evaluate_for_tiers`), and the one
statement (network/ledger/pg_writer.py) reads the tier and window points itself and books the
parts of the tier in force, the campaigns' points taken from their budgets and member limits
counted in the same statement; an earn that crosses into a higher tier, finds a budget short or
a limit reached, or whose member changed since the statement's snapshot, books nothing there and
goes the general way (`claim` under the member's lock, which then reads the tier too).

A batch books its lines with programme parts in its one set of writes (`batch_parts`), planned
with the budgets and usage read before it; `record_batch` then takes each campaign's points for
the whole batch and checks the usage again under the members' locks: a budget short or a usage
changed runs the batch again with those lines claimed one by one (`exact`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from network import parties
from network.config import get_settings
from network.db.engine import Database, RetryableConflict
from network.db.schema import journal_entries
from network.ledger import balances
from network.ledger.rules import Credit, CreditPart, Extras, TieredCredit
from network.money import Money
from network.programme import awards, budgets, ladder_store, store, tiers_store
from network.programme.batch_rules import BatchRules
from network.programme.campaigns import Campaign, IssueReward, LotteryEntries
from network.programme.facts import BasketLine, Fact, MemberState, Purchase
from network.programme.index import CampaignIndex, Rule
from network.programme.rules import (
    CatalogItem,
    ItemOffer,
    Plan,
    Programme,
    Usage,
    evaluate,
    evaluate_for_tiers,
    periods,
)
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
    # Points left per budgeted candidate, read with the rest (a batch plans with them, so a
    # spent budget is not planned and then refused at the take); the take stays the guard.
    budget_left: Mapping[int, int] = dataclasses.field(default_factory=dict)
    # A single earn on PostgreSQL whose candidates read nothing of the member but the tier:
    # nothing was read; the plan carries its parts for every tier and the one statement reads
    # the tier itself (`TieredCredit`), or `claim` does under the lock.
    deferred: bool = False
    # member id -> the catalog items candidates give (read only when one gives a reward or
    # a draw's entries)
    offers: Mapping[int, Mapping[CatalogItem, ItemOffer]] = dataclasses.field(
        default_factory=dict)

    @property
    def needs_no_member(self) -> bool:
        """No campaign here: the plan reads nothing of the member, and the tier (if tiers are
        on) is read by the one statement itself (`deferred`), so a single earn's card can be
        looked up there too."""
        return not self.candidates and (self.deferred or not self.programme.tiers)

    @property
    def inert(self) -> bool:
        """Nothing the programme could add: no campaign here, and tiers off."""
        return not self.candidates and not self.programme.tiers


def prepare(db: Database, *, partner_id: int, member_ids: Iterable[int], at: dt.datetime,
            timezone: str, single: bool = False) -> Prepared:
    """`single`: for one earn, which on PostgreSQL may read the member's tier in its one
    statement (`Prepared.deferred`); a batch reads its members' in one read here."""
    programme = programme_for(db, timezone)
    members = sorted(set(member_ids))
    deferrable = single and len(members) == 1 and db.dialect == "postgresql"
    # The index and the ladder come from this process's caches (no round trip while fresh), so
    # an earn the programme reads nothing of the member for checks out no connection at all.
    index = store.index_for(db)
    candidates = index.candidates(PURCHASE, partner_id)
    if not candidates and not programme.tiers:
        return Prepared(partner_id, index, candidates, programme, {}, {}, frozenset())
    conds = [rule.campaign.conditions for rule in candidates]
    # The one statement cannot give a reward or entries: such earns are claimed here.
    if deferrable and not _gives_items(r.campaign for r in candidates) and not any(
            c.segments is not None or c.first_at_partner for c in conds):
        return Prepared(partner_id, index, candidates, programme, {}, {}, frozenset(),
                        deferred=True)
    if not all(isinstance(m, int) for m in members):
        # A card not looked up yet (`ByCard`): the caller finds its holder and asks again.
        return Prepared(partner_id, index, candidates, programme, {}, {}, frozenset())

    def read(conn: Connection) -> Prepared:
        standing = (tiers_store.standings(conn, members, at, tier_window(programme))
                    if programme.tiers else {})
        states = {m: member_state(conn, m, candidates, at, programme,
                                  standing=standing.get(m)) for m in members}
        limited = [r.campaign for r in candidates if _has_member_limits(r.campaign)]
        usage = usages_of(conn, members, limited, at, programme) if limited else {}
        first = (frozenset(m for m in members if _first_here(conn, m, partner_id))
                 if any(c.first_at_partner for c in conds) else frozenset())
        giving = [r.campaign for r in candidates]
        offers = ({m: item_offers(conn, m, giving, at) for m in members}
                  if _gives_items(giving) else {})
        return Prepared(partner_id, index, candidates, programme, states, usage, first,
                        standing, _budgets_left(conn, [r.campaign for r in candidates],
                                                lock=False), offers=offers)

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
    """The contract's plan step, plus the programme's effects (see the module docstring).

    Lines of one member in a batch add up: each line's tier is the one in force after the
    points planned for the member's earlier lines in the batch, so the line whose points cross
    silver upgrades the member and the lines after it earn silver's multiplier."""
    if prepared.inert:
        return contract
    if prepared.deferred:
        return _deferred(contract, prepared, at)
    running: dict[int, int] = {}  # member id -> points planned for their earlier lines
    limited = {r.campaign.id for r in prepared.candidates if _has_member_limits(r.campaign)}
    # member id -> campaign id -> awards planned for their earlier lines (limits count them)
    awarded: dict[int, dict[int, int]] = {}
    # A campaign that gives a reward or lottery entries is claimed line by line (`claim`, then
    # `record` gives the items), never in a batch's one set of writes, which has no room for them.
    gives = _gives_items(r.campaign for r in prepared.candidates)
    # The lines' rules judged once per shape of line (batch_rules.py); items need the
    # member's offers, so such campaigns are evaluated line by line.
    judge = None if gives else BatchRules(prepared.index, prepared.programme,
                                          partner_id=prepared.partner_id, at=at,
                                          budget_left=prepared.budget_left)
    # id(plan) -> (plan, its parts): lines that share a plan share its parts too.
    parts_of: dict[int, tuple[Plan, tuple[CreditPart, ...]]] = {}

    def plan(line: L) -> Credit:
        credit = contract(line)
        member = prepared.members.get(line.member_id, MemberState(line.member_id, None))
        before = running.get(line.member_id, 0)
        current, earned = prepared.standings.get(line.member_id, (None, 0))
        if before and prepared.standings:
            tier = tiers_store.tier_in_force(prepared.programme.tiers,
                                             (current, earned + before))
            member = dataclasses.replace(member, tier=tier)
        # The common earn with tiers on and no campaign here, by a member whose tier adds
        # nothing: no fact to build, nothing to evaluate; only the upgrade test below.
        bare = not prepared.candidates and member.tier not in prepared.programme.tier_bonus
        fact = None if bare else purchase_of(line, prepared, at)
        usage = (None if fact is None else
                 _with_earlier(prepared.usage.get(line.member_id, {}),
                               awarded.get(line.member_id, {})))
        if fact is None:
            planned = Plan(credit.points, ())
        elif judge is not None:
            planned = judge.evaluate(fact, member, base_points=credit.points, usage=usage)
        else:
            planned = evaluate(fact, member, prepared.index, base_points=credit.points,
                               programme=prepared.programme, usage=usage,
                               budget_left=prepared.budget_left,
                               offers=prepared.offers.get(line.member_id))
        total = planned.total
        running[line.member_id] = before + total
        counted = [e.campaign_id for e in planned.effects if e.campaign_id in limited]
        for campaign_id in counted:
            mine = awarded.setdefault(line.member_id, {})
            mine[campaign_id] = mine.get(campaign_id, 0) + 1
        upgrade = bool(prepared.standings) and tiers_store.upgrade_due(
            prepared.programme.tiers, current, earned + before + total)
        if not planned.effects and not upgrade:
            return credit
        fact = fact or purchase_of(line, prepared, at)
        return Credit(credit.points, credit.vests_at, credit.expires_at,
                      CampaignExtras(fact, member, credit.points, prepared, upgrade=upgrade,
                                     planned=None if gives else _parts_once(planned),
                                     counted=bool(counted)))

    def _parts_once(planned: Plan) -> tuple[CreditPart, ...]:
        found = parts_of.get(id(planned))
        if found is None or found[0] is not planned:
            found = parts_of[id(planned)] = (planned, _parts(planned))
        return found[1]

    return plan


def _with_earlier(used: Mapping[int, Usage], earlier: Mapping[int, int]) -> Mapping[int, Usage]:
    """The member's usage with the awards planned for their earlier lines in this batch."""
    if not earlier:
        return used
    more = dict(used)
    for campaign_id, n in earlier.items():
        u = used.get(campaign_id, Usage())
        more[campaign_id] = Usage(u.day + n, u.week + n, u.month + n, u.campaign + n)
    return more


def _deferred(contract: Callable[[L], Credit], prepared: Prepared,
              at: dt.datetime) -> Callable[[L], Credit]:
    """The plan step of a single earn whose member nothing was read of (`Prepared.deferred`):
    the parts for each tier the member may hold, with the member limits of their campaigns, for
    the one statement to pick from (`TieredCredit`); when the statement hands the earn over,
    `claim` decides under the lock, the tier read with it."""
    programme = prepared.programme
    codes = tuple(t.code for t in programme.tiers)
    limited = {r.campaign.id: r.campaign for r in prepared.candidates
               if _has_member_limits(r.campaign)}

    def plan(line: L) -> Credit:
        credit = contract(line)
        fact = purchase_of(line, prepared, at)
        plans = evaluate_for_tiers(fact, MemberState(line.member_id, None), codes or (None,),
                                   prepared.index, base_points=credit.points,
                                   programme=programme)
        if not codes and not plans[0].effects:
            return credit
        starts = periods(at, programme)

        def limits_of(plans: Sequence[Plan]) -> tuple[tuple[Limit, ...], ...]:
            return tuple(tuple(_limits(limited[e.campaign_id]) for e in p.effects
                               if e.campaign_id in limited) for p in plans)

        tiered = TieredCredit(
            codes, tuple(t.threshold for t in programme.tiers),
            at - tier_window(programme) if codes else at,
            tuple(_parts(p) for p in plans), limits_of(plans),
            (starts.day, starts.week, starts.month), tuple(sorted(limited)),
            # no campaign, no budget (and the member may be a card not looked up yet)
            budgets.slot_of(line.member_id) if prepared.candidates else 0)
        # One campaign with member limits in the plans (a daily bonus): also the plans for a
        # member who reached its limit, so the statement books that earn too rather than
        # handing it over; with more, or when the limit reached lets another limited campaign
        # in, the statement hands such an earn over as before.
        in_plans = {e.campaign_id for p in plans for e in p.effects if e.campaign_id in limited}
        if len(in_plans) == 1:
            (only,) = in_plans
            reached = evaluate_for_tiers(fact, MemberState(line.member_id, None), codes or (None,),
                                         prepared.index, base_points=credit.points,
                                         programme=programme, usage={only: _REACHED})
            if not any(limits_of(reached)):
                tiered = dataclasses.replace(tiered,
                                             parts_if_reached=tuple(_parts(p) for p in reached))
        return Credit(credit.points, credit.vests_at, credit.expires_at,
                      CampaignExtras(fact, None, credit.points, prepared, tiered=tiered))

    return plan


# Usage past every member limit: the plan of a member who reached a campaign's limit.
_REACHED = Usage(2**62, 2**62, 2**62, 2**62)
Limit = tuple[int, int | None, int | None, int | None, int | None]


def _limits(c: Campaign) -> Limit:
    lim = c.limits
    return (c.id, lim.per_member_day, lim.per_member_week, lim.per_member_month,
            lim.per_member_campaign)


def _parts(planned: Plan) -> tuple[CreditPart, ...]:
    """The plan's effects as the ledger books them: one part per funder of each effect."""
    return tuple(CreditPart(part.party_id, part.points, effect.source, effect.code,
                            effect.campaign_id)
                 for effect in planned.effects for part in effect.parts if part.points)


class CatalogDesk(Protocol):
    """Where the earn reads and gives the catalog items campaigns give: a reward (IssueReward)
    and a draw's entries (LotteryEntries), network/programme/reward_grants.py. That module
    reaches the catalog's notifications and, through the members' inbox, this one: so it is not
    imported here; the partners' earning registers it (`use_catalog_desk`), as
    partners/contracts.py registers the contract validity. Until one is registered, such a
    campaign finds no item and skips (REWARD_UNKNOWN, DRAW_CLOSED): it never books points it
    could not give as the reward."""

    def offers(self, conn: Connection, member_id: int, campaigns: Iterable[Campaign],
               at: dt.datetime, *, lock: bool = False) -> dict[CatalogItem, ItemOffer]: ...

    def grant(self, conn: Connection, *, entry_id: int, member_id: int,
              parts: Iterable[CreditPart], campaigns: Mapping[int, Campaign],
              at: dt.datetime) -> balances.BalanceRow | None: ...

    def give_entries(self, conn: Connection, *, member_id: int,
                     given: Iterable[tuple[Campaign, int]], origin: str,
                     at: dt.datetime) -> None: ...


_desks: list[CatalogDesk] = []


def use_catalog_desk(desk: CatalogDesk) -> None:
    _desks[:] = [desk]


def _gives_items(campaigns: Iterable[Campaign]) -> bool:
    return any(isinstance(c.effect, (IssueReward, LotteryEntries)) for c in campaigns)


def item_offers(conn: Connection, member_id: int, campaigns: Iterable[Campaign],
                at: dt.datetime, *, lock: bool = False) -> dict[CatalogItem, ItemOffer]:
    """The catalog items these campaigns give, as this member may have them now (nothing to
    read when none gives one, or no desk is registered)."""
    campaigns = list(campaigns)
    if not _desks or not _gives_items(campaigns):
        return {}
    return _desks[0].offers(conn, member_id, campaigns, at, lock=lock)


def usage_of(conn: Connection, member_id: int, campaigns: Iterable[Campaign], at: dt.datetime,
             programme: Programme) -> dict[int, Usage]:
    """Member-limit usage: awards from campaign_awards, and for a campaign that gives lottery
    entries, the entries it gave (`usages_of` for one member)."""
    return usages_of(conn, [member_id], campaigns, at, programme).get(member_id, {})


def usages_of(conn: Connection, member_ids: Iterable[int], campaigns: Iterable[Campaign],
              at: dt.datetime, programme: Programme, *,
              excluding: frozenset[int] = frozenset()) -> dict[int, dict[int, Usage]]:
    """Member-limit usage of each of `member_ids` (a batch's): awards from campaign_awards in one
    read (but those of the entries `excluding`), and for a campaign that gives lottery entries,
    the entries it gave (read only when there is such a campaign)."""
    campaigns, members = list(campaigns), sorted(set(member_ids))
    entries = [c.id for c in campaigns if isinstance(c.effect, LotteryEntries)]
    others = [c.id for c in campaigns if not isinstance(c.effect, LotteryEntries)]
    found = (store.usage_many(conn, members, others, at, programme, excluding=excluding)
             if others else {})
    for m in members if entries else ():
        found[m] = found.get(m, {}) | store.entry_usage(conn, m, entries, at, programme)
    return found


@dataclass
class CampaignExtras:
    """The programme's points for one earn, settled under the member's lock (`rules.Extras`).

    Budgets, optimistically: `claim` reads what each budget has left without locking its row,
    and `record`, the booking's last write, takes the points with one conditional UPDATE
    (`budgets.take`, from the member's slot), so a slot is locked only from there to COMMIT
    and earns that share a budget do not queue behind each other's whole booking. If the budget
    no longer has the points (a concurrent earn took them), the transaction is rolled back and
    run again (RetryableConflict) in exact mode: the budgets' slots locked first, as the module
    docstring says. Either way the budget is never overspent: the UPDATE's condition is the
    guard."""

    fact: Fact  # a purchase, or a stored event or lifecycle fact (fact_awards.py)
    # None: not read before the earn (`Prepared.deferred`); `claim` reads the tier under the lock
    member: MemberState | None
    base_points: int
    prepared: Prepared
    exact: bool = False  # lock the budget rows before evaluating (after a lost race)
    # The plan saw this earn take the member above their stored tier: `record` upgrades them
    # (tiers_store.upgrade_at_earn decides again on the exact figure, under the lock).
    upgrade: bool = False
    # What `claim` found to give as lottery entries: (campaign id, entries); `record` or
    # `give_entries` books them.
    entries: tuple[tuple[int, int], ...] = ()
    # The parts per tier for the one statement on PostgreSQL (`_deferred`); None: claimed here.
    tiered: TieredCredit | None = None
    # The parts as planned, for a batch's set of writes; None: claimed here.
    planned: tuple[CreditPart, ...] | None = None
    # A campaign with member limits applies: the plan counted the usage read before the batch,
    # which `record_batch` checks again under the members' locks.
    counted: bool = False

    @property
    def one_statement(self) -> TieredCredit | None:
        return self.tiered

    @property
    def batch_parts(self) -> tuple[CreditPart, ...] | None:
        """The planned parts, unless this earn upgrades the member (written under the lock, in
        `record`) or lost a budget race (then claimed with the budget rows locked)."""
        return None if self.upgrade or self.exact else self.planned

    def record_batch(self, conn: Connection,
                     booked: Sequence[tuple[Extras, int, int, tuple[CreditPart, ...]]],
                     at: dt.datetime, *, awards_written: bool = False) -> None:
        """The parts a batch booked in one set of writes: each campaign's points out of its
        budget, one conditional UPDATE per campaign for the whole batch (ascending id, as
        `record`), then every award row in one insert. A budget without the points raises
        RetryableConflict: the batch runs again with those lines claimed one by one, and so does
        a member's usage of a campaign with member limits that changed since the plan read it
        (read again here, under the members' locks, without this batch's own award rows, which
        the batch's writes may have made already: `awards_written`)."""
        prepared = self.prepared
        counted = sorted({m for extras, _, m, _ in booked
                          if isinstance(extras, CampaignExtras) and extras.counted})
        if counted:
            limited = [r.campaign for r in prepared.candidates if _has_member_limits(r.campaign)]
            now_used = usages_of(conn, counted, limited, self.fact.at, prepared.programme,
                                 excluding=frozenset(entry_id for _, entry_id, _, _ in booked))
            if any(now_used.get(m, {}) != prepared.usage.get(m, {}) for m in counted):
                _exact(booked)
                raise RetryableConflict("a member's campaign usage changed meanwhile")
        # The award rows first and the budgets last: a budget's slot is locked from its UPDATE
        # to the batch's COMMIT, which concurrent batches and earns sharing it wait for.
        if not awards_written:
            awards.record_many(conn, [(entry_id, member_id, parts)
                                      for _, entry_id, member_id, parts in booked], at)
        spend: dict[int, int] = {}
        for _, _, _, parts in booked:
            for part in parts:
                if part.campaign_id is not None:
                    spend[part.campaign_id] = spend.get(part.campaign_id, 0) + part.points
        slot = booked[0][1] if booked else 0  # any slot will do: the first entry's id varies
        for campaign_id in sorted(spend):
            if not budgets.take(conn, campaign_id, spend[campaign_id], slot=slot):
                _exact(booked)
                raise RetryableConflict(f"campaign {campaign_id}'s budget was spent meanwhile")

    def claim(self, conn: Connection, member_id: int, at: dt.datetime) -> tuple[CreditPart, ...]:
        prepared = self.prepared
        programme = prepared.programme
        member = self.member
        standing = None
        if member is None:  # deferred: the tier as the statement would have read it
            standing = (tiers_store.standings(conn, [member_id], self.fact.at,
                                              tier_window(programme))[member_id]
                        if programme.tiers else None)
            member = MemberState(member_id, standing and tiers_store.tier_in_force(
                programme.tiers, standing))
        budgets = _budgets_left(conn, [rule.campaign for rule in prepared.candidates],
                                lock=self.exact)
        limited = [r.campaign for r in prepared.candidates if _has_member_limits(r.campaign)]
        usage = usage_of(conn, member_id, limited, self.fact.at, prepared.programme) \
            if limited else {}
        offers = item_offers(conn, member_id, self._campaigns().values(), self.fact.at,
                             lock=self.exact)
        planned: Plan = evaluate(self.fact, member, prepared.index,
                                 base_points=self.base_points, programme=programme,
                                 usage=usage, budget_left=budgets, offers=offers)
        if standing is not None:
            self.upgrade = tiers_store.upgrade_due(programme.tiers, standing[0],
                                                   standing[1] + planned.total)
        self.entries = tuple((e.campaign_id, e.entries) for e in planned.effects
                             if e.entries and e.campaign_id is not None)
        return _parts(planned)

    def give_entries_only(self, conn: Connection, member_id: int, origin: str,
                          at: dt.datetime) -> None:
        """A fact that gave only lottery entries (fact_awards.py): no ledger entry, so the
        budget is taken here and the entries name the fact as their origin."""
        for campaign_id, count in sorted(self.entries):
            if not budgets.take(conn, campaign_id, count, slot=budgets.slot_of(member_id)):
                self.exact = True
                raise RetryableConflict(f"campaign {campaign_id}'s budget was spent meanwhile")
        self._give_entries(conn, member_id, origin, at)

    def _give_entries(self, conn: Connection, member_id: int, origin: str,
                      at: dt.datetime) -> None:
        if self.entries and _desks:
            campaigns = self._campaigns()
            _desks[0].give_entries(conn, member_id=member_id, origin=origin, at=at,
                                   given=[(campaigns[c], n) for c, n in self.entries])

    def _campaigns(self) -> dict[int, Campaign]:
        return {rule.campaign.id: rule.campaign for rule in self.prepared.candidates}

    def record(self, conn: Connection, entry_id: int, member_id: int,
               parts: tuple[CreditPart, ...], at: dt.datetime) -> balances.BalanceRow | None:
        spend: dict[int, int] = dict(self.entries)  # a budget of entries counts entries
        for part in parts:
            if part.campaign_id is not None:
                spend[part.campaign_id] = spend.get(part.campaign_id, 0) + part.points
        for campaign_id in sorted(spend):  # ascending: concurrent earns cannot deadlock
            if not budgets.take(conn, campaign_id, spend[campaign_id],
                                slot=budgets.slot_of(member_id)):
                self.exact = True
                raise RetryableConflict(f"campaign {campaign_id}'s budget was spent meanwhile")
        awards.record(conn, entry_id, member_id, parts, at)
        try:  # a campaign's reward, paid with its points just booked; entries, free
            spent = (_desks[0].grant(conn, entry_id=entry_id, member_id=member_id,
                                     parts=parts, campaigns=self._campaigns(), at=at)
                     if _desks and _gives_items(self._campaigns().values()) else None)
            self._give_entries(conn, member_id, f"entry:{entry_id}", at)
        except RetryableConflict:
            self.exact = True  # the stock, a code or a draw went meanwhile: lock them first
            raise
        if self.upgrade:
            programme = self.prepared.programme
            tiers_store.upgrade_at_earn(conn, member_id, at, definitions=programme.tiers,
                                        zone=programme.zone,
                                        partner_id=self.prepared.partner_id)
        return spent


def _exact(booked: Sequence[tuple[Extras, int, int, tuple[CreditPart, ...]]]) -> None:
    """These lines are claimed one by one under the lock when the batch runs again."""
    for extras, *_ in booked:
        if isinstance(extras, CampaignExtras):
            extras.exact = True


def _budgets_left(conn: Connection, campaigns: list[Campaign], *,
                  lock: bool) -> dict[int, int]:
    """Points left per budgeted candidate; with `lock`, their slots locked (budgets.left) until
    the booking commits."""
    return budgets.left(conn, [c.id for c in campaigns if c.limits.budget_points is not None],
                        lock=lock)
