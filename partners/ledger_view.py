"""A partner's view of the ledger: its own entries and holds, and the points it funded, nothing
else (the partner API's `transactions`, `node(id:)` and payloads read through here).

BONUS transactions are what the partner PAID FOR beyond its own earns: a campaign's or a
fact's points it funds (network/programme/campaigns_schema.campaign_awards, one row per funded
part), booked on an entry that is not one of its own earns: a fact bonus (kind `bonus`, a
review's or a birthday's points), or another partner's earn its campaign added to. Its points
are the partner's funded points on that entry, not the entry's total. (The partner's own
earns already list what it funded in their breakdown.)

BONUS_REVERSAL is a BONUS taken back: the reversal of an earn its points were booked on (a
refund at the other partner takes the campaign's points back with it, `campaign_awards`' negative
rows); its points are the partner's part taken back, and it `reverses` the BONUS (the same
entry id). A reward a campaign issued is listed to its funder as the BONUS of its points, and
to the honouring partner as the REWARD (and a refund of it as REVERSE_REDEMPTION), as for any
reward. Free lottery entries a campaign gives are no ledger entry and not listed: they cost
nobody anything; the draw's sponsor sees them in the published entry list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, literal, not_, null, select, union_all

from network.db.schema import holds, journal_entries
from network.programme.campaigns_schema import campaign_awards

# The entry kinds a partner's own API shows.
PARTNER_KINDS = ("earn", "redeem", "reward", "hold", "capture", "void", "hold_expiry",
                 "reverse_earn", "reverse_redemption")


BONUS = "bonus"  # listed kind for funded points (module docstring), not an entry kind here
BONUS_REVERSAL = "bonus_reversal"  # and for funded points taken back
LISTED_KINDS = (*PARTNER_KINDS, BONUS, BONUS_REVERSAL)

_je = journal_entries.c
_COLUMNS = (_je.id, _je.member_id, _je.reference, _je.booked_at, _je.reverses_entry_id,
            _je.hold_id)


def _own(partner_id: int, kinds: list[str]) -> Any:
    return select(*_COLUMNS, _je.kind, _je.points, _je.details).where(
        _je.party_id == partner_id, _je.kind.in_(kinds))


def _funded(partner_id: int, kind: str) -> Any:
    """The partner's BONUS (funded points booked, on an earn or a fact bonus) or BONUS_REVERSAL
    (funded points taken back, on the reversal of such an earn) transactions."""
    ca = campaign_awards.c
    funded = (select(ca.entry_id, func.sum(ca.points).label("points"))
              .where(ca.funder_party_id == partner_id).group_by(ca.entry_id).subquery())
    booked = kind == BONUS
    return (select(*_COLUMNS, literal(kind).label("kind"),
                   (funded.c.points if booked else -funded.c.points).label("points"),
                   null().label("details"))
            .join_from(journal_entries, funded, funded.c.entry_id == _je.id)
            .where(funded.c.points > 0 if booked else funded.c.points < 0,
                   _je.kind.in_(("earn", "bonus") if booked else ("reverse_earn",)),
                   not_(and_(_je.party_id == partner_id, _je.kind.in_(PARTNER_KINDS)))))


def _listing(partner_id: int, kinds: list[str]) -> Any:
    wanted = kinds or list(LISTED_KINDS)
    own = [k for k in wanted if k not in (BONUS, BONUS_REVERSAL)]
    parts = ([_own(partner_id, own)] if own else []) + [
        _funded(partner_id, k) for k in (BONUS, BONUS_REVERSAL) if k in wanted]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()


def entry(conn: Connection, partner_id: int, entry_id: int) -> Any | None:
    """The partner's own entry with this id, if it is of a kind the partner sees, or its BONUS
    on this entry."""
    listed = _listing(partner_id, [])
    return conn.execute(select(listed).where(listed.c.id == entry_id)).first()


def entries(conn: Connection, partner_id: int, *, limit: int, before_id: int | None,
            kinds: list[str], booked_from: datetime | None, booked_before: datetime | None,
            member_id: int | None) -> list[Any]:
    """Up to `limit` of the partner's entries and BONUS transactions, newest first (a page:
    older than `before_id`)."""
    listed = _listing(partner_id, kinds)
    query = select(listed)
    if before_id is not None:
        query = query.where(listed.c.id < before_id)
    if booked_from is not None:
        query = query.where(listed.c.booked_at >= booked_from)
    if booked_before is not None:
        query = query.where(listed.c.booked_at < booked_before)
    if member_id is not None:
        query = query.where(listed.c.member_id == member_id)
    return list(conn.execute(query.order_by(listed.c.id.desc()).limit(limit)))


def hold(conn: Connection, partner_id: int, hold_id: int, member_id: int | None = None
         ) -> Any | None:
    """The partner's own hold with this id; `member_id`, when the caller knows it (a payload
    right after the ledger answered), routes the read to the member's shard (on Citus)."""
    query = select(holds).where(holds.c.id == hold_id, holds.c.party_id == partner_id)
    if member_id is not None:
        query = query.where(holds.c.member_id == member_id)
    return conn.execute(query).first()
