"""Lottery draws in the database: open, enter (paid through the ledger, or given free), close
(freeze the entry list), draw (reveal the seed, mark winners, tell them), and what is published.

The rules that make a draw verifiable are in network/programme/lottery.py; this module keeps the
secrets (seed, salt) and the states: open -> closed -> drawn, each step once.

Entering with points is a ledger debit (`spending.book_debit`, entry kind `lottery`, consumption
kind `redemption`, sink = the sponsoring partner), so settlement pays the sponsor for the issuers'
points with no new path. The member's balance row is locked first, so the per-member entry limit
holds under concurrency, for free entries too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from network import idempotency, parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.errors import HubError
from network.ledger import balances
from network.ledger.accounts import AccountKind
from network.ledger.spending import book_debit
from network.notifications import messages
from network.programme import lottery
from network.programme.lottery_schema import lottery_draws, lottery_entries, lottery_prizes

CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_PRIZES = 1000
MAX_ENTRIES_PER_MEMBER = 1000


class LotteryError(HubError):
    code = "LOTTERY_ERROR"
    codes = (
        "DRAW_NOT_FOUND", "DRAW_EXISTS", "INVALID_DRAW", "DRAW_NOT_OPEN", "ENTRY_LIMIT_REACHED",
        "ENTRY_BY_GRANT_ONLY", "DRAW_STILL_OPEN", "DRAW_NOT_CLOSED", "DRAW_ALREADY_DRAWN",
    )

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


@dataclass(frozen=True)
class Prize:
    count: int
    label_en: str
    label_fa: str
    reward_id: int | None = None


@dataclass(frozen=True)
class Draw:
    id: int
    code: str
    name_en: str
    name_fa: str
    status: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    entry_price: int
    max_entries_per_member: int
    sponsor_party_id: int
    commitment: str
    prizes: tuple[Prize, ...]
    seed: bytes | None  # only once drawn: the secret stays in the database until then

    @property
    def prize_count(self) -> int:
        return sum(p.count for p in self.prizes)

    def accepts_entries(self, at: dt.datetime) -> bool:
        return self.status == "open" and self.opens_at <= at < self.closes_at

    def prize_at(self, position: int) -> Prize:
        """The prize a winning position gets: positions run through the prizes in order."""
        for prize in self.prizes:
            if position <= prize.count:
                return prize
            position -= prize.count
        raise ValueError("position beyond the prizes")


@dataclass(frozen=True)
class Entry:
    id: int
    draw_id: int
    entry_hash: str
    source: str
    created_at: dt.datetime
    won_position: int | None


def _draw(conn: Connection, row: Any) -> Draw:
    prizes = conn.execute(select(lottery_prizes).where(lottery_prizes.c.draw_id == row.id)
                          .order_by(lottery_prizes.c.position)).all()
    return Draw(id=row.id, code=row.code, name_en=row.name_en, name_fa=row.name_fa,
                status=row.status, opens_at=as_utc(row.opens_at),
                closes_at=as_utc(row.closes_at), entry_price=row.entry_price,
                max_entries_per_member=row.max_entries_per_member,
                sponsor_party_id=row.sponsor_party_id, commitment=row.commitment,
                prizes=tuple(Prize(p.count, p.label_en, p.label_fa, p.prize_reward_id)
                             for p in prizes),
                seed=bytes(row.seed) if row.status == "drawn" else None)


def get(conn: Connection, code: str) -> Draw:
    row = conn.execute(select(lottery_draws).where(lottery_draws.c.code == code)).first()
    if row is None:
        raise LotteryError("DRAW_NOT_FOUND", f"no lottery draw with code {code!r}", field="code")
    return _draw(conn, row)


def by_id(conn: Connection, draw_id: int) -> Draw | None:
    row = conn.execute(select(lottery_draws).where(lottery_draws.c.id == draw_id)).first()
    return _draw(conn, row) if row is not None else None


def listed(conn: Connection) -> list[Draw]:
    """Every draw, newest window first (a network runs a handful at a time)."""
    rows = conn.execute(select(lottery_draws).order_by(lottery_draws.c.closes_at.desc(),
                                                       lottery_draws.c.id.desc())).all()
    return [_draw(conn, row) for row in rows]


def entries_of(conn: Connection, member_id: int, draw_id: int) -> list[Entry]:
    rows = conn.execute(select(lottery_entries).where(
        lottery_entries.c.member_id == member_id, lottery_entries.c.draw_id == draw_id)
        .order_by(lottery_entries.c.id)).all()
    return [Entry(r.id, r.draw_id, r.entry_hash, r.source, as_utc(r.created_at), r.won_position)
            for r in rows]


def winners_of(conn: Connection, draw_id: int) -> list[str]:
    return list(conn.execute(
        select(lottery_entries.c.entry_hash).where(lottery_entries.c.draw_id == draw_id,
                                                   lottery_entries.c.won_position.is_not(None))
        .order_by(lottery_entries.c.won_position)).scalars())


# --- Opening ----------------------------------------------------------------------------------


def check_definition(code: str, name_en: str, name_fa: str, opens_at: dt.datetime,
                     closes_at: dt.datetime, entry_price: int, max_entries_per_member: int,
                     prizes: Sequence[Prize]) -> None:
    """Every field of a new draw, before anything is written (pure)."""
    def bad(field: str, message: str) -> LotteryError:
        return LotteryError("INVALID_DRAW", message, field=field)

    if not code or len(code) > 64 or not set(code) <= CODE_CHARS:
        raise bad("code", "a draw code is 1-64 of a-z, 0-9, - and _")
    for field, name in (("nameEn", name_en), ("nameFa", name_fa)):
        if not name.strip() or len(name) > 200:
            raise bad(field, "a draw's name is 1-200 characters, in English and in Persian")
    if not as_utc(opens_at) < as_utc(closes_at):
        raise bad("closesAt", "entries close after they open")
    if not 0 <= entry_price <= 1_000_000_000:
        raise bad("entryPrice", "the entry price is 0 (entries given only) to 1,000,000,000 "
                                "points")
    if not 1 <= max_entries_per_member <= MAX_ENTRIES_PER_MEMBER:
        raise bad("maxEntriesPerMember", f"1 to {MAX_ENTRIES_PER_MEMBER} entries per member")
    if not prizes:
        raise bad("prizes", "a draw has at least one prize")
    if sum(p.count for p in prizes) > MAX_PRIZES:
        raise bad("prizes", f"at most {MAX_PRIZES} prizes in one draw")
    for index, prize in enumerate(prizes):
        if prize.count < 1:
            raise bad(f"prizes.{index}.count", "a prize is given at least once")
        if not prize.label_en.strip() or not prize.label_fa.strip() \
                or len(prize.label_en) > 200 or len(prize.label_fa) > 200:
            raise bad(f"prizes.{index}.label", "a prize has a label of 1-200 characters in "
                                               "English and in Persian")


def open_draw(db: Database, *, code: str, name_en: str, name_fa: str, opens_at: dt.datetime,
              closes_at: dt.datetime, entry_price: int, max_entries_per_member: int,
              sponsor_party_id: int, prizes: Sequence[Prize],
              now: dt.datetime | None = None) -> Draw:
    """Create a draw with its secret seed; its commitment is public from now on."""
    check_definition(code, name_en, name_fa, opens_at, closes_at, entry_price,
                     max_entries_per_member, prizes)
    at = as_utc(now) if now is not None else utcnow()

    def transaction(conn: Connection) -> Draw:
        parties.require(conn, sponsor_party_id, "partner", field="sponsor")
        if conn.execute(select(lottery_draws.c.id).where(lottery_draws.c.code == code)).first():
            raise LotteryError("DRAW_EXISTS", f"a draw with code {code!r} exists", field="code")
        seed = secrets.token_bytes(32)
        draw_id = conn.execute(insert(lottery_draws).values(
            code=code, name_en=name_en.strip(), name_fa=name_fa.strip(), status="open",
            opens_at=as_utc(opens_at), closes_at=as_utc(closes_at), entry_price=entry_price,
            max_entries_per_member=max_entries_per_member, sponsor_party_id=sponsor_party_id,
            seed=seed, salt=secrets.token_bytes(32), commitment=lottery.commitment(seed),
            created_at=at,
        ).returning(lottery_draws.c.id)).scalar_one()
        conn.execute(insert(lottery_prizes), [
            {"draw_id": draw_id, "position": i, "count": p.count, "label_en": p.label_en,
             "label_fa": p.label_fa, "prize_reward_id": p.reward_id}
            for i, p in enumerate(prizes, 1)])
        return get(conn, code)

    return db.write(transaction)


# --- Entering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entered:
    entry_id: int
    entry_hash: str
    points: int  # paid; 0 for a free entry
    journal_entry_id: int | None
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "entry_hash": self.entry_hash, "points": self.points,
                "journal_entry_id": self.journal_entry_id, "balance": self.balance}


def enter(db: Database, *, member_id: int, draw_id: int, idempotency_key: str,
          free_by: str | None = None, now: dt.datetime | None = None) -> Entered:
    """One entry for the member: paid with the draw's price, or given (`free_by`: who gave it).

    Idempotent per (member, key) for a member's own entry and per (giver, key) for a given one:
    a retry returns the first entry and writes nothing.
    """
    idempotency.validate_key(idempotency_key)
    scope = f"member:{member_id}" if free_by is None else f"lottery:{free_by}"[:40]
    digest = idempotency.request_hash("lottery_enter", {"draw": draw_id, "member": member_id,
                                                        "free": free_by})

    def transaction(conn: Connection) -> Entered:
        stored = idempotency.claim(conn, scope, idempotency_key, digest)
        if stored is not None:
            return Entered(**stored)
        at = as_utc(now) if now is not None else utcnow()
        entered = book_entry(conn, at, member_id=member_id, draw_id=draw_id, free_by=free_by)
        idempotency.remember(conn, scope, idempotency_key, digest, entered.as_dict(), at)
        return entered

    return db.write(transaction)


def book_entry(conn: Connection, at: dt.datetime, *, member_id: int, draw_id: int,
               free_by: str | None) -> Entered:
    """Book one entry inside the caller's transaction (the seam for whatever else gives entries,
    e.g. a catalog reward or a campaign: `free_by` names it, as `granted_by`)."""
    if conn.dialect.name == "postgresql":
        # A shared lock on the draw: entries do not wait for each other, but `close` (FOR
        # UPDATE) waits for every entry in flight, so none lands after the list is frozen.
        conn.execute(select(lottery_draws.c.id).where(lottery_draws.c.id == draw_id)
                     .with_for_update(read=True))
    draw = by_id(conn, draw_id)
    if draw is None:
        raise LotteryError("DRAW_NOT_FOUND", "no lottery draw with this id", field="drawId")
    if not draw.accepts_entries(at):
        raise LotteryError("DRAW_NOT_OPEN", "this draw is not taking entries now "
                           f"(entries from {draw.opens_at.isoformat()} until "
                           f"{draw.closes_at.isoformat()})", field="drawId")
    if free_by is None and draw.entry_price == 0:
        raise LotteryError("ENTRY_BY_GRANT_ONLY", "entries to this draw are only given, by "
                           "campaigns or the network's staff", field="drawId")
    row = balances.lock(conn, member_id)  # the limit below holds under concurrency
    held = conn.execute(select(func.count()).select_from(lottery_entries).where(
        lottery_entries.c.member_id == member_id,
        lottery_entries.c.draw_id == draw_id)).scalar_one()
    if held >= draw.max_entries_per_member:
        raise LotteryError("ENTRY_LIMIT_REACHED", f"a member may hold "
                           f"{draw.max_entries_per_member} entries in this draw",
                           field="drawId")
    journal_id, points, balance = None, 0, row.balance
    if free_by is None:
        receipt = book_debit(conn, at, member_id=member_id, points=draw.entry_price,
                             sink_id=draw.sponsor_party_id, sink_kinds=("partner",),
                             entry_kind="lottery", consumption_kind="redemption",
                             account=AccountKind.REDEMPTION, reference=f"lottery:{draw.code}",
                             details={"draw": draw.code})
        journal_id, points, balance = receipt.entry_id, draw.entry_price, receipt.balance
    entry_id = conn.execute(insert(lottery_entries).values(
        draw_id=draw_id, member_id=member_id, source="free" if free_by else "points",
        # A unique placeholder until the id is known (the hash is of the id).
        entry_hash=secrets.token_hex(32), journal_entry_id=journal_id, granted_by=free_by,
        created_at=at,
    ).returning(lottery_entries.c.id)).scalar_one()
    salt = conn.execute(select(lottery_draws.c.salt)
                        .where(lottery_draws.c.id == draw_id)).scalar_one()
    entry_hash = lottery.entry_hash(bytes(salt), draw.code, entry_id)
    conn.execute(update(lottery_entries).where(lottery_entries.c.id == entry_id)
                 .values(entry_hash=entry_hash))
    return Entered(entry_id, entry_hash, points, journal_id, balance)


# --- Closing, drawing, publishing ------------------------------------------------------------


def _locked(conn: Connection, code: str) -> Draw:
    query = select(lottery_draws.c.id).where(lottery_draws.c.code == code)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    if conn.execute(query).first() is None:
        raise LotteryError("DRAW_NOT_FOUND", f"no lottery draw with code {code!r}", field="code")
    return get(conn, code)


def published_entries(conn: Connection, draw_id: int) -> list[str]:
    """Every entry hash of a draw, sorted (what entries.txt lists once the draw closes)."""
    return _entry_list(conn, draw_id)


def _entry_list(conn: Connection, draw_id: int) -> list[str]:
    return sorted(conn.execute(select(lottery_entries.c.entry_hash)
                               .where(lottery_entries.c.draw_id == draw_id)).scalars())


def close(db: Database, code: str, *, now: dt.datetime | None = None) -> Draw:
    """Freeze the entry list once the entry window has passed."""
    def transaction(conn: Connection) -> Draw:
        at = as_utc(now) if now is not None else utcnow()
        draw = _locked(conn, code)
        if draw.status != "open":
            return draw  # closing twice is closing once
        if at < draw.closes_at:
            raise LotteryError("DRAW_STILL_OPEN", "entries are open until "
                               f"{draw.closes_at.isoformat()}; close it after that", field="code")
        text = lottery.entries_text(_entry_list(conn, draw.id))
        conn.execute(update(lottery_draws).where(lottery_draws.c.id == draw.id).values(
            status="closed", closed_at=at,
            entries_sha256=hashlib.sha256(text.encode()).hexdigest()))
        return get(conn, code)

    return db.write(transaction)


def _tell_winner(conn: Connection, secret: str, member_id: int, draw: Draw, position: int,
                 entry_hash: str, at: dt.datetime) -> None:
    """The member's lifecycle message (network/notifications/messages.py: their channels,
    preferences and quiet hours decide); the code is the start of the winning entry's public
    hash, which the member finds on their wallet and anyone in the published files."""
    prize = draw.prize_at(position)
    messages.lottery_won(conn, member_id, prize={"en": prize.label_en, "fa": prize.label_fa},
                         draw={"en": draw.name_en, "fa": draw.name_fa}, code=entry_hash[:12],
                         occasion=f"lottery:{draw.id}:{position}", now=at, secret=secret)


def draw_winners(db: Database, code: str, *, secret: str, now: dt.datetime | None = None) -> Draw:
    """Reveal the seed and mark the winners of a closed draw (once); winners are told."""
    def transaction(conn: Connection) -> Draw:
        at = as_utc(now) if now is not None else utcnow()
        draw = _locked(conn, code)
        if draw.status == "drawn":
            return draw
        if draw.status != "closed":
            raise LotteryError("DRAW_NOT_CLOSED", "close the draw (freeze its entries) first",
                               field="code")
        seed = bytes(conn.execute(select(lottery_draws.c.seed)
                                  .where(lottery_draws.c.id == draw.id)).scalar_one())
        frozen = _entry_list(conn, draw.id)
        stored = conn.execute(select(lottery_draws.c.entries_sha256)
                              .where(lottery_draws.c.id == draw.id)).scalar_one()
        if hashlib.sha256(lottery.entries_text(frozen).encode()).hexdigest() != stored:
            # Cannot happen (entries wait for `close`'s lock): never draw from another list
            # than the one frozen and published.
            raise RuntimeError(f"draw {code}: the entries differ from the list frozen at close")
        won = lottery.winners(seed, code, frozen, draw.prize_count)
        for position, entry_hash in enumerate(won, 1):
            member_id = conn.execute(
                update(lottery_entries).where(lottery_entries.c.entry_hash == entry_hash)
                .values(won_position=position).returning(lottery_entries.c.member_id)
            ).scalar_one()
            _tell_winner(conn, secret, member_id, draw, position, entry_hash, at)
        conn.execute(update(lottery_draws).where(lottery_draws.c.id == draw.id)
                     .values(status="drawn", drawn_at=at))
        return get(conn, code)

    return db.write(transaction)


def published(conn: Connection, code: str) -> lottery.Published:
    """What the draw has made public so far: the commitment; the entries once closed; the seed
    and winners once drawn."""
    draw = get(conn, code)
    entries = tuple(_entry_list(conn, draw.id)) if draw.status != "open" else None
    return lottery.Published(code, draw.prize_count, draw.commitment, entries=entries,
                             seed=draw.seed,
                             winners=tuple(winners_of(conn, draw.id)) if draw.seed else None)
