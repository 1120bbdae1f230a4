"""The tier ladder in the database: its versions (the newest is in force), saving an edit, and the
ONE way every part of the hub reads the ladder in force: `ladder(conn)` inside a read, or
`for_database(db)` outside one (the earn's settings).

The cache. Every earn with tiers on needs the ladder (its multipliers and window), and must not
pay a round trip for it, so each process keeps the ladder it read and re-reads the newest
version's row (one one-row SELECT by primary key, the same cost as the campaign index's version
token) at most every TTL seconds, the campaign index's VERSION_TTL (network/programme/store.py):
a save in this process drops the cache at once, and one made elsewhere (the CLI, another worker)
is seen within TTL. The row's document is compared rather than its id, so a database emptied
and refilled (tests do this) never passes off another ladder as the cached one; it is parsed
again only when it changed.

A database with no stored version (one made by the test suite's truncation, or before
migration 0026 ran) uses the seed, tiers.DEFINITIONS: the ladder the migration stores.

Saving never rewrites history: stored member tiers stay as they are, and members move to the
new ladder at their next earn (upgrades) or the daily `tiers` job (the rest).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, insert, select

from network import audit
from network.db.engine import Database, cache_key
from network.errors import HubError
from network.programme import ladder as ladder_rules
from network.programme.campaigns_schema import campaigns
from network.programme.checked_cache import CheckedCache
from network.programme.rewards_schema import rewards
from network.programme.segments_schema import segments
from network.programme.tiers import DEFINITIONS, TierDefinition
from network.programme.tiers_schema import tier_ladders
from network.programme.validation import Problem

Ladder = tuple[TierDefinition, ...]
AUDIT_SUBJECT = "tier_ladder"  # the audit log's subject of every ladder edit
T = TypeVar("T")


class TierLadderError(HubError):
    """A ladder edit the programme refuses; `problems` lists every reason, each with its field
    (the first is also the error's own code, field and message)."""

    code = "TIER_LADDER_INVALID"
    codes = ("TIER_LADDER_INVALID", "TIER_LADDER_EMPTY", "TIER_CODE_INVALID", "TIER_CODE_TAKEN",
             "TIER_NAME_MISSING", "TIER_NAME_INVALID", "TIER_METRIC_UNKNOWN",
             "TIER_THRESHOLD_INVALID", "TIER_THRESHOLD_NOT_RISING", "TIER_MULTIPLIER_INVALID",
             "TIER_MULTIPLIER_OUT_OF_RANGE", "TIER_WINDOW_INVALID", "TIER_RETENTION_INVALID",
             "TIER_IN_USE")

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, code=first.code, field=first.field)


@dataclass(frozen=True)
class LadderVersion:
    id: int  # 0: the seed, never stored
    ladder: Ladder
    created_by: str
    created_at: dt.datetime | None


# ---- reading ----------------------------------------------------------------------------------

def _parse(document: str) -> Ladder:
    found, problems = ladder_rules.from_document(json.loads(document))
    if problems:  # only validated documents are stored, so this is a damaged row
        raise ValueError(f"stored tier ladder is invalid: {problems[0].message}")
    return found


def versions(conn: Connection, limit: int = 20) -> list[LadderVersion]:
    """The newest versions first (the first is in force); the seed alone when none is stored."""
    t = tier_ladders.c
    rows = conn.execute(select(tier_ladders).order_by(t.id.desc()).limit(limit)).all()
    if not rows:
        return [LadderVersion(0, DEFINITIONS, "seed", None)]
    return [LadderVersion(int(r.id), _parse(r.document), r.created_by, r.created_at)
            for r in rows]


def newest(conn: Connection) -> Ladder:
    """The ladder in force, read from the database (callers want `ladder`, which caches)."""
    return versions(conn, limit=1)[0].ladder


TTL = 1.0  # seconds a cached ladder is used without a look at the newest row (store.VERSION_TTL)


def _newest_document(conn: Connection) -> str | None:
    return conn.execute(select(tier_ladders.c.document).order_by(tier_ladders.c.id.desc())
                        .limit(1)).scalar()


def _built(document: str | None) -> Ladder:
    return DEFINITIONS if document is None else _parse(document)


_cache: CheckedCache[Ladder] = CheckedCache(lambda: TTL)


def ladder(conn: Connection, at: float | None = None) -> Ladder:
    """The ladder in force, from this process's cache (see the module docstring); `at`: a
    time.monotonic() reading, given by tests."""
    return _cache.get(cache_key(conn.engine), lambda: _newest_document(conn), _built, at)


def for_database(db: Database, at: float | None = None) -> Ladder:
    """`ladder` outside a transaction: no round trip while the cache is fresh."""
    return _cache.get(cache_key(db.engine), lambda: db.read(_newest_document), _built, at)


def forget() -> None:
    """Drop every cached ladder (tests that empty and refill a database under one URL)."""
    _cache.clear()


# ---- what uses tier codes ---------------------------------------------------------------------

def in_use(conn: Connection) -> dict[str, str]:
    """Tier code -> the first thing naming it that a ladder edit must keep: a campaign's tier
    condition (any campaign not ended, since a draft or paused one may be activated), a
    reward's visibility (any not retired) or a segment's rule."""
    users: dict[str, str] = {}
    for code, status, definition in conn.execute(
            select(campaigns.c.code, campaigns.c.status, campaigns.c.definition)
            .where(campaigns.c.status != "ended").order_by(campaigns.c.id)):
        for tier in (json.loads(definition).get("conditions") or {}).get("tiers") or ():
            users.setdefault(tier, f"campaign {code!r} ({status})")
    for reward_id, visibility in conn.execute(
            select(rewards.c.id, rewards.c.visibility)
            .where(rewards.c.status != "retired").order_by(rewards.c.id)):
        for tier in (_json(visibility) or {}).get("tiers") or ():
            users.setdefault(tier, f"reward #{reward_id}'s visibility")
    for code, rule in conn.execute(select(segments.c.code, segments.c.rule)
                                   .order_by(segments.c.id)):
        for condition in (_json(rule) or {}).get("all") or ():
            for tier in condition.get("tier") or () if isinstance(condition, dict) else ():
                users.setdefault(tier, f"segment {code!r}'s rule")
    return users


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# ---- saving -----------------------------------------------------------------------------------

def save(conn: Connection, document: Any, *, actor_kind: audit.ActorKind,
         actor_id: int | str | None, by: str, now: dt.datetime,
         request_id: str | None = None) -> LadderVersion:
    """Put the ladder `document` describes in force as a new version, validated first against
    what uses tier codes, and audited (before and after) in the same transaction;
    TierLadderError with every problem, writing nothing, when refused. `by`: who, as the
    version shows it (a staff account's name, "cli")."""
    found, problems = ladder_rules.from_document(document, in_use=in_use(conn))
    if problems:
        raise TierLadderError(problems)
    before = newest(conn)
    after = ladder_rules.to_document(found)
    new_id = conn.execute(insert(tier_ladders).values(
        document=json.dumps(after, ensure_ascii=False, sort_keys=True), created_by=by[:120],
        created_at=now).returning(tier_ladders.c.id)).scalar_one()
    audit.record(conn, actor_kind=actor_kind, actor_id=actor_id, action="tiers.ladder_set",
                 subject=AUDIT_SUBJECT, before=ladder_rules.to_document(before), after=after,
                 request_id=request_id, at=now)
    _cache.drop(cache_key(conn.engine))
    return LadderVersion(int(new_id), found, by, now)
