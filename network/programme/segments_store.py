"""The edge of segments: stored definitions and memberships, the facts rules read, the refresh jobs.

Every refresh is set-based: the facts of all members come from a handful of grouped queries
(one for members, one for tiers when a rule reads them, one per distinct trailing window the
rules name, one for RFM), the pure functions in network/programme/segments.py decide, and the
memberships change by one bulk insert and one bulk delete. The statement count does not grow
with the number of members (tests/network/test_segments_store.py counts them).

`segments_of` is the one read the earn's plan step makes: one indexed query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from network import idempotency
from network.clock import as_utc
from network.db.engine import Database
from network.db.schema import journal_entries as je
from network.db.schema import members, parties
from network.member_ids import ids_by_card
from network.programme import ladder_store, tier_facts, tiers, tiers_store
from network.programme import segments as rules
from network.programme.segments import (
    LineProblem,
    MemberFacts,
    RfmFacts,
    Rule,
    SegmentError,
    WindowActivity,
)
from network.programme.segments_schema import member_rfm, segment_members, segments

# The trailing window RFM scores look back over.
RFM_WINDOW = dt.timedelta(days=365)

# Ledger kinds that are a member's own activity at a partner: visits, and their reversals.
# Points spent at a partner are taken at its till, on a reward it honours, or on a draw it
# sponsors; a refund of any of them is a reverse_redemption.
VISIT_KINDS = ("earn", "redeem", "capture")
_SPENDS = ("redeem", "capture", "reward", "lottery")
SPENT_KINDS = (*_SPENDS, "reverse_redemption")
ACTIVITY_KINDS = (*tier_facts.EARNED_KINDS, *SPENT_KINDS)
_SPENT = case((je.c.kind.in_(_SPENDS), je.c.points),
              (je.c.kind == "reverse_redemption", -je.c.points), else_=0)
_EARNED = case((je.c.kind.in_(tier_facts.EARNED_KINDS), tier_facts.EARNED), else_=0)
_VISIT = case((je.c.kind.in_(VISIT_KINDS), 1), else_=0)


@dataclass(frozen=True)
class Segment:
    id: int
    code: str
    name_en: str
    name_fa: str
    kind: str
    rule: Mapping[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime
    members: int

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


# ---------------------------------------------------------------------------------------------
# Reads

def segments_of(conn: Connection, member_id: int) -> frozenset[str]:
    """The codes of the segments a member is in, for `MemberState.segments` (one query on the
    primary key's leading column)."""
    return frozenset(conn.execute(
        select(segments.c.code).select_from(segment_members.join(segments))
        .where(segment_members.c.member_id == member_id)).scalars())


def codes(conn: Connection) -> frozenset[str]:
    """Every segment code: what campaign validation accepts in `Conditions.segments`."""
    return frozenset(conn.execute(select(segments.c.code)).scalars())


def _query() -> Any:
    count = (select(func.count()).where(segment_members.c.segment_id == segments.c.id)
             .scalar_subquery())
    return select(segments, count.label("members")).order_by(segments.c.code)


def _segment(row: Any) -> Segment:
    return Segment(row.id, row.code, row.name_en, row.name_fa, row.kind, row.rule,
                   as_utc(row.created_at), as_utc(row.updated_at), int(row.members))


def list_segments(conn: Connection) -> list[Segment]:
    return [_segment(row) for row in conn.execute(_query())]


def get(conn: Connection, code: str) -> Segment:
    row = conn.execute(_query().where(segments.c.code == code)).first()
    if row is None:
        raise SegmentError(f"no segment with code {code!r} (pointsnet segments list)",
                           code="SEGMENT_NOT_FOUND", field="code")
    return _segment(row)


def member_cards(conn: Connection, segment_id: int, limit: int) -> list[str]:
    """The first `limit` members' card numbers, in card order."""
    return list(conn.execute(
        select(members.c.card_number).select_from(segment_members.join(members))
        .where(segment_members.c.segment_id == segment_id)
        .order_by(members.c.card_number).limit(limit)).scalars())


def partner_ids(conn: Connection) -> dict[str, int]:
    return {row.code: row.id for row in conn.execute(
        select(parties.c.code, parties.c.id).where(parties.c.kind == "partner"))}


def rule_of(conn: Connection, segment: Segment, ids: Mapping[str, int] | None = None) -> Rule:
    return rules.parse_rule(segment.rule, partner_ids=ids if ids is not None
                            else partner_ids(conn), tiers=ladder_store.ladder(conn))


# ---------------------------------------------------------------------------------------------
# Definitions

def create(conn: Connection, *, code: str, name_en: str, name_fa: str,
           rule: Mapping[str, Any] | None, now: dt.datetime, kind: str | None = None) -> Segment:
    """A static segment (no rule) or a rule segment, checked before anything is written; its
    members come with the next import (static) or refresh (rule). `kind="rfm"` is for the
    RFM job only: those segments are made and filled by `refresh_rfm`."""
    kind = kind or ("rule" if rule is not None else "static")
    rules.check_code(code)
    rules.check_names(name_en, name_fa)
    if kind != "rfm" and code.startswith("rfm-"):
        raise SegmentError("codes starting with 'rfm-' belong to the RFM job's segments",
                           code="SEGMENT_KIND_RESERVED", field="code")
    if rule is not None:
        rules.parse_rule(rule, partner_ids=partner_ids(conn), tiers=ladder_store.ladder(conn))
    try:
        with conn.begin_nested():
            conn.execute(insert(segments).values(code=code, name_en=name_en, name_fa=name_fa,
                                                 kind=kind, rule=rule, created_at=now,
                                                 updated_at=now))
    except IntegrityError:
        raise SegmentError(f"a segment with code {code!r} exists already",
                           code="SEGMENT_EXISTS", field="code") from None
    return get(conn, code)


@dataclass(frozen=True)
class Change:
    added: int
    removed: int


# The advisory lock's name, hashed like idempotency keys (64 bits), so no other lock shares it.
# Hashed at use, not at import: network.idempotency imports the ledger, which imports this module.
SEGMENTS_LOCK = ("segments", "memberships")


def _serialize(conn: Connection) -> None:
    """One membership writer at a time. Each computes its changes from what it read, so two at
    once (a refresh and its retry, two imports of one list) would insert the same rows: on
    PostgreSQL a transaction-scoped advisory lock queues them, and the statements after it see
    what the first committed. SQLite's BEGIN IMMEDIATE queues writers already."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(idempotency.advisory_key(*SEGMENTS_LOCK))))



def _sync(conn: Connection, wanted: Mapping[int, set[int]], now: dt.datetime) -> dict[int, Change]:
    """Make each segment's members exactly `wanted[segment_id]`, keeping the `added_at` of those
    who stay: one read, one bulk delete, one bulk insert, however many segments and members."""
    if not wanted:
        return {}
    current: dict[int, set[int]] = defaultdict(set)
    for row in conn.execute(select(segment_members.c.segment_id, segment_members.c.member_id)
                            .where(segment_members.c.segment_id.in_(list(wanted)))):
        current[row.segment_id].add(row.member_id)
    gone = {s: current[s] - ids for s, ids in wanted.items()}
    new = {s: ids - current[s] for s, ids in wanted.items()}
    if any(gone.values()):
        conn.execute(delete(segment_members).where(
            segment_members.c.segment_id == bindparam("s"),
            segment_members.c.member_id == bindparam("m")),
            [{"s": s, "m": m} for s, ids in gone.items() for m in ids])
    if any(new.values()):
        conn.execute(insert(segment_members),
                     [{"segment_id": s, "member_id": m, "added_at": now}
                      for s, ids in new.items() for m in sorted(ids)])
    touched = [s for s in wanted if gone[s] or new[s]]
    if touched:
        conn.execute(update(segments).where(segments.c.id.in_(touched)).values(updated_at=now))
    return {s: Change(len(new[s]), len(gone[s])) for s in wanted}


# ---------------------------------------------------------------------------------------------
# Static lists

@dataclass(frozen=True)
class ImportResult:
    segment: str
    members: int  # the list's size after the import
    added: int
    removed: int
    skipped: tuple[LineProblem, ...]  # bad lines left out (only with skip_bad)


def import_static(conn: Connection, code: str, text: str, now: dt.datetime, *,
                  skip_bad: bool = False) -> ImportResult:
    """Make static segment `code` exactly the members whose cards the CSV lists.

    Every bad line (malformed, failing the check digit, a duplicate, a card no member holds) is
    reported with its line number. Without `skip_bad` any bad line refuses the whole file and
    nothing changes (SegmentError CSV_BAD_LINES, the problems in `.problems`); with it the good
    lines are imported and the bad ones come back in `skipped`. A file with no card at all is
    refused either way: it would empty the list, which is rarely what an upload means."""
    _serialize(conn)
    segment = get(conn, code)
    if segment.kind != "static":
        raise SegmentError(f"segment {code!r} is a {segment.kind} segment; only static segments "
                           "take an imported list (the refresh job fills the others)",
                           code="SEGMENT_NOT_STATIC", field="code")
    parsed = rules.parse_card_csv(text)
    ids = _ids_by_card(conn, parsed.cards)
    problems = sorted((*parsed.problems, *rules.unknown_cards(parsed, ids)),
                      key=lambda p: p.line)
    if problems and not skip_bad:
        raise CsvRefused(problems)
    if not ids:
        raise SegmentError("the file lists no card a member holds; nothing was imported",
                           code="CSV_EMPTY", field="file")
    change = _sync(conn, {segment.id: set(ids.values())}, now)[segment.id]
    return ImportResult(code, len(ids), change.added, change.removed, tuple(problems))


class CsvRefused(SegmentError):
    """Some lines of an import are bad; nothing was written."""

    code = "CSV_BAD_LINES"

    def __init__(self, problems: Iterable[LineProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} bad line(s), nothing imported: "
                         + "; ".join(p.message for p in self.problems[:5])
                         + ("; …" if len(self.problems) > 5 else ""), field="file")


def _ids_by_card(conn: Connection, cards: Iterable[str]) -> dict[str, int]:
    return ids_by_card(conn, set(cards))


# ---------------------------------------------------------------------------------------------
# Rule segments

def _activity(conn: Connection, since: dt.datetime, *, by_partner: bool) -> Any:
    """Earned, spent and visits per member (and partner) booked after `since`: one query."""
    keys = [je.c.member_id, je.c.party_id] if by_partner else [je.c.member_id]
    return conn.execute(
        select(*keys, func.sum(_EARNED).label("earned"), func.sum(_SPENT).label("spent"),
               func.sum(_VISIT).label("visits"), func.max(je.c.booked_at).label("last_at"))
        .where(je.c.booked_at > since, je.c.kind.in_(ACTIVITY_KINDS))
        .group_by(*keys))


def gather_facts(conn: Connection, now: dt.datetime, *, windows: Iterable[int],
                 tier_definitions: tuple[tiers.TierDefinition, ...] | None = None,
                 need_tier: bool = True) -> list[MemberFacts]:
    """Every member's facts for rule evaluation: 1 + (1 if need_tier) + len(windows) queries."""
    enrolled = {row.id: as_utc(row.created_at)
                for row in conn.execute(select(members.c.id, members.c.created_at))}
    tier_of: dict[int, str | None] = {}
    if tier_definitions is None:
        tier_definitions = ladder_store.ladder(conn)
    if need_tier and tier_definitions:
        # The tier in force: the stored one, or what the points reach when that is higher.
        earned = tier_facts.earned_by_member(conn, now, tiers.window(tier_definitions))
        held = tiers_store.held_codes(conn)
        for member_id in enrolled:
            code = held.get(member_id)
            tier = tiers.in_force(tier_definitions, tiers.TierFacts(earned.get(member_id, 0)),
                                  tiers.HeldTier(code, now, None) if code else None)
            tier_of[member_id] = tier.code if tier else None
    per_window: dict[int, dict[int, WindowActivity]] = defaultdict(dict)
    for days in sorted(set(windows)):
        totals: dict[int, list[Any]] = defaultdict(lambda: [0, 0, set()])
        for row in _activity(conn, now - dt.timedelta(days=days), by_partner=True):
            acc = totals[row.member_id]
            acc[0] += int(row.earned)
            acc[1] += int(row.spent)
            if row.visits and row.party_id is not None:
                acc[2].add(row.party_id)
        for member_id, (earned_pts, spent_pts, visited) in totals.items():
            per_window[member_id][days] = WindowActivity(max(0, earned_pts), max(0, spent_pts),
                                                         frozenset(visited))
    return [MemberFacts(member_id, at, tier_of.get(member_id), per_window.get(member_id, {}))
            for member_id, at in enrolled.items()]


def refresh_rules(conn: Connection, now: dt.datetime, only: str | None = None) -> dict[str, int]:
    """Re-evaluate every rule segment (or just `only`) over every member; the members of each,
    by code."""
    _serialize(conn)
    found = [s for s in list_segments(conn) if s.kind == "rule" and only in (None, s.code)]
    if not found:
        return {}
    ids = partner_ids(conn)
    parsed = {s.id: rule_of(conn, s, ids) for s in found}
    facts = gather_facts(conn, now,
                         windows={d for rule in parsed.values() for d in rule.windows},
                         need_tier=any(rule.needs_tier for rule in parsed.values()))
    wanted = {s.id: rules.members_matching(parsed[s.id], facts, now) for s in found}
    _sync(conn, wanted, now)
    return {s.code: len(wanted[s.id]) for s in found}


# ---------------------------------------------------------------------------------------------
# RFM

def rfm_facts(conn: Connection, now: dt.datetime,
              window: dt.timedelta = RFM_WINDOW) -> list[RfmFacts]:
    """Members with at least one earn or spend in the window, aggregated in one query."""
    return [RfmFacts(row.member_id, as_utc(row.last_at), int(row.visits),
                     max(0, int(row.earned)) + max(0, int(row.spent)))
            for row in _activity(conn, now - window, by_partner=False) if row.visits]


def _rfm_segment_ids(conn: Connection, now: dt.datetime) -> dict[str, int]:
    """The RFM segments' ids, creating any that are missing (one read, one insert at most)."""
    have = {row.code: row.id for row in conn.execute(
        select(segments.c.code, segments.c.id).where(segments.c.code.in_(rules.RFM_CODES)))}
    missing = [{"code": code, "name_en": en, "name_fa": fa, "kind": "rfm", "rule": None,
                "created_at": now, "updated_at": now}
               for code, en, fa, _r, _f in rules.RFM_SEGMENTS if code not in have]
    if missing:
        conn.execute(insert(segments), missing)
        return _rfm_segment_ids(conn, now)
    return have


@dataclass(frozen=True)
class RfmResult:
    scored: int
    segments: dict[str, int]  # members per RFM segment code


def refresh_rfm_in(conn: Connection, now: dt.datetime,
                   window: dt.timedelta = RFM_WINDOW) -> RfmResult:
    _serialize(conn)
    facts = rfm_facts(conn, now, window)
    scores = rules.score_rfm(facts)
    conn.execute(delete(member_rfm))
    if scores:
        conn.execute(insert(member_rfm), [
            {"member_id": s.member_id, "recency": s.recency, "frequency": s.frequency,
             "monetary": s.monetary, "last_at": f.last_at, "entries": f.frequency,
             "points": f.monetary, "computed_at": now}
            for s, f in zip(scores, facts, strict=True)])
    ids = _rfm_segment_ids(conn, now)
    wanted: dict[int, set[int]] = {segment_id: set() for segment_id in ids.values()}
    for score in scores:
        wanted[ids[score.segment]].add(score.member_id)
    _sync(conn, wanted, now)
    return RfmResult(len(scores), {code: len(wanted[ids[code]]) for code in rules.RFM_CODES})


def refresh_rfm(db: Database, now: dt.datetime, window: dt.timedelta = RFM_WINDOW) -> RfmResult:
    """The RFM job: score every member active in the window, store the scores and make each RFM
    segment exactly its members (one transaction)."""
    return db.write(refresh_rfm_in, now, window)


@dataclass(frozen=True)
class Refreshed:
    rules: dict[str, int]
    rfm: RfmResult


def refresh_all(db: Database, now: dt.datetime) -> Refreshed:
    """Rule and RFM segments, each in its own transaction (what `pointsnet segments refresh` and
    the worker's schedule run)."""
    return Refreshed(db.write(refresh_rules, now), refresh_rfm(db, now))
