"""What a member sees in the catalog: rewards on sale now that their tier or segments admit,
optionally of one partner or only what they can buy now (within their spendable points,
not sold out); each with whether it is sold out.
A few reads whatever the catalog's size: the rewards, the member's tier and segments (only
when some reward needs them), the pools' free codes and the member's own counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from network.ledger import balances
from network.programme.rewards import Reward, on_sale
from network.programme.rewards_buy import member_view
from network.programme.rewards_schema import reward_purchases
from network.programme.rewards_store import free_codes, list_rewards

MAX_CATALOG = 1000


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
    found = [r for r in list_rewards(conn, partner_id=partner_id, statuses=("active",),
                                     limit=MAX_CATALOG) if on_sale(r, at)]
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
        sold_out = r.spec.stock == 0 or (r.spec.code_source == "pool" and not pools.get(r.id))
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
