"""What a member sees in the catalog: rewards on sale now that their tier or segments admit,
optionally of one partner or only what they can buy now (within their spendable points,
not sold out); each with whether it is sold out.
A few reads whatever the catalog's size: the rewards, the member's tier and segments (only
when some reward needs them), the pools' free codes and the member's own counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from network.ledger import balances
from network.programme.rewards import Reward, on_sale
from network.programme.rewards_buy import member_view
from network.programme.rewards_schema import reward_purchases, rewards
from network.programme.rewards_store import free_codes, list_rewards_by_id

MAX_CATALOG = 1000
# Rewards as built from their rows, per process and database, by id with the `updated_at` they
# were built at: building a few hundred rewards costs far more than the page's other reads, and
# a reward changes rarely. Each request still reads every active reward's id, stock and
# `updated_at` (a narrow scan), so a change or a sale shows at once; buying reads the reward and
# takes its stock afresh anyway.
_built: dict[str, dict[int, tuple[dt.datetime, Reward]]] = {}


def on_sale_now(conn: Connection) -> tuple[list[Reward], dict[int, int | None]]:
    """Every active reward, and each one's stock as it is now."""
    c = rewards.c
    current = conn.execute(select(c.id, c.stock, c.updated_at).where(c.status == "active")
                           .order_by(c.id).limit(MAX_CATALOG)).all()
    built = _built.setdefault(str(conn.engine.url), {})
    stale = [row.id for row in current
             if row.id not in built or built[row.id][0] != row.updated_at]
    if stale:
        for reward in list_rewards_by_id(conn, stale):
            built[reward.id] = (current_updated(current, reward.id), reward)
    if len(built) > 2 * MAX_CATALOG:  # retired rewards' entries: start again
        built.clear()
        return on_sale_now(conn)
    return [built[row.id][1] for row in current], {row.id: row.stock for row in current}


def current_updated(rows: list[Any], reward_id: int) -> dt.datetime:
    return next(row.updated_at for row in rows if row.id == reward_id)


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
    everything, stock = on_sale_now(conn)
    found = [r for r in everything
             if on_sale(r, at) and (partner_id is None or r.partner_id == partner_id)]
    spendable = balances.summary(conn, member_id, at).spendable
    if any(r.spec.visibility.tiers or r.spec.visibility.segments for r in found):
        tier, segments = member_view(conn, member_id, at)
        found = [r for r in found if r.spec.visibility.admits(tier, segments)]
    pools = free_codes(conn, [r.id for r in found if r.spec.code_source == "pool"])
    mine = dict(conn.execute(
        select(reward_purchases.c.reward_id, func.count())
        .where(reward_purchases.c.member_id == member_id,
               reward_purchases.c.status != "refunded")
        .group_by(reward_purchases.c.reward_id)).all())
    out = []
    for r in found:
        sold_out = stock.get(r.id) == 0 or (r.spec.code_source == "pool" and not pools.get(r.id))
        can_pay = r.spec.price_points <= spendable
        if affordable_only and (not can_pay or sold_out):  # what they can buy now
            continue
        bought = int(mine.get(r.id, 0))
        limit = r.spec.per_member_limit
        out.append(Offer(r, sold_out, can_pay, bought, limit is not None and bought >= limit))
    out.sort(key=lambda o: (o.reward.partner_id, o.reward.spec.price_points, o.reward.id))
    return out, spendable


def offer(conn: Connection, member_id: int, reward_id: int, at: dt.datetime) -> Offer | None:
    """One reward as the member sees it; None if it is not in their catalog."""
    for o in offers(conn, member_id, at)[0]:
        if o.reward.id == reward_id:
            return o
    return None
