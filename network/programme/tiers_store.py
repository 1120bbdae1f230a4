"""The edge of the tier rules that keeps tiers: the stored tier each member holds, its changes, and
the two ways a tier is recalculated (network/programme/tiers.py has the rules).

- At earn time (`upgrade_at_earn`): the earn's plan step reads each member's held tier and
  window points in the one read it makes anyway (`standings`), and only an earn whose points
  take the member to a higher tier than the one held asks for the upgrade, which runs inside
  that earn's transaction, under the member's balance lock, on the exact figure (the earn's own
  entry included). The common earn, which crosses nothing, writes nothing more. Earns never
  downgrade: a return lowers the window's points, and the held tier stays until the job decides.
- Daily (`recalc_all`, the worker's `tiers` job, `pointsnet tiers recalc`): every member with
  points in the window or a stored tier, in chunks of CHUNK members, each chunk one transaction
  with one grouped read of the points and one of the stored rows. It upgrades what earns did not
  (a member who reached a tier before tiers were stored), rolls each qualifying member's
  retention end forward, and downgrades members whose retention has ended. Run twice on a day,
  the second run changes nothing: every decision depends on the date, not the hour.

Every change writes a `tier_changes` row in the transaction that decided it. From that row the
worker raises the `tier_changed` fact (network/programme/tier_events.py, job `tier-facts`, every
minute: campaigns can give points for it, "100 points when you reach gold") and sends the
member's message (network/notifications/lifecycle.tier_changes, job `tier-messages`), each once
per change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Connection,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from network.clock import as_utc
from network.db.clauses import one_of
from network.db.engine import Database, RetryableConflict
from network.db.schema import journal_entries as je
from network.db.schema import members, wallet_earned_days
from network.ledger import summary
from network.programme import ladder_store, tier_facts, tiers
from network.programme.tiers import HeldTier, TierDecision, TierDefinition, TierFacts
from network.programme.tiers_schema import member_tiers, tier_changes

CHUNK = 1_000


@dataclass(frozen=True)
class TierChange:
    id: int
    member_id: int
    from_tier: str
    to_tier: str
    at: dt.datetime
    reason: str
    earned: int


def held_of(row: object) -> HeldTier:
    """A stored tier from a row with member_tiers' tier, since and qualified_until."""
    return HeldTier(row.tier, as_utc(row.since), row.qualified_until)  # type: ignore[attr-defined]


_HELD = select(member_tiers).where(  # built once: the wallet reads it on every open
    member_tiers.c.member_id == bindparam("member_id", type_=BigInteger))


def held(conn: Connection, member_id: int) -> HeldTier | None:
    """The member's stored tier; None: they hold the first tier."""
    row = conn.execute(_HELD, {"member_id": member_id}).first()
    return held_of(row) if row else None


def held_codes(conn: Connection, member_ids: Iterable[int] | None = None) -> dict[int, str]:
    """member id -> stored tier code, for these members (all when None); members missing from
    the answer hold the first tier."""
    query = select(member_tiers.c.member_id, member_tiers.c.tier)
    if member_ids is not None:
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        query = query.where(one_of(conn, member_tiers.c.member_id, ids))
    return {int(row.member_id): row.tier for row in conn.execute(query)}


def tier_in_force(definitions: Sequence[TierDefinition],
                  standing: tuple[HeldTier | None, int]) -> str | None:
    """The code of the tier in force (tiers.in_force) for a (held tier, window points) pair as
    `standings` answers it; None with tiers off."""
    tier = tiers.in_force(definitions, TierFacts(standing[1]), standing[0])
    return tier.code if tier else None


def standings(conn: Connection, member_ids: Iterable[int], at: dt.datetime,
              window: dt.timedelta) -> dict[int, tuple[HeldTier | None, int]]:
    """member id -> (held tier, points earned in the window before this moment), for each of
    `member_ids`, in ONE round trip: the stored rows and the grouped window sums, unioned. The
    window's points are read as summary.earned_since reads them: whole days from the wallet's
    day sums, and the entries of the window's first day after its start (not every entry of
    the window)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    since = at - window
    edge = summary.since_params(0, since)
    mt, days = member_tiers.c, wallet_earned_days.c
    stored = select(mt.member_id, mt.tier, mt.since, mt.qualified_until,
                    literal(0).label("earned")).where(one_of(conn, mt.member_id, ids))
    whole = select(days.member_id, null(), null(), null(),
                   func.coalesce(func.sum(days.earned), 0)).where(
        one_of(conn, days.member_id, ids), days.day > edge["since_day"]).group_by(days.member_id)
    first = select(je.c.member_id, null(), null(), null(),
                   func.coalesce(func.sum(tier_facts.EARNED), 0)).where(
        one_of(conn, je.c.member_id, ids), je.c.booked_at > since,
        je.c.booked_at < edge["next_day"],
        je.c.kind.in_(tier_facts.EARNED_KINDS)).group_by(je.c.member_id)
    held: dict[int, HeldTier] = {}
    earned = dict.fromkeys(ids, 0)
    for row in conn.execute(union_all(stored, whole, first)):
        member = int(row.member_id)
        if row.tier is not None:
            held[member] = HeldTier(row.tier, as_utc(row.since), row.qualified_until)
        else:
            earned[member] += int(row.earned)
    return {m: (held.get(m), max(0, earned[m])) for m in ids}


def upgrade_due(definitions: Sequence[TierDefinition], current: HeldTier | None,
                earned_after: int) -> bool:
    """Whether an earn that brings the window's points to `earned_after` reaches a tier above
    the held one: a pure test the plan step runs on every earn, so only those earns pay for
    `upgrade_at_earn`."""
    if not definitions:
        return False
    reached = tiers.qualify(definitions, TierFacts(earned_after))
    held_rank = 0 if current is None else tiers.rank(definitions, current.code)
    return reached is not None and tiers.rank(definitions, reached.code) > held_rank


def upgrade_at_earn(conn: Connection, member_id: int, at: dt.datetime, *,
                    definitions: Sequence[TierDefinition], zone: ZoneInfo,
                    partner_id: int | None) -> TierChange | None:
    """Inside an earn's transaction, after its entry: upgrade the member if the window's points
    (this entry included) reach a higher tier than the held one. Never downgrades."""
    current = held(conn, member_id)
    earned = tier_facts.earned_in_window(conn, member_id, at, tiers.window(definitions))
    decision = tiers.next_tier(definitions, TierFacts(earned), current, at.astimezone(zone))
    held_rank = 0 if current is None else tiers.rank(definitions, current.code)
    if not decision.changed or tiers.rank(definitions, decision.tier.code) <= held_rank:
        return None
    return apply(conn, member_id, current, decision, earned=earned, at=at, reason="earn",
                 definitions=definitions, zone=zone, partner_id=partner_id)


def apply(conn: Connection, member_id: int, current: HeldTier | None, decision: TierDecision, *,
          earned: int, at: dt.datetime, reason: str, definitions: Sequence[TierDefinition],
          zone: ZoneInfo, partner_id: int | None = None) -> TierChange | None:
    """Store `decision` for the member who held `current` (as read in this transaction) and, if
    it is a change, its history row and `tier_changed` fact. A concurrent writer that changed
    the row since it was read (an earn's upgrade beside the job) makes this a RetryableConflict:
    the transaction runs again on fresh reads."""
    first = definitions[0].code
    values = {"tier": decision.tier.code, "qualified_until": decision.until, "earned": earned,
              "calculated_at": at}
    if current is None:
        if not decision.changed:
            return None  # the first tier, held by everyone without a row: nothing to store
        try:  # the whole transaction is retried, so no savepoint is needed
            conn.execute(insert(member_tiers).values(member_id=member_id, since=at, **values))
        except IntegrityError as exc:
            raise RetryableConflict(f"member {member_id}'s tier was just stored") from exc
    else:
        if decision.changed:
            values["since"] = at
        mt = member_tiers.c
        done = conn.execute(update(member_tiers).where(
            mt.member_id == member_id, mt.tier == current.code,
            mt.since == current.since).values(**values))
        if done.rowcount != 1:
            raise RetryableConflict(f"member {member_id}'s tier changed meanwhile")
    if not decision.changed:
        return None
    change = TierChange(0, member_id, current.code if current else first, decision.tier.code,
                        at, reason, earned)
    change_id = conn.execute(insert(tier_changes).values(
        member_id=member_id, from_tier=change.from_tier, to_tier=change.to_tier, changed_at=at,
        reason=reason, earned=earned, partner_id=partner_id)
        .returning(tier_changes.c.id)).scalar_one()
    return TierChange(int(change_id), member_id, change.from_tier, change.to_tier, at, reason,
                      earned)


@dataclass
class RecalcRun:
    as_of: dt.datetime
    members: int = 0  # members looked at: points in the window or a stored tier
    upgraded: list[int] = field(default_factory=list)
    downgraded: list[int] = field(default_factory=list)


def recalc_all(db: Database, now: dt.datetime, *, zone: ZoneInfo,
               definitions: Sequence[TierDefinition] | None = None,
               chunk: int = CHUNK) -> RecalcRun:
    """Every member's tier at `now`, set-based in chunks (see the module docstring), on the
    ladder in force unless `definitions` are given."""
    run = RecalcRun(now)
    if definitions is None:
        definitions = ladder_store.for_database(db)
    if not definitions:
        return run
    since = now - tiers.window(definitions)
    ids = db.read(lambda conn: sorted(set(conn.execute(
        select(je.c.member_id).where(je.c.booked_at > since, je.c.member_id.is_not(None),
                                     je.c.kind.in_(tier_facts.EARNED_KINDS)).distinct()
    ).scalars()) | set(conn.execute(select(member_tiers.c.member_id)).scalars())))
    run.members = len(ids)
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        changes = db.write(lambda conn, part=part: _recalc(conn, part, now, zone, definitions))
        for change in changes:
            up = tiers.rank(definitions, change.to_tier) > tiers.rank(definitions, change.from_tier)
            (run.upgraded if up else run.downgraded).append(change.member_id)
    return run


def recalc_member(conn: Connection, member_id: int, now: dt.datetime, *, zone: ZoneInfo,
                  definitions: Sequence[TierDefinition] | None = None) -> TierChange | None:
    if definitions is None:
        definitions = ladder_store.ladder(conn)
    changes = _recalc(conn, [member_id], now, zone, definitions)
    return changes[0] if changes else None


def _recalc(conn: Connection, member_ids: list[int], now: dt.datetime, zone: ZoneInfo,
            definitions: Sequence[TierDefinition]) -> list[TierChange]:
    local = now.astimezone(zone)
    changes = []
    for member_id, (current, earned) in standings(conn, member_ids, now,
                                                  tiers.window(definitions)).items():
        decision = tiers.next_tier(definitions, TierFacts(earned), current, local)
        if (current is not None and not decision.changed
                and decision.until == current.until):
            continue  # nothing to write: same tier, same retention end
        change = apply(conn, member_id, current, decision, earned=earned, at=now,
                       reason="recalc", definitions=definitions, zone=zone)
        if change is not None:
            changes.append(change)
    return changes


def history(conn: Connection, member_id: int) -> list[TierChange]:
    """The member's tier changes, newest first."""
    tc = tier_changes.c
    return [TierChange(int(r.id), int(r.member_id), r.from_tier, r.to_tier, as_utc(r.changed_at),
                       r.reason, int(r.earned))
            for r in conn.execute(select(tier_changes).where(tc.member_id == member_id)
                                  .order_by(tc.changed_at.desc(), tc.id.desc()))]



def held_counts(conn: Connection, definitions: Sequence[TierDefinition] | None = None
                ) -> dict[str, int]:
    """Members per stored tier (as earns and the daily job decided it), in ladder order (the
    ladder in force unless given); a member without a row holds the first tier; one whose stored
    tier the ladder no longer has (an edit removed it) is counted nowhere until recalculated.
    One grouped read and one count."""
    if definitions is None:
        definitions = ladder_store.ladder(conn)
    if not definitions:
        return {}
    stored = dict(conn.execute(select(member_tiers.c.tier, func.count())
                               .group_by(member_tiers.c.tier)).tuples().all())
    everyone = conn.execute(select(func.count()).select_from(members)).scalar_one()
    counts = {d.code: int(stored.pop(d.code, 0)) for d in definitions}
    counts[definitions[0].code] += int(everyone) - sum(counts.values()) - sum(stored.values())
    return counts
