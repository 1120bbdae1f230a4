"""Segments: named sets of members that campaigns can target (`Conditions.segments`).

Three kinds, one membership table (network/programme/segments_store.py keeps it):
- `static`: a list imported from a CSV of card numbers (`parse_card_csv` checks the file);
- `rule`: a rule that is data (JSON), evaluated here over `MemberFacts` gathered at the edge;
- `rfm`: recency, frequency and monetary quintile scores over the ledger, mapped to the classic
  RFM segments (`RFM_SEGMENTS`).

Everything in this module is pure: no database, no clock. The edge gathers facts for every member
in a few set-based queries and calls these functions once per member.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from network import cards
from network.errors import HubError
from network.programme.tiers import TierDefinition

Kind = Literal["static", "rule", "rfm"]
KINDS: tuple[str, ...] = ("static", "rule", "rfm")

# Like partner and campaign codes: lower-case, so `Conditions.segments` compares exactly.
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# The longest trailing window a rule may look back over: a rule is re-evaluated by a job, and a
# window beyond the ledger's lot validity would read history nobody keeps in mind.
MAX_WINDOW_DAYS = 3_660
NAME_LENGTH = 200


class SegmentError(HubError):
    """A segment, its rule or an import refused; `field` names the part at fault."""

    code = "SEGMENT_INVALID"
    codes: ClassVar[tuple[str, ...]] = (
        "SEGMENT_INVALID", "SEGMENT_CODE_INVALID", "SEGMENT_NAME_INVALID", "SEGMENT_EXISTS",
        "SEGMENT_NOT_FOUND", "SEGMENT_NOT_STATIC", "SEGMENT_KIND_RESERVED", "RULE_INVALID",
        "RULE_UNKNOWN_CONDITION", "RULE_UNKNOWN_TIER", "RULE_UNKNOWN_PARTNER",
        "RULE_BAD_WINDOW", "RULE_BAD_THRESHOLD", "CSV_EMPTY", "CSV_BAD_LINES")


def check_code(code: str) -> None:
    if not CODE_PATTERN.fullmatch(code):
        raise SegmentError(f"a segment code is 1 to 64 lower-case letters, digits, '-', '_' or "
                           f"'.', starting with a letter or digit; got {code!r}",
                           code="SEGMENT_CODE_INVALID", field="code")


def check_names(name_en: str, name_fa: str) -> None:
    for field_name, name in (("name", name_en), ("name_fa", name_fa)):
        if not name.strip() or len(name) > NAME_LENGTH:
            raise SegmentError(f"{field_name} must be 1 to {NAME_LENGTH} characters; segments "
                               "are named in English and in Persian",
                               code="SEGMENT_NAME_INVALID", field=field_name)


# ---------------------------------------------------------------------------------------------
# Rules

@dataclass(frozen=True)
class Range:
    """`at_least <= value < below`; either bound may be absent (not both)."""

    at_least: int | None = None
    below: int | None = None

    def holds(self, value: int) -> bool:
        return ((self.at_least is None or value >= self.at_least)
                and (self.below is None or value < self.below))


@dataclass(frozen=True)
class TierIn:
    tiers: frozenset[str]


@dataclass(frozen=True)
class EnrolledDays:
    """Whole days since enrolment (the member's `created_at`), in UTC."""

    range: Range


@dataclass(frozen=True)
class Visited:
    """Earned or spent at the partner in the last `days` days."""

    partner_id: int
    days: int


@dataclass(frozen=True)
class Activity:
    """Points earned (net of reversals) or spent (net of reversed redemptions) in the last
    `days` days, anywhere in the network."""

    measure: Literal["earned", "spent"]
    days: int
    range: Range


Condition = TierIn | EnrolledDays | Visited | Activity


@dataclass(frozen=True)
class Rule:
    """Every condition must hold (an empty rule is refused: it would be "everyone")."""

    conditions: tuple[Condition, ...]

    @property
    def windows(self) -> frozenset[int]:
        """The trailing windows (days) whose activity the edge must gather."""
        return frozenset(c.days for c in self.conditions if isinstance(c, Visited | Activity))

    @property
    def needs_tier(self) -> bool:
        return any(isinstance(c, TierIn) for c in self.conditions)


@dataclass(frozen=True)
class WindowActivity:
    earned: int = 0
    spent: int = 0
    partners: frozenset[int] = frozenset()  # partners earned or spent at


@dataclass(frozen=True)
class MemberFacts:
    """What rules read about one member, gathered at the edge for all members at once."""

    member_id: int
    enrolled_at: dt.datetime
    tier: str | None = None
    windows: Mapping[int, WindowActivity] = field(default_factory=dict)


_NO_ACTIVITY = WindowActivity()


def _fail(code: str, where: str, message: str) -> SegmentError:
    return SegmentError(f"{where}: {message}", code=code, field=where)


def _int(value: Any, where: str, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(code, where, f"must be a whole number, got {value!r}")
    return value


def _days(body: Mapping[str, Any], where: str) -> int:
    days = _int(body.get("days"), f"{where}.days", "RULE_BAD_WINDOW")
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise _fail("RULE_BAD_WINDOW", f"{where}.days",
                    f"must be 1 to {MAX_WINDOW_DAYS} days, got {days}")
    return days


def _range(body: Mapping[str, Any], where: str) -> Range:
    bounds = {k: _int(body[k], f"{where}.{k}", "RULE_BAD_THRESHOLD")
              for k in ("at_least", "below") if k in body}
    if not bounds:
        raise _fail("RULE_BAD_THRESHOLD", where, "needs at_least, below or both")
    if any(v < 0 for v in bounds.values()):
        raise _fail("RULE_BAD_THRESHOLD", where, "thresholds cannot be negative")
    low, high = bounds.get("at_least"), bounds.get("below")
    if low is not None and high is not None and low >= high:
        raise _fail("RULE_BAD_THRESHOLD", where,
                    f"at_least ({low}) must be below `below` ({high}), or nothing matches")
    if high == 0:
        raise _fail("RULE_BAD_THRESHOLD", f"{where}.below", "below 0 can never match")
    return Range(low, high)


def _keys(body: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise _fail("RULE_INVALID", where, f"must be an object, got {body!r}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _fail("RULE_INVALID", where, f"unknown keys {unknown}; allowed: {sorted(allowed)}")
    return body


def _condition(item: Any, where: str, partner_ids: Mapping[str, int],
               tiers: Sequence[TierDefinition]) -> Condition:
    if not isinstance(item, Mapping) or len(item) != 1:
        raise _fail("RULE_INVALID", where, "each condition is an object with exactly one key")
    (name, body), = item.items()
    where = f"{where}.{name}"
    if name == "tier":
        known = [t.code for t in tiers]
        if not isinstance(body, list) or not body or not all(isinstance(t, str) for t in body):
            raise _fail("RULE_INVALID", where, "must be a non-empty list of tier codes")
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise _fail("RULE_UNKNOWN_TIER", where, f"unknown tiers {unknown}; tiers: {known}")
        return TierIn(frozenset(body))
    if name == "enrolled_days":
        return EnrolledDays(_range(_keys(body, where, {"at_least", "below"}), where))
    if name == "visited":
        body = _keys(body, where, {"partner", "days"})
        partner = body.get("partner")
        if partner not in partner_ids:
            raise _fail("RULE_UNKNOWN_PARTNER", f"{where}.partner",
                        f"no partner with code {partner!r}")
        return Visited(partner_ids[partner], _days(body, where))
    if name in ("earned", "spent"):
        body = _keys(body, where, {"days", "at_least", "below"})
        return Activity(name, _days(body, where), _range(body, where))  # type: ignore[arg-type]
    raise _fail("RULE_UNKNOWN_CONDITION", where,
                "conditions are tier, enrolled_days, visited, earned and spent")


def parse_rule(data: Any, *, partner_ids: Mapping[str, int],
               tiers: Sequence[TierDefinition]) -> Rule:
    """A rule from its JSON form, or the first problem as a SegmentError naming its place
    (`rule.all[1].visited.days`). `partner_ids`: partner codes to ids, as the database knows them.

    Form: `{"all": [condition, ...]}`, each condition one of
    `{"tier": ["silver", "gold"]}`, `{"enrolled_days": {"at_least": 30, "below": 365}}`,
    `{"visited": {"partner": "cafe", "days": 30}}`,
    `{"earned": {"days": 90, "at_least": 1000}}`, `{"spent": {"days": 90, "below": 500}}`.
    """
    body = _keys(data, "rule", {"all"})
    items = body.get("all")
    if not isinstance(items, list) or not items:
        raise _fail("RULE_INVALID", "rule.all", "must be a non-empty list of conditions")
    return Rule(tuple(_condition(item, f"rule.all[{i}]", partner_ids, tiers)
                      for i, item in enumerate(items)))


def enrolled_days(enrolled_at: dt.datetime, now: dt.datetime) -> int:
    return max(0, (now - enrolled_at).days)


def holds(condition: Condition, member: MemberFacts, now: dt.datetime) -> bool:
    match condition:
        case TierIn(tiers):
            return member.tier in tiers
        case EnrolledDays(range_):
            return range_.holds(enrolled_days(member.enrolled_at, now))
        case Visited(partner_id, days):
            return partner_id in member.windows.get(days, _NO_ACTIVITY).partners
        case Activity(measure, days, range_):
            activity = member.windows.get(days, _NO_ACTIVITY)
            return range_.holds(activity.earned if measure == "earned" else activity.spent)
    raise AssertionError(f"unknown condition {condition!r}")


def matches(rule: Rule, member: MemberFacts, now: dt.datetime) -> bool:
    return all(holds(c, member, now) for c in rule.conditions)


def members_matching(rule: Rule, members: Iterable[MemberFacts], now: dt.datetime) -> set[int]:
    return {m.member_id for m in members if matches(rule, m, now)}


# ---------------------------------------------------------------------------------------------
# Static lists: a CSV of card numbers

@dataclass(frozen=True)
class LineProblem:
    line: int  # 1-based, as an editor shows it
    code: str  # CARD_MALFORMED | CARD_CHECK_DIGIT | CARD_DUPLICATE | CARD_UNKNOWN
    message: str


@dataclass(frozen=True)
class CardList:
    cards: Mapping[str, int]  # normalized card number -> the line it is on, first occurrence
    problems: tuple[LineProblem, ...]


HEADERS = frozenset({"card", "card_number", "cardnumber", "card number"})


def parse_card_csv(text: str) -> CardList:
    """The card numbers of a CSV file: the first column of each line; blank lines are skipped,
    and so is a first line whose first cell is a header (`card_number`). Spaces and dashes inside
    a number, and Persian digits, are read as `cards.normalize` reads them. Unknown cards cannot
    be told here: the edge looks the numbers up and adds CARD_UNKNOWN problems."""
    found: dict[str, int] = {}
    problems: list[LineProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        cell = raw.split(",", 1)[0].split(";", 1)[0].strip().strip('"').strip()
        if not raw.strip() or (number == 1 and cell.lower() in HEADERS):
            continue
        card = cards.normalize(cell)
        if not (len(card) == cards.CARD_LENGTH and card.isascii() and card.isdigit()):
            problems.append(LineProblem(number, "CARD_MALFORMED",
                                        f"line {number}: {cell!r} is not a {cards.CARD_LENGTH}"
                                        "-digit card number"))
        elif not cards.is_valid(card):
            problems.append(LineProblem(number, "CARD_CHECK_DIGIT",
                                        f"line {number}: {cell!r} fails the card's check digit "
                                        "(mistyped?)"))
        elif card in found:
            problems.append(LineProblem(number, "CARD_DUPLICATE",
                                        f"line {number}: card {card} is already on line "
                                        f"{found[card]}"))
        else:
            found[card] = number
    return CardList(found, tuple(problems))


def unknown_cards(parsed: CardList, known: Iterable[str]) -> tuple[LineProblem, ...]:
    """CARD_UNKNOWN for each parsed card no member holds."""
    known = set(known)
    return tuple(LineProblem(line, "CARD_UNKNOWN", f"line {line}: no member holds card {card}")
                 for card, line in parsed.cards.items() if card not in known)


# ---------------------------------------------------------------------------------------------
# RFM

@dataclass(frozen=True)
class RfmFacts:
    """One member's activity in the RFM window (only members with some)."""

    member_id: int
    last_at: dt.datetime  # the latest earn or spend
    frequency: int  # earns and spends booked
    monetary: int  # points earned net of reversals plus points spent net of reversals, >= 0


@dataclass(frozen=True)
class RfmScore:
    member_id: int
    recency: int  # 1..5, 5 = most recent
    frequency: int
    monetary: int
    segment: str  # an RFM_SEGMENTS code


def quintile_scores(values: Sequence[int | float]) -> list[int]:
    """A score 1..5 per value: 1 + the fifth of the population the value sits above.

    Rank-based on the count of strictly smaller values, so equal values always share a score and
    a larger value never scores lower (monotone); with n distinct values each score holds about
    n/5 of them. Exact integer arithmetic: `1 + 5 * below // n`."""
    ordered = sorted(values)
    n = len(ordered)
    below: dict[int | float, int] = {}
    for index, value in enumerate(ordered):
        below.setdefault(value, index)
    return [1 + 5 * below[v] // n for v in values]


# The classic R x F segment map (the "RFM regex" grid): (segment, recency scores, frequency
# scores). The ten cells partition the 5 x 5 grid; monetary is scored and stored but, as in the
# classic map, does not move a member between segments.
RFM_SEGMENTS: tuple[tuple[str, str, str, frozenset[int], frozenset[int]], ...] = (
    ("rfm-champions", "Champions", "قهرمانان", frozenset({5}), frozenset({4, 5})),
    ("rfm-loyal", "Loyal", "وفادار", frozenset({3, 4}), frozenset({4, 5})),
    ("rfm-potential-loyalists", "Potential loyalists", "وفاداران بالقوه", frozenset({4, 5}),
     frozenset({2, 3})),
    ("rfm-new", "New customers", "مشتریان تازه", frozenset({5}), frozenset({1})),
    ("rfm-promising", "Promising", "امیدبخش", frozenset({4}), frozenset({1})),
    ("rfm-need-attention", "Need attention", "نیازمند توجه", frozenset({3}), frozenset({3})),
    ("rfm-about-to-sleep", "About to sleep", "در آستانه خواب", frozenset({3}),
     frozenset({1, 2})),
    ("rfm-cant-lose", "Can't lose them", "نباید از دستشان داد", frozenset({1, 2}),
     frozenset({5})),
    ("rfm-at-risk", "At risk", "در خطر", frozenset({1, 2}), frozenset({3, 4})),
    ("rfm-hibernating", "Hibernating", "خفته", frozenset({1, 2}), frozenset({1, 2})),
)
RFM_CODES: tuple[str, ...] = tuple(s[0] for s in RFM_SEGMENTS)


def rfm_segment(recency: int, frequency: int) -> str:
    for code, _en, _fa, rs, fs in RFM_SEGMENTS:
        if recency in rs and frequency in fs:
            return code
    raise ValueError(f"scores must be 1..5, got R={recency} F={frequency}")


def score_rfm(rows: Sequence[RfmFacts]) -> list[RfmScore]:
    """Quintile scores for every member with activity in the window, and their segment.
    Recency scores the time of the last activity (later is better), so ties share a score."""
    recency = quintile_scores([r.last_at.timestamp() for r in rows])
    frequency = quintile_scores([r.frequency for r in rows])
    monetary = quintile_scores([r.monetary for r in rows])
    return [RfmScore(row.member_id, rs, fs, ms, rfm_segment(rs, fs))
            for row, rs, fs, ms in zip(rows, recency, frequency, monetary, strict=True)]
