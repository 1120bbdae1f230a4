"""The programme's points against the ledger's entries: one `campaign_awards` row per funded part
an earn booked, negative rows when the earn is reversed, and the budget given back with them.

The ledger books the points (a lot per funder, network/ledger/credit.book_credit); these rows
say which campaign or tier they were for, which is what member limits count, what a reversal
gives back to a budget, and what the member's history explains.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select

from network.db.schema import journal_entries, postings
from network.ledger.rules import CreditPart, split_by
from network.programme import budgets
from network.programme.campaigns_schema import campaign_awards


def record(conn: Connection, entry_id: int, member_id: int, parts: Iterable[CreditPart],
           at: dt.datetime) -> None:
    record_many(conn, [(entry_id, member_id, parts)], at)


def record_many(conn: Connection,
                booked: Iterable[tuple[int, int, Iterable[CreditPart]]], at: dt.datetime) -> None:
    """One row per part with points of each (entry id, member id, parts), in one insert."""
    rows = [{"entry_id": entry_id, "campaign_id": p.campaign_id,
             "tier_code": p.code if p.source == "tier" else None, "member_id": member_id,
             "funder_party_id": p.issuer_id, "points": p.points, "booked_at": at}
            for entry_id, member_id, parts in booked for p in parts if p.points]
    if rows:
        conn.execute(insert(campaign_awards), rows)


class _Key(NamedTuple):
    funder: int
    campaign_id: int | None
    tier_code: str | None


def _left(conn: Connection, original_id: int) -> dict[_Key, int]:
    """Each part of the original earn, less what reversals already took back from it."""
    ca, j = campaign_awards.c, journal_entries.c
    rows = conn.execute(
        select(ca.funder_party_id, ca.campaign_id, ca.tier_code, func.sum(ca.points))
        .select_from(campaign_awards.join(journal_entries, j.id == ca.entry_id))
        .where((j.id == original_id) | (j.reverses_entry_id == original_id))
        .group_by(ca.funder_party_id, ca.campaign_id, ca.tier_code)).all()
    return {_Key(*row[:3]): int(row[3]) for row in rows}


def reverse(conn: Connection, *, original_id: int, entry_id: int, member_id: int,
            shares: Mapping[int, int], at: dt.datetime) -> None:
    """Record the reversal `entry_id` of the earn `original_id` against its parts and give
    the campaigns' budgets back. `shares` is what the reversal takes per issuing party; within a
    party it is shared between that party's base points (if it is the earning partner) and its
    campaign and tier parts, in proportion to what is left of each (`split_by`)."""
    left = _left(conn, original_id)
    if not left:
        return
    issued = _issued_left(conn, original_id, entry_id)
    rows = []
    for party, share in shares.items():
        if not share:
            continue
        parts = sorted((key for key in left if key.funder == party and left[key] > 0),
                       key=lambda k: (k.campaign_id is None, k.campaign_id or 0, k.tier_code))
        if not parts:
            continue
        base = issued.get(party, 0) - sum(left[key] for key in parts)
        taken = split_by(share, [base, *(left[key] for key in parts)])[1:]
        for key, points in zip(parts, taken, strict=True):
            if points:
                rows.append({"entry_id": entry_id, "campaign_id": key.campaign_id,
                             "tier_code": key.tier_code, "member_id": member_id,
                             "funder_party_id": party, "points": -points, "booked_at": at})
                if key.campaign_id is not None:
                    budgets.give_back(conn, key.campaign_id, points,
                                      slot=budgets.slot_of(member_id))
    if rows:
        conn.execute(insert(campaign_awards), rows)


# Run before an earn is reversed, in its transaction (conn, at, the earn's journal row): the
# catalog's reward grants refund the unused coupons the earn's campaigns issued
# (network/programme/reward_grants.py registers itself: it reaches the ledger's reversals,
# which call this module).
BeforeReversal = Callable[[Connection, dt.datetime, Any], None]
_before_reversal: list[BeforeReversal] = []


def use_before_reversal(hook: BeforeReversal) -> None:
    _before_reversal[:] = [hook]


def before_reversal(conn: Connection, at: dt.datetime, earn: Any) -> None:
    for hook in _before_reversal:
        hook(conn, at, earn)


def _issued_left(conn: Connection, original_id: int, excluded: int) -> dict[int, int]:
    """Points per issuing party of the earn still not reversed (from its issuance postings and
    its reversals', the reversal being written now excluded: its parts are what we decide)."""
    p, j = postings.c, journal_entries.c
    rows = conn.execute(
        select(p.party_id, func.sum(p.points))
        .select_from(postings.join(journal_entries, j.id == p.entry_id))
        .where(p.account_kind == "issuance",
               (j.id == original_id) | (j.reverses_entry_id == original_id),
               j.id != excluded)
        .group_by(p.party_id)).all()
    return {party: -int(total) for party, total in rows}
