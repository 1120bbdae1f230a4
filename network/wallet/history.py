"""The member's history: newest first, keyset-paged, each entry with its effect on the wallet.

One round trip per page whatever its size -- entries with counterparty, wallet effect and
reversal links -- plus one more only when an entry on it was reversed more than once, and one
(two with the names) only when the programme added points to an earn on it (its `breakdown`:
why, line by line), because the wallet query is the hub's hottest read.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, case, exists, func, select, tuple_
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from network.clock import as_utc
from network.db.clauses import in_codes
from network.db.schema import Timestamp, parties, postings
from network.db.schema import journal_entries as je
from network.gql.pagination import parse_key
from network.programme import explain
from network.programme.campaigns_schema import campaign_awards
from network.wallet.errors import WalletError
from network.wallet.parties_view import PartyName

MAX_PAGE = 100
_CURSOR_PREFIX = "h1"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    kind: str
    points: int  # the headline amount, always positive
    wallet_points: int  # signed change to the spendable/pending wallet
    party: PartyName | None
    reference: str | None
    booked_at: dt.datetime
    reverses_entry_id: int | None
    reversed_by: tuple[int, ...]
    # For an earn the programme added to: the base, then each campaign or tier line with its
    # funder (network/programme/explain.py). Empty otherwise: all points are the partner's.
    breakdown: tuple[explain.Line, ...] = ()

    @property
    def reserved(self) -> int:
        """For a capture: the points its hold had reserved. The hold entry already took them out
        of the wallet, so a capture's own effect is the part given back (`wallet_points`), and
        `points` is the part used; a member needs all three to read the row right."""
        return self.points + self.wallet_points


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: str | None


def encode_cursor(booked_at: dt.datetime, entry_id: int) -> str:
    micros = (as_utc(booked_at) - _EPOCH) // dt.timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}:{micros}:{entry_id}".encode()).decode()


def decode_cursor(cursor: str, field: str = "after") -> tuple[dt.datetime, int]:
    try:
        prefix, micros, entry_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        key = parse_key(entry_id)  # in range for the database, or the caller's mistake
        if prefix != _CURSOR_PREFIX or key is None:
            raise ValueError(prefix)
        at = _EPOCH + dt.timedelta(microseconds=int(micros))
        return at, key
    except (ValueError, OverflowError, UnicodeDecodeError) as exc:
        raise WalletError("INVALID_CURSOR", "This is not a cursor from the history.",
                          field=field) from exc


def check_page_size(first: int | None, default: int = 20) -> int:
    if first is None:
        return default
    if not 1 <= first <= MAX_PAGE:
        raise WalletError("INVALID_PAGE_SIZE", f"first must be between 1 and {MAX_PAGE}.",
                          field="first")
    return first


# Kinds whose whole amount enters or leaves the wallet (see network/ledger): their effect needs
# no postings. A capture returns the uncaptured part of its hold, so it (and any kind added
# later) is read from the entry's member_wallet postings instead.
_CREDITS = ("earn", "bonus", "reverse_redemption", "transfer_in", "void", "hold_expiry")
_DEBITS = ("redeem", "reward", "donate", "expire", "transfer_out", "reverse_earn", "hold",
           "lottery")
# Only these can be reversed, so only they need the reversal lookup.
_REVERSIBLE = ("earn", "bonus", "redeem", "capture")


# Statements are built once with bound parameters: SQLAlchemy then reuses their compiled form
# and cache key instead of rebuilding both on every call (measurable on the wallet's hot path).
_MEMBER = bindparam("member_id", type_=BigInteger)
_FROM_POSTINGS = (
    select(func.coalesce(func.sum(postings.c.points), 0))
    .where(postings.c.entry_id == je.c.id, postings.c.account_kind == "member_wallet",
           postings.c.member_id == _MEMBER)
    .scalar_subquery()
)
_WALLET_POINTS = case((in_codes(je.c.kind, _CREDITS), je.c.points),
                      (in_codes(je.c.kind, _DEBITS), -je.c.points), else_=_FROM_POSTINGS)
# Reversals of an entry: the first one's id and how many there are, probed per row through
# ix_journal_entries_reverses; only an entry reversed more than once needs another query.
_REVERSAL = je.alias("reversal")


def _about_reversals(aggregate: Callable[..., ColumnElement[Any]]) -> ColumnElement[Any]:
    probe = (select(aggregate(_REVERSAL.c.id))
             .where(_REVERSAL.c.reverses_entry_id == je.c.id, _REVERSAL.c.member_id == _MEMBER)
             .scalar_subquery())
    return case((in_codes(je.c.kind, _REVERSIBLE), probe), else_=None)


# Whether the programme added points to an earn or gave a bonus (an index probe, those kinds
# only; network/programme/fact_awards.py books a fact's campaign points as a bonus): the
# breakdown is read in a second query only for pages that have one.
_EXPLAINED = case((in_codes(je.c.kind, ("earn", "bonus")),
                   exists().where(campaign_awards.c.entry_id == je.c.id)), else_=False)

# Entries with their wallet effect, counterparty and reversals, in one round trip.
_ENTRIES = (
    select(je.c.id, je.c.kind, je.c.points, je.c.reference, je.c.booked_at,
           je.c.reverses_entry_id, _WALLET_POINTS.label("wallet_points"),
           _about_reversals(func.min).label("first_reversal_id"),
           _about_reversals(func.count).label("reversals"),
           parties.c.id.label("party_id"), parties.c.kind.label("party_kind"),
           parties.c.code.label("party_code"), parties.c.name.label("party_name"),
           parties.c.name_fa.label("party_name_fa"), _EXPLAINED.label("explained"))
    .select_from(je.outerjoin(parties, parties.c.id == je.c.party_id))
    .where(je.c.member_id == _MEMBER)
)
_FIRST_PAGE = _ENTRIES.order_by(je.c.booked_at.desc(), je.c.id.desc()).limit(
    bindparam("limit", type_=Integer))
_LATER_PAGE = _FIRST_PAGE.where(tuple_(je.c.booked_at, je.c.id) < tuple_(
    bindparam("after_at", type_=Timestamp), bindparam("after_id", type_=BigInteger)))
_ONE = _ENTRIES.where(je.c.id == bindparam("entry_id", type_=BigInteger))
_REVERSALS = (
    select(je.c.id, je.c.reverses_entry_id)
    .where(je.c.reverses_entry_id.in_(bindparam("ids", expanding=True)),
           je.c.member_id == _MEMBER)
    .order_by(je.c.id)
)


def _complete(conn: Connection, member_id: int, rows: Sequence[Row[Any]]) -> list[HistoryEntry]:
    reversals = {r.id: [r.first_reversal_id] for r in rows if r.reversals == 1}
    several = [r.id for r in rows if (r.reversals or 0) > 1]
    if several:
        for rid, original in conn.execute(_REVERSALS, {"ids": several, "member_id": member_id}):
            reversals.setdefault(original, []).append(rid)
    explained = explain.for_entries(conn, {r.id: (r.party_id, r.points) for r in rows
                                           if r.explained})
    return [
        HistoryEntry(
            id=r.id, kind=r.kind, points=r.points, wallet_points=int(r.wallet_points),
            party=(PartyName(r.party_id, r.party_kind, r.party_code, r.party_name,
                             r.party_name_fa) if r.party_id is not None else None),
            reference=r.reference, booked_at=as_utc(r.booked_at),
            reverses_entry_id=r.reverses_entry_id, reversed_by=tuple(reversals.get(r.id, ())),
            breakdown=tuple(explained.get(r.id, ())),
        )
        for r in rows
    ]


def page(conn: Connection, member_id: int, *, first: int = 20,
         after: tuple[dt.datetime, int] | None = None) -> HistoryPage:
    params: dict[str, object] = {"member_id": member_id, "limit": first + 1}
    if after is None:
        rows = conn.execute(_FIRST_PAGE, params).all()
    else:
        rows = conn.execute(_LATER_PAGE, {**params, "after_at": after[0],
                                          "after_id": after[1]}).all()
    entries = _complete(conn, member_id, rows[:first])
    more = len(rows) > first
    cursor = encode_cursor(entries[-1].booked_at, entries[-1].id) if more and entries else None
    return HistoryPage(entries, cursor)


def entry(conn: Connection, member_id: int, entry_id: int) -> HistoryEntry | None:
    """One entry, only if it is the member's own: another member's id looks like no entry."""
    rows = conn.execute(_ONE, {"member_id": member_id, "entry_id": entry_id}).all()
    found = _complete(conn, member_id, rows)
    return found[0] if found else None
