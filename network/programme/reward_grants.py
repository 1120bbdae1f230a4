"""A campaign that issues a catalog reward (campaigns.IssueReward): money through the paths
that exist, no settlement path of its own.

The campaign's funders issue the reward's price P as the campaign's part of the earn (lots
issued by each funder, provenance = the campaign, booked by `credit.book_credit` like any fixed
points); then, in the same transaction, `grant` spends exactly THOSE new points on the reward
(`lots.take` with explicit takes of the earn's own lots, never the member's older ones) with
sink = the honouring partner, and gives the member the reward as a purchase would (a code from
the pool or the hub, the purchase row, the member's message, the partner's webhook, one off the
stock). Settlement then bills each funder for its issuance and pays the honouring partner for
the consumption, exactly as for a reward a member bought.

Whether the reward can be given is decided before anything is booked (`offers`, read under the
member's lock when the earn is booked): not visible to the member, not on sale, the member's
limit reached, sold out or out of pool codes, the member blocked (their points cannot be
spent, so neither can the campaign's): the campaign is skipped with that reason
(rules.ItemSkip) and the rest of the earn books. A stock or a pool code another earn took
between that read and the grant rolls the transaction back and runs it again with the reward
rows locked first (RetryableConflict, the budgets' way), so the retry sees it gone and skips.

The reward's entry (kind `reward`, or `donate` for a charity pledge) says where it came from:
reference `campaign:<id>`, details {"earnEntryId", "campaignId"}; `granted_by` finds them for
an earn. Reversing the earn refunds each coupon it issued that is still unused (`refund_unused`:
its points go back into the funder's lot of the earn, which the reversal then claws back); a
used or expired one stays the member's, and the reversal claws its points back from the
member's other points (or as debt), as for any earned points already spent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from network import member_blocks
from network.db.engine import RetryableConflict
from network.db.schema import journal_entries
from network.ledger import balances, lots
from network.ledger.accounts import AccountKind
from network.ledger.rules import CreditPart, Take
from network.ledger.spending import debit_taken
from network.programme import awards, earn, lottery_store, rewards_buy, store
from network.programme.campaigns import Campaign, IssueReward, LotteryEntries
from network.programme.rewards import Reward, RewardError, check_buyable, coupon_expiry
from network.programme.rewards_schema import reward_codes as codes_table
from network.programme.rewards_schema import reward_purchases
from network.programme.rewards_schema import rewards as rewards_table
from network.programme.rewards_store import bought_count, free_codes, get
from network.programme.rules import CatalogItem, ItemOffer, ItemSkip

# check_buyable's refusals as the campaign's skip reasons.
_SKIPS: dict[str, ItemSkip] = {"REWARD_NOT_FOUND": "REWARD_NOT_VISIBLE",
                                 "REWARD_NOT_AVAILABLE": "REWARD_NOT_ON_SALE",
                                 "MEMBER_LIMIT_REACHED": "REWARD_LIMIT"}


def install() -> None:
    """Register this module with the earn and the earn's reversal (see earn.CatalogDesk): the
    partners' earning does, when it is imported."""
    earn.use_catalog_desk(Desk())
    awards.use_before_reversal(refund_unused)


def reward_ids(campaigns: Iterable[Campaign]) -> list[int]:
    """The rewards these campaigns issue, ascending (the order their rows are locked in)."""
    return sorted({c.effect.reward_id for c in campaigns if isinstance(c.effect, IssueReward)})


def offers(conn: Connection, member_id: int, campaigns: Iterable[Campaign], at: dt.datetime, *,
           lock: bool = False) -> dict[CatalogItem, ItemOffer]:
    """Each catalog item these campaigns give (a reward, a draw's entries), with why this
    member cannot have it now (None: they can). Reads nothing when none gives one. With
    `lock`, the rewards' rows are locked (ascending id) until the booking commits: the retry
    after a lost race. (A draw needs no lock: an entry takes the draw's own, book_entry.)"""
    campaigns = list(campaigns)
    found: dict[CatalogItem, ItemOffer] = {}
    ids = reward_ids(campaigns)
    if ids and lock:
        conn.execute(select(rewards_table.c.id).where(rewards_table.c.id.in_(ids))
                     .order_by(rewards_table.c.id).with_for_update())
    for reward_id in ids:
        reward = get(conn, reward_id)
        if reward is not None:
            found[IssueReward(reward_id)] = ItemOffer(
                reward.spec.price_points, _refusal(conn, reward, member_id, at))
    for item in {c.effect for c in campaigns if isinstance(c.effect, LotteryEntries)}:
        assert isinstance(item, LotteryEntries)
        found[item] = ItemOffer(0, _draw_refusal(conn, item, member_id, at))
    return found


def _draw_refusal(conn: Connection, item: LotteryEntries, member_id: int,
                  at: dt.datetime) -> ItemSkip | None:
    try:
        draw = lottery_store.get(conn, item.draw_code)
    except lottery_store.LotteryError:
        return "DRAW_CLOSED"
    if not draw.accepts_entries(at):
        return "DRAW_CLOSED"
    held = len(lottery_store.entries_of(conn, member_id, draw.id))
    return "DRAW_LIMIT" if held + item.count > draw.max_entries_per_member else None


def _refusal(conn: Connection, reward: Reward, member_id: int,
             at: dt.datetime) -> ItemSkip | None:
    if member_blocks.is_blocked(conn, member_id):  # their points cannot be spent, even so
        return "MEMBER_BLOCKED"
    vis = reward.spec.visibility
    tier, segments = (rewards_buy.member_view(conn, member_id, at) if vis.tiers or vis.segments
                      else (None, frozenset()))
    before = (bought_count(conn, member_id, reward.id)
              if reward.spec.per_member_limit is not None else 0)
    try:
        check_buyable(reward, at, tier=tier, segments=segments, bought_before=before)
    except RewardError as refused:
        return _SKIPS.get(refused.code, "REWARD_NOT_ON_SALE")
    if reward.spec.stock is not None and reward.spec.stock <= 0:
        return "REWARD_OUT_OF_STOCK"
    if reward.spec.code_source == "pool" and not free_codes(conn, [reward.id]):
        return "REWARD_OUT_OF_STOCK"
    return None


def grant(conn: Connection, *, entry_id: int, member_id: int, parts: Iterable[CreditPart],
          campaigns: Mapping[int, Campaign], at: dt.datetime) -> balances.BalanceRow | None:
    """Give the member the reward of each IssueReward campaign among the earn's `parts`, paid
    with the points those parts just issued (see the module docstring); the member's balance
    row after the last one, None when no part is a reward's."""
    by_campaign: dict[int, list[CreditPart]] = {}
    for part in parts:
        campaign = campaigns.get(part.campaign_id) if part.campaign_id is not None else None
        if campaign is not None and isinstance(campaign.effect, IssueReward) and part.points:
            by_campaign.setdefault(campaign.id, []).append(part)
    if not by_campaign:
        return None
    own = {lot.issuer_party_id: lot for lot in lots.of_entry(conn, entry_id)}
    row = None
    for campaign_id, funded in sorted(by_campaign.items()):
        effect = campaigns[campaign_id].effect
        assert isinstance(effect, IssueReward)
        reward = get(conn, effect.reward_id)
        if reward is None:  # deleted under a booking that saw it: run again, it skips
            raise RetryableConflict(f"reward {effect.reward_id} is gone")
        takes = [Take(own[part.issuer_id], part.points) for part in funded]
        lots.take(conn, takes, member_id=member_id)
        for take in takes:  # the next campaign of the same funder sees what is left
            take.lot.remaining -= take.points
        row = _give(conn, reward, member_id, takes, at,
                    origin={"earnEntryId": entry_id, "campaignId": campaign_id})
    return row


def _give(conn: Connection, reward: Reward, member_id: int, takes: list[Take],
          at: dt.datetime, origin: dict[str, int]) -> balances.BalanceRow:
    """The purchase's writes (rewards_buy's pieces) for points already taken."""
    pledge = reward.spec.kind == "charity_pledge"
    receipt = debit_taken(
        conn, at, member_id=member_id, takes=takes,
        sink_id=reward.spec.charity_id if pledge and reward.spec.charity_id else reward.partner_id,
        entry_kind="donate" if pledge else "reward",
        consumption_kind="donation" if pledge else "redemption",
        account=AccountKind.DONATION if pledge else AccountKind.REDEMPTION,
        reference=f"campaign:{origin['campaignId']}", details=dict(origin))
    try:
        code_id, code = rewards_buy._code_for(conn, reward, at)
    except RewardError as exhausted:  # a concurrent earn or buyer took the last pool code
        raise RetryableConflict(str(exhausted)) from exhausted
    expires_at = coupon_expiry(reward, at)
    purchase_id = conn.execute(insert(reward_purchases).values(
        member_id=member_id, reward_id=reward.id, partner_id=reward.partner_id,
        entry_id=receipt.entry_id, points=receipt.points, code_id=code_id, status="issued",
        bought_at=at, expires_at=expires_at).returning(reward_purchases.c.id)).scalar_one()
    if code_id is not None and reward.spec.code_source == "pool":
        conn.execute(update(codes_table).where(codes_table.c.id == code_id)
                     .values(purchase_id=purchase_id))
    given = rewards_buy.Purchase(
        id=purchase_id, reward_id=reward.id, member_id=member_id, partner_id=reward.partner_id,
        points=receipt.points, status="issued", code=code, bought_at=at, expires_at=expires_at,
        used_at=None, entry_id=receipt.entry_id)
    rewards_buy._notify(conn, None, member_id, reward, code, at)  # type: ignore[arg-type]
    rewards_buy._tell_partner(conn, reward.partner_id, "coupon_bought", given, at)
    try:
        rewards_buy._take_stock(conn, reward)
    except RewardError as sold_out:  # sold out since `offers` read it
        raise RetryableConflict(str(sold_out)) from sold_out
    return balances.BalanceRow(member_id, receipt.balance, receipt.held, receipt.debt)


def give_entries(conn: Connection, *, member_id: int, given: Iterable[tuple[Campaign, int]],
                 origin: str, at: dt.datetime) -> None:
    """Book each campaign's free lottery entries through the draw's own entry path, named by
    the campaign and the fact's origin (store.entries_granted_by). A draw that closed, or a
    member limit another entry filled, since `offers` read it runs the earn again
    (RetryableConflict), and the retry skips the campaign."""
    for campaign, count in given:
        effect = campaign.effect
        assert isinstance(effect, LotteryEntries)
        try:
            draw = lottery_store.get(conn, effect.draw_code)
            for _ in range(count):
                lottery_store.book_entry(conn, at, member_id=member_id, draw_id=draw.id,
                                         free_by=store.entries_granted_by(campaign.id, origin))
        except lottery_store.LotteryError as refused:
            raise RetryableConflict(str(refused)) from refused


def granted_by(conn: Connection, earn: Any) -> list[rewards_buy.Purchase]:
    """The rewards the earn `earn` (a journal entry row) issued: among the member's reward and
    donate entries booked with it (the same transaction, so the same instant), those naming it."""
    j = journal_entries.c
    rows = conn.execute(select(j.id, j.details).where(
        j.member_id == earn.member_id, j.kind.in_(("reward", "donate")),
        j.booked_at == earn.booked_at, j.reference.like("campaign:%"))).all()
    found = []
    for row in rows:
        if (row.details or {}).get("earnEntryId") == earn.id:
            purchase = rewards_buy.purchase_by_entry(conn, row.id)
            if purchase is not None:
                found.append(purchase)
    return found


def refund_unused(conn: Connection, at: dt.datetime, earn: Any) -> None:
    """Before an earn is reversed: each coupon it issued that is still unused is refunded (its
    points back into the earn's lots, for the reversal to take; one back on the stock)."""
    for purchase in granted_by(conn, earn):
        reward = get(conn, purchase.reward_id)
        if purchase.status == "issued" and reward and reward.spec.kind != "charity_pledge":
            rewards_buy._close(conn, purchase, at, status="refunded", from_statuses=("issued",))


class Desk:
    """This module as the earn's catalog desk (earn.CatalogDesk)."""

    offers = staticmethod(offers)
    grant = staticmethod(grant)
    give_entries = staticmethod(give_entries)
