"""Which campaigns the programme accepts: one pure function returning every problem at once.

Each Problem names the field the way the signed API spells it ("conditions.maxAmount"), a stable
machine code and a sentence a person can act on: the GraphQL layer turns them into
`userErrors { field code message }` and writes nothing when there is any. What only the
database knows (the categories partners use, the segments that exist, the points a campaign has
already spent, the other campaigns) comes in as arguments, so the check itself stays pure.

Run it on every save and again when a draft is activated or a paused campaign resumed: the
overlap check compares against campaigns that are active or paused at that moment.

Overlap, defined: two EXCLUSIVE campaigns compete for the same slot when they have the same
trigger (kind and name) and their partner conditions can name the same partner (a campaign
without a partner condition names every partner). Two such campaigns may not have intersecting
windows ([starts_at, ends_at), open-ended when ends_at is None). Their other conditions are not
considered: proving two condition sets can never match the same fact is easy to get wrong, and
"one exclusive promotion per trigger and partner at a time" is a rule a partner can predict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from network.programme.campaigns import (
    FULL_SHARE,
    SALES_TRIGGERS,
    STACKINGS,
    STATUSES,
    TRIGGER_KINDS,
    Campaign,
    Conditions,
    FixedPoints,
    IssueReward,
    LotteryEntries,
    Multiplier,
    PointsPerAmount,
)
from network.programme.facts import CHANNELS, EVENT_TYPES, LIFECYCLE_KINDS
from network.programme.tiers import TierDefinition

# Bounds that catch typos before they cost anyone points.
MAX_FIXED_POINTS = 1_000_000
MAX_RATE = Decimal(1_000)  # points per major currency unit
MIN_FACTOR_EXCLUSIVE, MAX_FACTOR = Decimal(1), Decimal(10)  # 1 < factor <= 10
MAX_DECIMAL_PLACES = 4  # rates and factors: what NUMERIC(_, 4) stores, no hidden precision
MAX_BUDGET = 10**12
MAX_LIMIT = 1_000_000
MAX_ENTRIES = 100  # lottery entries one award gives
PRIORITY_RANGE = range(-1_000, 1_001)
_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_NAME = re.compile(r"[a-z0-9_]{1,64}")  # schedule names


Report = Callable[[str, str, str], None]  # (field, code, message)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str


def validate(campaign: Campaign, *, categories: frozenset[str],
             tiers: Sequence[TierDefinition], segments: frozenset[str] = frozenset(),
             event_types: frozenset[str] = EVENT_TYPES, spent_points: int = 0,
             others: Iterable[Campaign] = (),
             rewards: Mapping[int, str] | None = None,
             draws: Mapping[str, bool] | None = None) -> tuple[Problem, ...]:
    """Every problem with `campaign`, in field order; empty when it may be saved.

    `categories`: the basket categories the network knows; `tiers`: the tier definitions in
    force; `segments`: the segment codes that exist; `event_types`: the custom event types with a
    registered schema; `spent_points`: what the campaign has already issued (0 for a new one);
    `others`: the programme's other campaigns, for the overlap check; `rewards`: the status of
    each catalog reward an IssueReward effect may name, by id; `draws`: whether each lottery
    draw a LotteryEntries effect may name takes entries now, by code."""
    found: list[Problem] = []
    add = found.append

    def problem(field: str, code: str, message: str) -> None:
        add(Problem(field, code, message))

    _identity(campaign, problem)
    _trigger(campaign, event_types, problem)
    _conditions(campaign, categories, {t.code for t in tiers}, segments, problem)
    _effect(campaign, problem, rewards or {}, draws or {})
    _limits(campaign, spent_points, problem)
    _window(campaign, problem)
    _funder(campaign, problem)
    if not any(p.field in ("startsAt", "endsAt", "trigger.kind") for p in found):
        _overlaps(campaign, others, problem)
    return tuple(found)


def _identity(c: Campaign, problem: Report) -> None:
    if not isinstance(c.code, str) or not _CODE.fullmatch(c.code):
        problem("code", "CODE_INVALID",
                f"code is 1-64 letters, digits, '.', '_' or '-', got {c.code!r}")
    for field, name in (("nameEn", c.name_en), ("nameFa", c.name_fa)):
        if not name.strip():
            problem(field, "NAME_REQUIRED",
                    f"{field} is required: members read the campaign in English and Persian")
    if c.status not in STATUSES:
        problem("status", "STATUS_UNKNOWN",
                f"status must be one of {sorted(STATUSES)}, got {c.status!r}")
    if c.stacking not in STACKINGS:
        problem("stacking", "STACKING_UNKNOWN",
                f"stacking must be one of {sorted(STACKINGS)}, got {c.stacking!r}")
    if _not_int(c.priority) or c.priority not in PRIORITY_RANGE:
        problem("priority", "PRIORITY_OUT_OF_RANGE",
                f"priority must be a whole number from {PRIORITY_RANGE.start} to "
                f"{PRIORITY_RANGE.stop - 1}, got {c.priority!r}")


def _trigger(c: Campaign, event_types: frozenset[str], problem: Report) -> None:
    kind, name = c.trigger.kind, c.trigger.name
    if kind not in TRIGGER_KINDS:
        problem("trigger.kind", "TRIGGER_UNKNOWN",
                f"trigger.kind must be one of {sorted(TRIGGER_KINDS)}, got {kind!r}")
    elif kind in SALES_TRIGGERS and name:
        problem("trigger.name", "TRIGGER_NAME_NOT_ALLOWED",
                f"a {kind} trigger has no name, got {name!r}")
    elif kind == "event" and name not in event_types:
        problem("trigger.name", "EVENT_TYPE_UNKNOWN",
                f"trigger.name must be a registered event type ({', '.join(sorted(event_types))}),"
                f" got {name!r}")
    elif kind == "lifecycle" and name not in LIFECYCLE_KINDS:
        problem("trigger.name", "LIFECYCLE_UNKNOWN",
                f"trigger.name must be one of {', '.join(sorted(LIFECYCLE_KINDS))}, got {name!r}")
    elif kind == "schedule" and not _NAME.fullmatch(name):
        problem("trigger.name", "SCHEDULE_NAME_INVALID",
                f"a schedule's name is 1-64 lower-case letters, digits or '_', got {name!r}")


def _conditions(c: Campaign, categories: frozenset[str], tiers: set[str],
                segments: frozenset[str], problem: Report) -> None:
    k: Conditions = c.conditions
    kind = c.trigger.kind
    sets = (("partners", k.partners), ("categories", k.categories), ("skus", k.skus),
            ("tiers", k.tiers), ("segments", k.segments), ("weekdays", k.weekdays),
            ("channels", k.channels))
    for field, values in sets:
        if values is not None and not values:
            problem(f"conditions.{field}", "NEVER_MATCHES",
                    f"conditions.{field} is empty, so the campaign could never apply; leave it "
                    "out to allow any")
    for field, values, known, code in (
            ("categories", k.categories, categories, "CATEGORY_UNKNOWN"),
            ("tiers", k.tiers, tiers, "TIER_UNKNOWN"),
            ("segments", k.segments, segments, "SEGMENT_UNKNOWN"),
            ("channels", k.channels, CHANNELS, "CHANNEL_UNKNOWN")):
        unknown = sorted(map(str, (values or frozenset()) - known))
        if unknown:
            problem(f"conditions.{field}", code,
                    f"conditions.{field} names {', '.join(unknown)}, which the network does not "
                    f"know (known: {', '.join(sorted(known)) or 'none'})")
    if k.weekdays and any(_not_int(d) or not 0 <= d <= 6 for d in k.weekdays):
        problem("conditions.weekdays", "WEEKDAY_INVALID",
                "conditions.weekdays are 0 (Monday) to 6 (Sunday)")
    if k.hours is not None and k.hours.start == k.hours.end:
        problem("conditions.hours", "NEVER_MATCHES",
                "conditions.hours starts and ends at the same time, so it is empty (an "
                "end before the start wraps midnight)")
    for field, amount in (("minAmount", k.min_amount_minor), ("maxAmount", k.max_amount_minor)):
        if amount is not None and (_not_int(amount) or amount < 0):
            problem(f"conditions.{field}", "AMOUNT_NEGATIVE",
                    f"conditions.{field} is a whole number of minor units, 0 or more, "
                    f"got {amount!r}")
    if (k.min_amount_minor is not None and k.max_amount_minor is not None
            and k.min_amount_minor > k.max_amount_minor):
        problem("conditions.maxAmount", "NEVER_MATCHES",
                f"conditions.minAmount ({k.min_amount_minor}) is above conditions.maxAmount "
                f"({k.max_amount_minor}), so no purchase could match")
    sales_only = (("categories", k.categories is not None), ("skus", k.skus is not None),
                  ("minAmount", k.min_amount_minor is not None),
                  ("maxAmount", k.max_amount_minor is not None),
                  ("channels", k.channels is not None))
    for field, used in sales_only:
        if used and kind not in SALES_TRIGGERS:
            problem(f"conditions.{field}", "CONDITION_NOT_FOR_TRIGGER",
                    f"conditions.{field} reads a purchase or return; a {kind} trigger has none")
    if k.first_at_partner and kind != "purchase":
        problem("conditions.firstAtPartner", "CONDITION_NOT_FOR_TRIGGER",
                f"conditions.firstAtPartner reads a purchase; a {kind} trigger has none")
    if k.partners is not None and kind == "schedule":
        problem("conditions.partners", "CONDITION_NOT_FOR_TRIGGER",
                "a scheduled run involves no partner, so conditions.partners could never match")
    if k.attributes and kind not in ("event", "lifecycle"):
        problem("conditions.attributes", "CONDITION_NOT_FOR_TRIGGER",
                f"conditions.attributes reads an event's attributes; a {kind} trigger has none")
    for index, a in enumerate(k.attributes):
        field = f"conditions.attributes[{index}]"
        if not a.key:
            problem(field, "ATTRIBUTE_KEY_REQUIRED", f"{field} needs the attribute's key")
        if a.one_of is not None and not a.one_of:
            problem(field, "NEVER_MATCHES", f"{field}.oneOf is empty, so it could never match")
        bounds = [b for b in (a.at_least, a.at_most) if b is not None]
        if any(not isinstance(b, Decimal) or not b.is_finite() for b in bounds):
            problem(field, "NOT_A_NUMBER", f"{field}'s bounds must be finite numbers")
        elif a.at_least is not None and a.at_most is not None and a.at_least > a.at_most:
            problem(field, "NEVER_MATCHES",
                    f"{field}.atLeast ({a.at_least}) is above {field}.atMost ({a.at_most})")


# Triggers whose fact no booking path gives a catalog item for: a return takes points back,
# and a schedule's run is evaluated (simulations) but booked by no path.
NO_ITEM_TRIGGERS = frozenset({"return", "schedule"})


def _effect(c: Campaign, problem: Report, rewards: Mapping[int, str],
            draws: Mapping[str, bool]) -> None:
    e = c.effect
    if isinstance(e, FixedPoints):
        if _not_int(e.points) or e.points <= 0:
            problem("effect.points", "POINTS_NOT_POSITIVE",
                    f"effect.points must be a whole number above 0, got {e.points!r}")
        elif e.points > MAX_FIXED_POINTS:
            problem("effect.points", "POINTS_TOO_LARGE",
                    f"effect.points may be at most {MAX_FIXED_POINTS:,}, got {e.points:,}")
    elif isinstance(e, PointsPerAmount):
        if _decimal_problem("effect.rate", e.rate, problem):
            pass
        elif not Decimal(0) < e.rate <= MAX_RATE:
            problem("effect.rate", "RATE_OUT_OF_RANGE",
                    f"effect.rate is points per currency unit, above 0 and at most {MAX_RATE}, "
                    f"got {e.rate}")
        if c.trigger.kind not in SALES_TRIGGERS:
            problem("effect.rate", "EFFECT_NOT_FOR_TRIGGER",
                    f"points per amount need an amount; a {c.trigger.kind} trigger has none")
    elif isinstance(e, Multiplier):
        if _decimal_problem("effect.factor", e.factor, problem):
            pass
        elif not MIN_FACTOR_EXCLUSIVE < e.factor <= MAX_FACTOR:
            problem("effect.factor", "MULTIPLIER_OUT_OF_RANGE",
                    f"effect.factor must be above {MIN_FACTOR_EXCLUSIVE} and at most "
                    f"{MAX_FACTOR}, got {e.factor}")
        if c.trigger.kind != "purchase":
            problem("effect.factor", "EFFECT_NOT_FOR_TRIGGER",
                    f"a multiplier multiplies a purchase's base points; a {c.trigger.kind} "
                    "trigger has none")
    elif isinstance(e, IssueReward):
        status = rewards.get(e.reward_id) if not _not_int(e.reward_id) else None
        if status is None:
            problem("effect.rewardId", "REWARD_UNKNOWN",
                    f"effect.rewardId names no reward in the catalog, got {e.reward_id!r}")
        elif status != "active":
            problem("effect.rewardId", "REWARD_NOT_ACTIVE",
                    f"effect.rewardId names a {status} reward; a campaign issues only active "
                    "ones")
        if c.trigger.kind in NO_ITEM_TRIGGERS:
            problem("effect.rewardId", "EFFECT_NOT_FOR_TRIGGER",
                    f"a reward is issued to the member of a purchase, event or lifecycle fact; "
                    f"a {c.trigger.kind} trigger gives none")
    elif isinstance(e, LotteryEntries):
        open_now = draws.get(e.draw_code)
        if open_now is None:
            problem("effect.drawCode", "DRAW_UNKNOWN",
                    f"effect.drawCode names no lottery draw, got {e.draw_code!r}")
        elif not open_now:
            problem("effect.drawCode", "DRAW_NOT_OPEN",
                    f"the draw {e.draw_code!r} takes no more entries (it has closed or been "
                    "drawn)")
        if _not_int(e.count) or not 1 <= e.count <= MAX_ENTRIES:
            problem("effect.count", "ENTRIES_OUT_OF_RANGE",
                    f"effect.count is the entries given, 1 to {MAX_ENTRIES}, got {e.count!r}")
        if c.trigger.kind in NO_ITEM_TRIGGERS:
            problem("effect.drawCode", "EFFECT_NOT_FOR_TRIGGER",
                    f"entries are given to the member of a purchase, event or lifecycle fact; "
                    f"a {c.trigger.kind} trigger gives none")
    else:
        problem("effect", "EFFECT_UNKNOWN", f"unknown effect {type(e).__name__}")


def _decimal_problem(field: str, value: object, problem: Report) -> bool:
    if not isinstance(value, Decimal) or not value.is_finite():
        problem(field, "NOT_A_NUMBER", f"{field} must be a finite decimal number, got {value!r}")
        return True
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        problem(field, "TOO_PRECISE",
                f"{field} may have at most {MAX_DECIMAL_PLACES} decimal places, got {value}")
        return True
    return False


def _limits(c: Campaign, spent_points: int, problem: Report) -> None:
    lim = c.limits
    for field, value in (("perMemberDay", lim.per_member_day),
                         ("perMemberWeek", lim.per_member_week),
                         ("perMemberMonth", lim.per_member_month),
                         ("perMemberCampaign", lim.per_member_campaign)):
        if value is not None and (_not_int(value) or not 1 <= value <= MAX_LIMIT):
            problem(f"limits.{field}", "LIMIT_OUT_OF_RANGE",
                    f"limits.{field} is how many times a member may benefit, 1 to "
                    f"{MAX_LIMIT:,} (leave it out for no limit), got {value!r}")
    budget = lim.budget_points
    if budget is None:
        return
    if _not_int(budget) or budget <= 0:
        problem("limits.budgetPoints", "BUDGET_NOT_POSITIVE",
                f"limits.budgetPoints must be a whole number above 0, got {budget!r}")
    elif budget > MAX_BUDGET:
        problem("limits.budgetPoints", "BUDGET_TOO_LARGE",
                f"limits.budgetPoints may be at most {MAX_BUDGET:,}, got {budget:,}")
    elif budget < spent_points:
        problem("limits.budgetPoints", "BUDGET_BELOW_SPENT",
                f"limits.budgetPoints ({budget:,}) is below the {spent_points:,} points the "
                "campaign has already issued")


def _window(c: Campaign, problem: Report) -> None:
    naive = False
    for field, at in (("startsAt", c.starts_at), ("endsAt", c.ends_at)):
        if at is not None and (not isinstance(at, dt.datetime) or at.utcoffset() is None):
            naive = True
            problem(field, "TIME_WITHOUT_ZONE",
                    f"{field} must be a date and time with its UTC offset, got {at!r}")
    if not naive and c.ends_at is not None and c.ends_at <= c.starts_at:
        problem("endsAt", "WINDOW_EMPTY",
                f"endsAt ({c.ends_at.isoformat()}) must be after startsAt "
                f"({c.starts_at.isoformat()})")


def _funder(c: Campaign, problem: Report) -> None:
    if not c.funder:
        problem("funder", "FUNDER_REQUIRED", "a campaign needs a funder: the party whose points "
                "these are")
        return
    for index, part in enumerate(c.funder):
        if _not_int(part.share) or not 1 <= part.share <= FULL_SHARE:
            problem(f"funder[{index}].share", "SHARE_OUT_OF_RANGE",
                    f"a funder's share is basis points, 1 to {FULL_SHARE:,}, got {part.share!r}")
    parties = [part.party_id for part in c.funder]
    if len(set(parties)) != len(parties):
        problem("funder", "FUNDER_DUPLICATE", "each party may appear once among the funders")
    total = sum(part.share for part in c.funder if not _not_int(part.share))
    if total != FULL_SHARE:
        problem("funder", "SHARES_NOT_WHOLE",
                f"funder shares are basis points and must sum to {FULL_SHARE:,}, got {total:,}")


def _overlaps(c: Campaign, others: Iterable[Campaign], problem: Report) -> None:
    if c.stacking != "exclusive" or c.status == "ended":
        return
    for other in others:
        if (other.id != c.id and other.stacking == "exclusive"
                and other.status in ("active", "paused") and same_slot(c, other)
                and windows_intersect(c, other)):
            problem("startsAt", "WINDOW_OVERLAP",
                    f"exclusive campaign {other.code!r} has the same trigger and partner and its "
                    "window overlaps this one's; only one exclusive campaign may hold a slot at "
                    "a time")


def same_slot(a: Campaign, b: Campaign) -> bool:
    """Same trigger, and partner conditions that can name the same partner."""
    pa, pb = a.conditions.partners, b.conditions.partners
    return a.trigger.key == b.trigger.key and (pa is None or pb is None or bool(pa & pb))


def windows_intersect(a: Campaign, b: Campaign) -> bool:
    """Half-open windows [starts_at, ends_at) share an instant; None is open-ended."""
    return ((b.ends_at is None or a.starts_at < b.ends_at)
            and (a.ends_at is None or b.starts_at < a.ends_at))


def _not_int(value: object) -> bool:
    return isinstance(value, bool) or not isinstance(value, int)
