"""The catalog's storage: publishing and changing rewards, the code pool, and the catalog read.

Every write is idempotent by (scope, key) like the ledger's: a retry answers the reward as it is
now and writes nothing; a refused write (RewardRefused, RewardError) writes nothing and is not
remembered. A partner touches only the rewards it honours: another's is REWARD_NOT_FOUND.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from network import idempotency, parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.programme import ladder_store, reward_codes
from network.programme.rewards import (
    Reward,
    RewardError,
    RewardRefused,
    RewardSpec,
    Visibility,
    check_image,
    check_move,
    merged,
    validate,
)
from network.programme.rewards_schema import reward_codes as codes_table
from network.programme.rewards_schema import reward_purchases, rewards
from network.programme.segments_store import codes as segment_codes
from network.programme.validation import Problem


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    return as_utc(at) if at is not None else None


# Every column but the picture's bytes, which only the picture's own route reads.
_COLUMNS = [c for c in rewards.c if c.name != "image_data"]


def _reward(row: Any) -> Reward:
    spec = RewardSpec(
        kind=row.kind, name_en=row.name_en, name_fa=row.name_fa, price_points=row.price_points,
        description_en=row.description_en, description_fa=row.description_fa,
        image_url=row.image_url, has_image=row.image_type is not None, stock=row.stock,
        valid_from=_utc(row.valid_from),
        valid_until=_utc(row.valid_until), coupon_days=row.coupon_days,
        per_member_limit=row.per_member_limit, visibility=Visibility.of(row.visibility),
        code_source=row.code_source, refund_on_expiry=bool(row.refund_on_expiry),
        charity_id=row.charity_id, value_minor=row.value_minor, currency=row.currency)
    return Reward(id=row.id, partner_id=row.partner_id, status=row.status,
                  sold=row._mapping.get("sold"),
                  spec=spec, created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at))


def _columns(spec: RewardSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind, "name_en": spec.name_en.strip(), "name_fa": spec.name_fa.strip(),
        "description_en": spec.description_en, "description_fa": spec.description_fa,
        "image_url": spec.image_url, "price_points": spec.price_points, "stock": spec.stock,
        "valid_from": spec.valid_from, "valid_until": spec.valid_until,
        "coupon_days": spec.coupon_days, "per_member_limit": spec.per_member_limit,
        "visibility": spec.visibility.as_json(), "code_source": spec.code_source,
        "refund_on_expiry": spec.refund_on_expiry, "charity_id": spec.charity_id,
        "value_minor": spec.value_minor, "currency": spec.currency,
    }


# ---- reads ------------------------------------------------------------------------------------

# How many were sold (refunded ones too): counted, not kept on the reward's row, so that buying
# an unlimited reward writes nothing every buyer would queue on.
_SOLD = (select(func.count()).where(reward_purchases.c.reward_id == rewards.c.id)
         .scalar_subquery().label("sold"))


def get(conn: Connection, reward_id: int, *, sold: bool = False) -> Reward | None:
    """The reward; with `sold`, how many were sold too (one more index count)."""
    query = select(*_COLUMNS, _SOLD) if sold else select(*_COLUMNS)
    row = conn.execute(query.where(rewards.c.id == reward_id)).first()
    return _reward(row) if row else None


def owned(conn: Connection, partner_id: int | None, reward_id: int) -> Reward:
    """The reward, if `partner_id` honours it (None: staff, any reward)."""
    found = get(conn, reward_id, sold=True)
    if found is None or (partner_id is not None and found.partner_id != partner_id):
        raise RewardError("REWARD_NOT_FOUND", "no reward with this id", "rewardId")
    return found


def list_rewards(conn: Connection, *, partner_id: int | None = None, statuses: Sequence[str] = (),
                 after_id: int = 0, limit: int = 100, sold: bool = False) -> list[Reward]:
    query = (select(*_COLUMNS, _SOLD) if sold else select(*_COLUMNS)).where(
        rewards.c.id > after_id).order_by(rewards.c.id).limit(limit)
    if partner_id is not None:
        query = query.where(rewards.c.partner_id == partner_id)
    if statuses:
        query = query.where(rewards.c.status.in_(list(statuses)))
    return [_reward(row) for row in conn.execute(query)]


def list_rewards_by_id(conn: Connection, ids: Sequence[int]) -> list[Reward]:
    return [_reward(row) for row in conn.execute(select(*_COLUMNS).where(rewards.c.id.in_(
        list(ids))))]


def image(conn: Connection, reward_id: int) -> tuple[str, bytes] | None:
    """An uploaded picture's media type and bytes."""
    row = conn.execute(select(rewards.c.image_type, rewards.c.image_data)
                       .where(rewards.c.id == reward_id)).first()
    return (row.image_type, bytes(row.image_data)) if row and row.image_type else None


def _image_columns(picture: bytes | None) -> dict[str, Any]:
    """The columns an uploaded picture sets (none when no picture was sent)."""
    if picture is None:
        return {}
    media, problems = check_image(picture)
    if problems:
        raise RewardRefused(problems)
    return {"image_type": media, "image_data": picture}


def free_codes(conn: Connection, reward_ids: Sequence[int]) -> dict[int, int]:
    """Pool codes not given yet, per reward (one grouped read)."""
    if not reward_ids:
        return {}
    rows = conn.execute(
        select(codes_table.c.reward_id, func.count())
        .where(codes_table.c.reward_id.in_(list(reward_ids)), codes_table.c.purchase_id.is_(None))
        .group_by(codes_table.c.reward_id))
    return {reward_id: int(n) for reward_id, n in rows}


@dataclass(frozen=True)
class Sales:
    """How a reward did: purchases (count and points) by what became of them. `sold` counts
    every purchase, the others are the part of those used, expired or refunded by now (the
    rest are still issued)."""

    sold: int = 0
    sold_points: int = 0
    used: int = 0
    used_points: int = 0
    expired: int = 0
    expired_points: int = 0
    refunded: int = 0
    refunded_points: int = 0


def sales(conn: Connection, partner_id: int, *, bought_from: dt.datetime | None = None,
          bought_before: dt.datetime | None = None) -> dict[int, Sales]:
    """Per reward the partner honours, the purchases bought in [bought_from, bought_before)
    (all time without bounds) by their status now: one grouped read."""
    p = reward_purchases.c
    query = (select(p.reward_id, p.status, func.count().label("n"),
                    func.sum(p.points).label("points"))
             .where(p.partner_id == partner_id).group_by(p.reward_id, p.status))
    if bought_from is not None:
        query = query.where(p.bought_at >= bought_from)
    if bought_before is not None:
        query = query.where(p.bought_at < bought_before)
    totals: dict[int, dict[str, int]] = {}
    for row in conn.execute(query):
        acc = totals.setdefault(row.reward_id, {})
        n, points = int(row.n), int(row.points or 0)
        acc["sold"] = acc.get("sold", 0) + n
        acc["sold_points"] = acc.get("sold_points", 0) + points
        if row.status in ("used", "expired", "refunded"):
            acc[row.status], acc[f"{row.status}_points"] = n, points
    return {reward_id: Sales(**acc) for reward_id, acc in totals.items()}


def bought_count(conn: Connection, member_id: int, reward_id: int) -> int:
    """Purchases counted against the member's limit: all but refunded ones."""
    return int(conn.execute(
        select(func.count()).select_from(reward_purchases)
        .where(reward_purchases.c.member_id == member_id,
               reward_purchases.c.reward_id == reward_id,
               reward_purchases.c.status != "refunded")).scalar_one())


# ---- writes -----------------------------------------------------------------------------------

def _check(conn: Connection, spec: RewardSpec, picture: bytes | None = None) -> None:
    charity_known = spec.charity_id is None or parties.kind_of(conn, spec.charity_id) == "charity"
    problems = validate(spec, tiers=[t.code for t in ladder_store.ladder(conn)],
                        segments=segment_codes(conn), charity_known=charity_known)
    if picture is not None:
        problems += check_image(picture)[1]
    if problems:
        raise RewardRefused(problems)


def _digest(picture: bytes | None) -> str | None:
    """A picture in a request's idempotency hash: its digest, not its bytes."""
    return hashlib.sha256(picture).hexdigest() if picture is not None else None


def _idempotent(db: Database, *, scope: str, key: str, operation: str,
                params: Mapping[str, Any], work: Callable[[Connection, dt.datetime], int],
                now: dt.datetime | None,
                then: Callable[[Connection, Reward], None] | None = None) -> Reward:
    """`work` (answering the reward's id) once per (scope, key); a retry answers the reward as
    it is now. `then` runs after `work` in its transaction (not on a retry): an audit entry."""
    idempotency.validate_key(key)
    digest = idempotency.request_hash(operation, params)

    def write(conn: Connection) -> Reward:
        replay = idempotency.claim(conn, scope, key, digest)
        if replay is None:
            at = as_utc(now) if now is not None else utcnow()
            reward_id = work(conn, at)
            idempotency.remember(conn, scope, key, digest, {"reward_id": reward_id}, at)
        else:
            reward_id = replay["reward_id"]
        found = get(conn, reward_id, sold=True)
        assert found is not None
        if replay is None and then is not None:
            then(conn, found)
        return found

    return db.write(write)


def _later(current: Reward, at: dt.datetime) -> dt.datetime:
    """Every change moves `updated_at` forward, even at the same clock reading: the catalog's
    cache (rewards_catalog.py) knows a reward changed by it."""
    return max(at, current.updated_at + dt.timedelta(microseconds=1))


def create(db: Database, *, partner_id: int, spec: RewardSpec, scope: str,
           idempotency_key: str, now: dt.datetime | None = None,
           picture: bytes | None = None,
           then: Callable[[Connection, Reward], None] | None = None) -> Reward:
    """Publish a reward the partner honours, as a draft (setRewardStatus activates it);
    `picture`: an uploaded PNG, JPEG or WebP of at most 64 KiB. `then`: see `_idempotent`."""
    def work(conn: Connection, at: dt.datetime) -> int:
        parties.require(conn, partner_id, "partner", field="partner")
        _check(conn, spec, picture)
        return int(conn.execute(insert(rewards).values(
            partner_id=partner_id, status="draft", created_at=at, updated_at=at,
            **_columns(spec), **_image_columns(picture)).returning(rewards.c.id)).scalar_one())

    return _idempotent(db, scope=scope, key=idempotency_key, operation="createReward",
                       params={"partner": partner_id, **_params(spec), "picture": _digest(picture)},
                       work=work, now=now, then=then)


def update_reward(db: Database, *, partner_id: int | None, reward_id: int,
                  changes: Mapping[str, Any], scope: str, idempotency_key: str,
                  now: dt.datetime | None = None, picture: bytes | None = None,
                  then: Callable[[Connection, Reward], None] | None = None) -> Reward:
    """Change the fields named in `changes` (snake_case spec fields). The kind never changes,
    nor the code source once the reward has codes or sales. `then`: see `_idempotent`."""
    def work(conn: Connection, at: dt.datetime) -> int:
        current = owned(conn, partner_id, reward_id)
        spec = merged(current.spec, {k: v for k, v in changes.items() if k != "kind"})
        if spec.code_source != current.spec.code_source and (
                current.sold or free_codes(conn, [reward_id])):
            raise RewardError("CODE_SOURCE_FIXED", "codeSource cannot change once the reward "
                                                   "has codes or sales", "codeSource")
        _check(conn, spec, picture)
        cleared = {"image_type": None, "image_data": None} if changes.get("has_image") is \
            False else {}
        conn.execute(update(rewards).where(rewards.c.id == reward_id)
                     .values(updated_at=_later(current, at), **_columns(spec), **cleared,
                             **_image_columns(picture)))
        return reward_id

    return _idempotent(db, scope=scope, key=idempotency_key, operation="updateReward",
                       params={"reward": reward_id, **{k: str(v) for k, v in changes.items()},
                               "picture": _digest(picture)},
                       work=work, now=now, then=then)


def set_status(db: Database, *, partner_id: int | None, reward_id: int, status: str,
               scope: str, idempotency_key: str, now: dt.datetime | None = None,
               then: Callable[[Connection, Reward], None] | None = None) -> Reward:
    def work(conn: Connection, at: dt.datetime) -> int:
        current = owned(conn, partner_id, reward_id)
        check_move(current.status, status)
        conn.execute(update(rewards).where(rewards.c.id == reward_id)
                     .values(status=status, updated_at=_later(current, at)))
        return reward_id

    return _idempotent(db, scope=scope, key=idempotency_key, operation="setRewardStatus",
                       params={"reward": reward_id, "status": status}, work=work, now=now,
                       then=then)


def upload_codes(db: Database, *, partner_id: int | None, reward_id: int, csv_text: str,
                 scope: str, idempotency_key: str, now: dt.datetime | None = None,
                 then: Callable[[Connection, Reward, int], None] | None = None
                 ) -> tuple[Reward, int]:
    """Add a CSV's codes to a pool reward's pool: all of them, or (any line bad) none, with
    every bad line named. Answers the reward and how many codes were added; `then(conn,
    reward, added)` runs in the upload's transaction (not on a retry): an audit entry."""
    added: list[int] = []

    def work(conn: Connection, at: dt.datetime) -> int:
        current = owned(conn, partner_id, reward_id)
        if current.spec.code_source != "pool":
            raise RewardError("CODE_SOURCE_NOT_POOL",
                              "this reward's codes are made by the hub; only a pool reward "
                              "takes uploads", "rewardId")
        found, problems = reward_codes.parse_csv(csv_text)
        if len(found) > reward_codes.MAX_CODES_PER_UPLOAD:
            raise RewardRefused([Problem("csv", "TOO_MANY_CODES",
                                         f"at most {reward_codes.MAX_CODES_PER_UPLOAD:,} codes "
                                         "an upload")])
        if not found and not problems:
            raise RewardRefused([Problem("csv", "CODES_EMPTY", "the file has no codes")])
        taken = set(conn.execute(
            select(codes_table.c.code).where(codes_table.c.partner_id == current.partner_id,
                                             codes_table.c.code.in_([c for _, c in found])))
            .scalars()) if found else set()
        problems += [reward_codes.LineProblem(line, "CODE_EXISTS",
                                              f"line {line}: {code} is already one of your codes")
                     for line, code in found if code in taken]
        if problems:
            raise RewardRefused([Problem(f"csv.line{p.line}", p.code, p.message)
                                 for p in sorted(problems, key=lambda p: p.line)])
        conn.execute(insert(codes_table), [
            {"reward_id": reward_id, "partner_id": current.partner_id, "code": code,
             "purchase_id": None, "added_at": at} for _, code in found])
        added.append(len(found))
        return reward_id

    reward = _idempotent(db, scope=scope, key=idempotency_key, operation="uploadRewardCodes",
                         params={"reward": reward_id, "csv": csv_text}, work=work, now=now,
                         then=(lambda conn, found: then(conn, found, added[0]))
                         if then is not None else None)
    return reward, (added[0] if added else 0)


def _params(spec: RewardSpec) -> dict[str, Any]:
    return {name: (value.as_json() if isinstance(value, Visibility) else value)
            for name, value in ((n, getattr(spec, n)) for n in spec.__slots__)}
