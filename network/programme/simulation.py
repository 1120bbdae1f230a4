"""Simulation: what a draft campaign would have given over a past period of real earns.

The replay runs every earn of the period, in booking order, through the same `rules.evaluate` an
earn uses, with the draft as the only campaign, and reports: members reached, times applied,
points per funder and their money value at the funder's contract clearing price, and the budget
exhaustion date (the booking time of the earn that took the budget's last point, or the last
reward or entries it could pay for). Member limits and the budget are counted inside the
replay, as the booking would have counted them.

What the replay reads, and what it approximates:
- Each earn as booked (journal_entries kind 'earn' with its stored details: amount, currency,
  channel, basket; partner, member, booked_at). An earn reversed since, in whole or in part,
  is left out (the purchase did not stand). Its base points are the
  earn's points minus the programme points booked with it (campaign_awards), so campaigns that
  really ran do not inflate a multiplier's base.
- The draft's own window is set aside: the period is its window (the question is "what if it had
  run then"). Its status is taken as active.
- Tier and segments are the member's as they are NOW, not as they were at each earn (an
  approximation: a tier condition may reach a few members more or fewer than it would have);
  segments are empty, as in the earn until the segments feature fills them.
- First purchase at a partner is exact: the member's first earn there in the whole history.

A draft that issues a catalog reward (IssueReward) or gives lottery entries (LotteryEntries) is
replayed with the catalog as it stands now (`read_catalog`, at the edge, like the tiers), and
counted the way its earn would count it (reward_grants.offers' refusals, decided here on the
replay's own counts):
- a reward: each application issues one, worth its price in points (the funders' cost, paid
  to the honouring partner), and takes one off the stock. The stock the replay starts from is
  what is left NOW (for a pool reward, no more than its free codes); when it runs out, later
  matches are REWARD_OUT_OF_STOCK and the time of the earn that took the last one is reported,
  as the budget's is. The member's limit counts the replay's own grants. Visibility to tiers is
  the members' tier now; one visible to segments only is not visible (segments are empty).
  The reward's sale window is set aside like the draft's.
- entries: counted per draw; the draw's per-member maximum counts the replay's own entries,
  and the budget counts entries, as the earn counts them. The draw's entry window is set aside.
The draft must name an active reward or an open draw (validation, as for a launch); one absent
from `simulate`'s catalog is REWARD_UNKNOWN or DRAW_CLOSED, as in the earn.

`simulate` is pure over plain rows; `read_history` gathers them in at most three queries (the
earns; first earns per member and partner, only if the draft asks; tiers, only if it asks), and
`read_catalog` the draft's reward or draw in one or two. Prices come from the caller
(partners.contracts is a layer above this package).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from network.db.clauses import one_of
from network.db.schema import journal_entries
from network.errors import HubError
from network.money import Money
from network.programme import lottery_store, rewards_store, tiers_store
from network.programme import tiers as tier_rules
from network.programme.campaigns import Campaign, IssueReward, LotteryEntries
from network.programme.campaigns_schema import campaign_awards
from network.programme.facts import BasketLine, MemberState, Purchase
from network.programme.index import build
from network.programme.rewards import Visibility
from network.programme.rules import (
    CatalogItem,
    Effect,
    ItemOffer,
    ItemSkip,
    Programme,
    Usage,
    evaluate,
    periods,
)


class SimulationError(HubError):
    code = "PERIOD_INVALID"
    codes = ("PERIOD_INVALID", "PERIOD_IN_FUTURE", "TRIGGER_NOT_SIMULATED")


def check_simulable(campaign: Campaign) -> None:
    """Only purchase campaigns can be replayed: the history replayed is the earns."""
    if campaign.trigger.kind != "purchase":
        raise SimulationError(f"only purchase campaigns are simulated over past earns, not "
                              f"{campaign.trigger.kind!r} ones", field="trigger.kind",
                              code="TRIGGER_NOT_SIMULATED")


@dataclass(frozen=True, slots=True)
class Period:
    label: str  # YYYY-MM
    start: dt.datetime  # UTC, inclusive: the month's first local midnight
    end: dt.datetime  # UTC, exclusive


@dataclass(frozen=True, slots=True)
class PastEarn:
    entry_id: int
    member_id: int
    partner_id: int
    amount_minor: int
    currency: str
    channel: str
    basket: tuple[BasketLine, ...]
    base_points: int  # the contract's points: the earn's points less the programme's
    booked_at: dt.datetime
    first_at_partner: bool = False


@dataclass(frozen=True, slots=True)
class FunderCost:
    party_id: int
    points: int
    price_per_point: Decimal | None  # the funder's clearing price; None without a contract
    value: Decimal | None  # points x price, exact (never rounded)


@dataclass(frozen=True, slots=True)
class RewardTerms:
    """A catalog reward as the replay needs it (`read_catalog`)."""

    reward_id: int
    partner_id: int  # the honouring partner: the points' sink
    price_points: int
    stock: int | None  # left now, where the replay starts; None: unlimited
    per_member_limit: int | None = None
    visibility: Visibility = Visibility()


@dataclass(frozen=True, slots=True)
class DrawTerms:
    """A lottery draw as the replay needs it (`read_catalog`)."""

    code: str
    max_entries_per_member: int


@dataclass(frozen=True, slots=True)
class Catalog:
    """The catalog items the draft gives, by reward id and by draw code."""

    rewards: Mapping[int, RewardTerms] = dataclasses.field(default_factory=dict)
    draws: Mapping[str, DrawTerms] = dataclasses.field(default_factory=dict)


NO_CATALOG = Catalog()


@dataclass(frozen=True, slots=True)
class RewardsIssued:
    """The rewards the draft would have issued: how many, at what price, honoured by whom, and
    when the stock would have run out."""

    reward_id: int
    partner_id: int
    price_points: int
    count: int
    stock: int | None  # what the replay started from; None: unlimited
    stock_out_at: dt.datetime | None

    @property
    def points(self) -> int:
        return self.count * self.price_points


@dataclass(frozen=True, slots=True)
class DrawEntries:
    """The lottery entries the draft would have given in one draw."""

    draw_code: str
    entries: int
    members: int


@dataclass(frozen=True, slots=True)
class Simulation:
    period: Period
    earns_replayed: int
    members_reached: int
    times_applied: int
    points: int
    funders: tuple[FunderCost, ...]
    budget_exhausted_at: dt.datetime | None
    skipped: Mapping[str, int]  # rules.SkipReason -> how many earns the draft matched but skipped
    rewards: tuple[RewardsIssued, ...] = ()
    draws: tuple[DrawEntries, ...] = ()


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_period(text: str, zone: ZoneInfo, now: dt.datetime) -> Period:
    """YYYY-MM or last-month, a calendar month in the network's time zone; not a future one."""
    local_now = now.astimezone(zone)
    if text == "last-month":
        first = local_now.date().replace(day=1) - dt.timedelta(days=1)
        year, month = first.year, first.month
    else:
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
            raise SimulationError(f"period is YYYY-MM or last-month, got {text!r}",
                                  field="period", code="PERIOD_INVALID")
        year, month = int(found.group(1)), int(found.group(2))
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    if start > local_now:
        raise SimulationError(f"{year:04d}-{month:02d} has not begun; simulate a past period",
                              field="period", code="PERIOD_IN_FUTURE")
    return Period(f"{year:04d}-{month:02d}", start.astimezone(dt.UTC), end.astimezone(dt.UTC))


# ---- the pure replay --------------------------------------------------------------------------

def simulate(campaign: Campaign, earns: Iterable[PastEarn], *, period: Period,
             programme: Programme, members: Mapping[int, MemberState],
             prices: Mapping[int, Decimal], catalog: Catalog = NO_CATALOG) -> Simulation:
    """Replay `earns` (any order; replayed by booking time) with `campaign` as the only one,
    and `catalog` the reward or draw it gives, if any."""
    draft = dataclasses.replace(campaign, status="active", starts_at=period.start, ends_at=None)
    index = build([draft])
    budget = draft.limits.budget_points
    shelf = _Shelf(draft, catalog)
    given: dict[int, list[dt.datetime]] = {}  # member -> when the draft applied to them
    by_funder: dict[int, int] = {}
    skipped: dict[str, int] = {}
    spent = points = applied = replayed = 0  # spent: the budget's unit (points, or entries)
    exhausted: dt.datetime | None = None
    for earn in sorted(earns, key=lambda e: (e.booked_at, e.entry_id)):
        replayed += 1
        fact = Purchase(partner_id=earn.partner_id, member_id=earn.member_id,
                        amount=Money(earn.amount_minor, earn.currency), at=earn.booked_at,
                        channel=earn.channel, lines=earn.basket,
                        first_at_partner=earn.first_at_partner)
        member = members.get(earn.member_id, MemberState(earn.member_id, None))
        plan = evaluate(fact, member, index, base_points=earn.base_points, programme=programme,
                        usage={draft.id: _usage(given.get(earn.member_id, ()), earn.booked_at,
                                                programme)},
                        budget_left=None if budget is None else {draft.id: budget - spent},
                        offers=shelf.offers(member))
        for skip in plan.skipped:
            skipped[skip.reason] = skipped.get(skip.reason, 0) + 1
        for effect in plan.effects:
            if effect.source != "campaign":
                continue
            applied += 1
            spent += effect.entries or effect.points
            points += effect.points
            given.setdefault(earn.member_id, []).append(earn.booked_at)
            shelf.took(effect, earn.member_id, earn.booked_at)
            for part in effect.parts:
                by_funder[part.party_id] = by_funder.get(part.party_id, 0) + part.points
            # Points are capped to the budget's last point; a reward or entries are whole, so
            # the budget is used up once what is left cannot pay for another.
            whole = effect.points if effect.kind == "reward" else effect.entries or 1
            if budget is not None and budget - spent < whole and exhausted is None:
                exhausted = earn.booked_at
    funders = tuple(
        FunderCost(party, points, prices.get(party),
                   None if prices.get(party) is None else points * prices[party])
        for party, points in sorted(by_funder.items()))
    return Simulation(period, replayed, len(given), applied, points, funders, exhausted,
                      dict(sorted(skipped.items())), shelf.rewards_issued(), shelf.draw_entries())


class _Shelf:
    """The draft's catalog item during the replay: what each member is offered (rules.ItemOffer,
    the refusals reward_grants.offers gives an earn, decided on the replay's own counts), and
    what the draft took: rewards issued and stock left, entries per member."""

    def __init__(self, draft: Campaign, catalog: Catalog) -> None:
        effect = draft.effect
        self.item: CatalogItem | None = (effect if isinstance(effect, (IssueReward,
                                                                       LotteryEntries))
                                         else None)
        self.reward = (catalog.rewards.get(effect.reward_id)
                       if isinstance(effect, IssueReward) else None)
        self.draw = (catalog.draws.get(effect.draw_code)
                     if isinstance(effect, LotteryEntries) else None)
        self.stock_left = None if self.reward is None else self.reward.stock
        self.stock_out_at: dt.datetime | None = None
        self.count = 0
        self.held: dict[int, int] = {}  # member -> rewards issued, or entries given

    def offers(self, member: MemberState) -> dict[CatalogItem, ItemOffer]:
        if self.item is None:
            return {}
        if self.reward is not None:
            return {self.item: ItemOffer(self.reward.price_points, self._refusal(member))}
        if self.draw is not None and isinstance(self.item, LotteryEntries):
            over = (self.held.get(member.member_id, 0) + self.item.count
                    > self.draw.max_entries_per_member)
            return {self.item: ItemOffer(0, "DRAW_LIMIT" if over else None)}
        return {}  # unknown: the rules skip it as REWARD_UNKNOWN or DRAW_CLOSED

    def _refusal(self, member: MemberState) -> ItemSkip | None:
        reward = self.reward
        assert reward is not None
        if not reward.visibility.admits(member.tier, ()):
            return "REWARD_NOT_VISIBLE"
        if (reward.per_member_limit is not None
                and self.held.get(member.member_id, 0) >= reward.per_member_limit):
            return "REWARD_LIMIT"
        if self.stock_left is not None and self.stock_left <= 0:
            return "REWARD_OUT_OF_STOCK"
        return None

    def took(self, effect: Effect, member_id: int, at: dt.datetime) -> None:
        if effect.kind == "reward":
            self.count += 1
            self.held[member_id] = self.held.get(member_id, 0) + 1
            if self.stock_left is not None:
                self.stock_left -= 1
                if self.stock_left == 0:
                    self.stock_out_at = at
        elif effect.kind == "entries":
            self.count += effect.entries
            self.held[member_id] = self.held.get(member_id, 0) + effect.entries

    def rewards_issued(self) -> tuple[RewardsIssued, ...]:
        r = self.reward
        if r is None:
            return ()
        return (RewardsIssued(r.reward_id, r.partner_id, r.price_points, self.count, r.stock,
                              self.stock_out_at),)

    def draw_entries(self) -> tuple[DrawEntries, ...]:
        if self.draw is None:
            return ()
        return (DrawEntries(self.draw.code, self.count, len(self.held)),)


def _usage(times: Sequence[dt.datetime], at: dt.datetime, programme: Programme) -> Usage:
    """The member's earlier awards from the draft, counted per local period as the store does."""
    if not times:
        return Usage()
    p = periods(at, programme)
    return Usage(day=sum(t >= p.day for t in times), week=sum(t >= p.week for t in times),
                 month=sum(t >= p.month for t in times), campaign=len(times))


# ---- the read at the edge ---------------------------------------------------------------------

def read_history(conn: Connection, campaign: Campaign, period: Period, programme: Programme, *,
                 now: dt.datetime, partner_id: int | None = None
                 ) -> tuple[list[PastEarn], dict[int, MemberState]]:
    """The period's earns (only `partner_id`'s sales when given) and the members' states."""
    je = journal_entries.c
    reversal = aliased(journal_entries)
    programme_points = (select(campaign_awards.c.entry_id,
                               func.sum(campaign_awards.c.points).label("points"))
                        .where(campaign_awards.c.points > 0,
                               campaign_awards.c.booked_at >= period.start,
                               campaign_awards.c.booked_at < period.end)
                        .group_by(campaign_awards.c.entry_id).subquery())
    query = (select(je.id, je.member_id, je.party_id, je.points, je.details, je.booked_at,
                    func.coalesce(programme_points.c.points, 0).label("extra"))
             .outerjoin(programme_points, programme_points.c.entry_id == je.id)
             .where(je.kind == "earn", je.booked_at >= period.start, je.booked_at < period.end,
                    ~exists().where(and_(reversal.c.reverses_entry_id == je.id,
                                         reversal.c.kind == "reverse_earn")))
             .order_by(je.booked_at, je.id))
    if partner_id is not None:
        query = query.where(je.party_id == partner_id)
    earns = [e for e in (_past(row) for row in conn.execute(query)) if e is not None]
    member_ids = sorted({e.member_id for e in earns})
    if earns and campaign.conditions.first_at_partner:
        firsts = _first_earns(conn, member_ids)
        earns = [dataclasses.replace(e, first_at_partner=firsts.get(
            (e.member_id, e.partner_id)) == e.entry_id) for e in earns]
    tiers = (_tiers_now(conn, member_ids, now, programme)
             if earns and campaign.conditions.tiers is not None else {})
    return earns, {m: MemberState(m, tiers.get(m)) for m in member_ids}


def read_catalog(conn: Connection, campaign: Campaign) -> Catalog:
    """The reward or the draw the draft gives, as they stand now (nothing for other drafts)."""
    effect = campaign.effect
    if isinstance(effect, IssueReward):
        reward = rewards_store.get(conn, effect.reward_id)
        if reward is None:
            return NO_CATALOG
        stock = reward.spec.stock
        if reward.spec.code_source == "pool":  # no more than the codes left to give
            free = rewards_store.free_codes(conn, [reward.id]).get(reward.id, 0)
            stock = free if stock is None else min(stock, free)
        return Catalog(rewards={reward.id: RewardTerms(
            reward.id, reward.partner_id, reward.spec.price_points, stock,
            reward.spec.per_member_limit, reward.spec.visibility)})
    if isinstance(effect, LotteryEntries):
        try:
            draw = lottery_store.get(conn, effect.draw_code)
        except lottery_store.LotteryError:
            return NO_CATALOG
        return Catalog(draws={draw.code: DrawTerms(draw.code, draw.max_entries_per_member)})
    return NO_CATALOG


def _past(row: object) -> PastEarn | None:
    """An earn row as a PastEarn; None for one without a purchase amount (nothing to replay)."""
    details = row.details or {}  # type: ignore[attr-defined]
    if not isinstance(details.get("amount_minor"), int) or not details.get("currency"):
        return None
    basket = tuple(BasketLine(str(sku), str(category), int(quantity), int(amount))
                   for sku, category, quantity, amount in details.get("basket") or ())
    booked = row.booked_at  # type: ignore[attr-defined]
    booked = booked if booked.tzinfo else booked.replace(tzinfo=dt.UTC)
    return PastEarn(row.id, row.member_id, row.party_id,  # type: ignore[attr-defined]
                    details["amount_minor"], details["currency"],
                    details.get("channel") or "in_store", basket,
                    max(0, row.points - int(row.extra)), booked)  # type: ignore[attr-defined]


def _first_earns(conn: Connection, member_ids: list[int]) -> dict[tuple[int, int], int]:
    je = journal_entries.c
    rows = conn.execute(select(je.member_id, je.party_id, func.min(je.id))
                        .where(je.kind == "earn", one_of(conn, je.member_id, member_ids))
                        .group_by(je.member_id, je.party_id))
    return {(m, p): first for m, p, first in rows}


def _tiers_now(conn: Connection, member_ids: list[int], now: dt.datetime,
               programme: Programme) -> dict[int, str]:
    """Each member's tier in force now (tiers.in_force: the stored tier, or what the window's
    points reach if higher), in two queries for all the members."""
    if not programme.tiers:
        return {}
    je = journal_entries.c
    signed = case((je.kind == "reverse_earn", -je.points), else_=je.points)
    rows = conn.execute(select(je.member_id, func.sum(signed))
                        .where(one_of(conn, je.member_id, member_ids),
                               je.booked_at > now - tier_rules.window(programme.tiers),
                               je.kind.in_(("earn", "bonus", "reverse_earn")))
                        .group_by(je.member_id))
    totals = dict(rows.all())
    held = tiers_store.held_codes(conn, member_ids)
    found: dict[int, str] = {}
    for member in member_ids:
        earned = max(0, int(totals.get(member) or 0))
        code = held.get(member)
        tier = tier_rules.in_force(programme.tiers, tier_rules.TierFacts(earned),
                                   tier_rules.HeldTier(code, now, None) if code else None)
        if tier is not None:
            found[member] = tier.code
    return found
