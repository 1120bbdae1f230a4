"""What a member sees in the catalog: rewards on sale now that their tier or segments admit,
optionally of one partner or only what they can buy now (within their spendable points,
not sold out); each with whether it is sold out.

One statement whatever the catalog's size (`_NOW`): every active reward's id, stock and
`updated_at`, the member's own purchases of it, whether a pool reward has a free code, and the
member's spendable points; plus the member's tier and segments, only when some reward needs
them. Each statement is a round trip, and on a busy machine a round trip costs more than the
rows it carries: this page once sent six."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, exists, func, select, true

from network.ledger import balances, lots
from network.programme.rewards import Reward, on_sale
from network.programme.rewards_buy import member_view
from network.programme.rewards_schema import reward_codes, reward_purchases, rewards
from network.programme.rewards_store import list_rewards_by_id

MAX_CATALOG = 1000
# Rewards as built from their rows, per process and database, by id with the `updated_at` they
# were built at: building a few hundred rewards costs far more than the page's other reads, and
# a reward changes rarely. Each request still reads every active reward's id, stock and
# `updated_at` (a narrow scan), so a change or a sale shows at once; buying reads the reward and
# takes its stock afresh anyway.
_built: dict[str, dict[int, tuple[dt.datetime, Reward]]] = {}


@dataclass(frozen=True, slots=True)
class Current:
    """An active reward's row as it is now, and this member's part in it."""

    id: int
    stock: int | None
    updated_at: dt.datetime
    bought: int  # by this member, refunded ones aside
    has_code: bool  # a pool reward with a free code (any other: True)


def _now(member_id: int, at: dt.datetime) -> Any:
    c = rewards.c
    p = reward_purchases.c
    bought = (select(func.count()).where(p.member_id == member_id, p.reward_id == c.id,
                                         p.status != "refunded").scalar_subquery())
    free = exists().where(reward_codes.c.reward_id == c.id,
                          reward_codes.c.purchase_id.is_(None))
    return (select(c.id, c.stock, c.updated_at, bought.label("bought"),
                   case((c.code_source == "pool", free), else_=true()).label("has_code"),
                   lots.spendable_points(member_id, at).label("spendable"))
            .where(c.status == "active").order_by(c.id).limit(MAX_CATALOG))


def on_sale_now(conn: Connection, member_id: int, at: dt.datetime
                ) -> tuple[list[Reward], dict[int, Current], int | None]:
    """Every active reward, each one's row as it is now, and the member's spendable points
    (None when no reward is active: the caller asks the balance)."""
    rows = conn.execute(_now(member_id, at)).all()
    current = [Current(row.id, row.stock, row.updated_at, int(row.bought), bool(row.has_code))
               for row in rows]
    spendable = int(rows[0].spendable) if rows else None
    built = _built.setdefault(str(conn.engine.url), {})
    stale = [row.id for row in current
             if row.id not in built or built[row.id][0] != row.updated_at]
    if stale:
        by_id = {row.id: row.updated_at for row in current}
        for reward in list_rewards_by_id(conn, stale):
            built[reward.id] = (by_id[reward.id], reward)
    if len(built) > 2 * MAX_CATALOG:  # retired rewards' entries: start again
        built.clear()
        return on_sale_now(conn, member_id, at)
    return [built[row.id][1] for row in current], {row.id: row for row in current}, spendable


def forget() -> None:
    """Tests reuse databases (and their URLs) with new rewards under old ids."""
    _built.clear()


@dataclass(frozen=True, slots=True)
class Offer:
    reward: Reward
    sold_out: bool
    affordable: bool
    bought: int  # by this member, refunded ones aside
    limit_reached: bool


def offers(conn: Connection, member_id: int, at: dt.datetime, *, partner_id: int | None = None,
           affordable_only: bool = False) -> tuple[list[Offer], int]:
    """The member's catalog (by partner, then price) and their spendable points."""
    everything, current, spendable = on_sale_now(conn, member_id, at)
    if spendable is None:
        spendable = balances.summary(conn, member_id, at).spendable
    found = [r for r in everything
             if on_sale(r, at) and (partner_id is None or r.partner_id == partner_id)]
    if any(r.spec.visibility.tiers or r.spec.visibility.segments for r in found):
        tier, segments = member_view(conn, member_id, at)
        found = [r for r in found if r.spec.visibility.admits(tier, segments)]
    out = []
    for r in found:
        now = current[r.id]
        sold_out = now.stock == 0 or not now.has_code
        can_pay = r.spec.price_points <= spendable
        if affordable_only and (not can_pay or sold_out):  # what they can buy now
            continue
        limit = r.spec.per_member_limit
        out.append(Offer(r, sold_out, can_pay, now.bought,
                         limit is not None and now.bought >= limit))
    out.sort(key=lambda o: (o.reward.partner_id, o.reward.spec.price_points, o.reward.id))
    return out, spendable


def offer(conn: Connection, member_id: int, reward_id: int, at: dt.datetime) -> Offer | None:
    """One reward as the member sees it; None if it is not in their catalog."""
    for o in offers(conn, member_id, at)[0]:
        if o.reward.id == reward_id:
            return o
    return None
