"""Gifts between members: a member sends points to another by card number or phone.

It is the ledger's transfer (`spending.book_transfer`): each lot taken from the sender becomes a
lot of the receiver with the same issuer, vesting and expiry, so provenance and settlement are
untouched. Around it, the network's rules:

- gifts must be allowed (POINTSNET_MEMBER_TRANSFERS);
- a sender gives at most POINTSNET_GIFT_DAILY_LIMIT points in any 24 hours (a rolling window,
  counted under the sender's balance lock, so two racing gifts cannot both slip under it);
- with POINTSNET_GIFT_CONSENT the gift waits, its points reserved in a hold on the sender, until
  the receiver accepts; declining (or the hold's expiry after 7 days, by the ledger's expiry job)
  gives them back to the sender's very lots;
- a receiver may block a sender (when declining), whose later gifts are refused.

Sending is idempotent per (sender, key); accepting and declining are idempotent by state (doing
either again answers the gift as it is).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from network import idempotency, members, parties
from network.clock import as_utc, utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.schema import holds
from network.db.schema import members as members_table
from network.ledger import balances
from network.ledger.errors import InvalidInput
from network.ledger.holds import (
    DEFAULT_HOLD_TTL,
    allocations,
    book_hold,
    close_allocations,
    release,
)
from network.ledger.spending import book_transfer, take_spendable
from network.notifications import outbox
from network.wallet.errors import WalletError
from network.wallet.gifts_schema import gift_blocks, gifts
from network.web.i18n import persian_digits

WINDOW = dt.timedelta(hours=24)
CONSENT_TTL = DEFAULT_HOLD_TTL


class GiftError(WalletError):
    codes = ("GIFTS_DISABLED", "RECEIVER_REQUIRED", "RECEIVER_NOT_FOUND", "SELF_GIFT",
             "RECEIVER_BLOCKED", "GIFT_LIMIT_EXCEEDED", "GIFT_NOT_FOUND", "GIFT_NOT_PENDING",
             "GIFT_EXPIRED", "INVALID_CARD_NUMBER", "INVALID_PHONE")


@dataclass(frozen=True)
class GiftRules:
    allowed: bool
    daily_limit: int
    consent: bool
    secret: str
    country: str

    @classmethod
    def of(cls, settings: Settings) -> GiftRules:
        return cls(allowed=settings.member_transfers, daily_limit=settings.gift_daily_limit,
                   consent=settings.gift_consent, secret=settings.secret_key,
                   country=settings.default_country)


@dataclass(frozen=True)
class Gift:
    id: int
    sender_member_id: int
    receiver_member_id: int
    points: int
    # sent | pending | accepted | declined | expired (a pending gift whose hold expired)
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime | None  # a pending gift's last moment
    other_card: str = ""  # the card number of the member on the other side, for display

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sender_member_id": self.sender_member_id,
                "receiver_member_id": self.receiver_member_id, "points": self.points,
                "status": self.status, "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat() if self.expires_at else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gift:
        return cls(**{**data, "created_at": dt.datetime.fromisoformat(data["created_at"]),
                      "expires_at": dt.datetime.fromisoformat(data["expires_at"])
                      if data["expires_at"] else None})


def _receiver(conn: Connection, rules: GiftRules, card_number: str | None,
              phone: str | None) -> int:
    given = [v for v in (card_number, phone) if v and v.strip()]
    if len(given) != 1:
        raise GiftError("RECEIVER_REQUIRED", "Give the receiver's card number or phone (one).",
                        field="cardNumber")
    try:
        if card_number and card_number.strip():
            found = members.find(conn, rules.secret, card_number=card_number.strip())
        else:
            found = members.find(conn, rules.secret, phone=(phone or "").strip(),
                                 country=rules.country)
    except InvalidInput as exc:
        code = exc.code if exc.code in GiftError.codes else "RECEIVER_NOT_FOUND"
        raise GiftError(code, exc.message[:1].upper() + exc.message[1:] + ".",
                        field="cardNumber" if card_number else "phone") from exc
    if found is None:
        raise GiftError("RECEIVER_NOT_FOUND", "No member has this card number or phone.",
                        field="cardNumber" if card_number else "phone")
    return found.id


def sent_today(conn: Connection, member_id: int, at: dt.datetime) -> int:
    """Points the member gave (or has waiting) in the 24 hours up to `at`."""
    return int(conn.execute(
        select(func.coalesce(func.sum(gifts.c.points), 0)).where(
            gifts.c.sender_member_id == member_id, gifts.c.created_at > at - WINDOW,
            gifts.c.status.in_(("sent", "pending", "accepted")))).scalar_one())


def send(db: Database, rules: GiftRules, *, sender_id: int, points: int, idempotency_key: str,
         card_number: str | None = None, phone: str | None = None,
         now: dt.datetime | None = None) -> Gift:
    if not rules.allowed:
        raise GiftError("GIFTS_DISABLED", "This network does not allow gifts between members.")
    idempotency.validate_key(idempotency_key)
    scope = f"member:{sender_id}"
    digest = idempotency.request_hash("gift", {"card": card_number, "phone": phone,
                                               "points": points})

    def transaction(conn: Connection) -> Gift:
        stored = idempotency.claim(conn, scope, idempotency_key, digest)
        if stored is not None:
            return Gift.from_dict(stored)
        at = as_utc(now) if now is not None else utcnow()
        receiver_id = _receiver(conn, rules, card_number, phone)
        if receiver_id == sender_id:
            raise GiftError("SELF_GIFT", "You cannot send points to yourself.",
                            field="cardNumber" if card_number else "phone")
        if conn.execute(select(gift_blocks.c.member_id).where(
                gift_blocks.c.member_id == receiver_id,
                gift_blocks.c.blocked_member_id == sender_id)).first():
            raise GiftError("RECEIVER_BLOCKED", "This member does not accept gifts from you.",
                            field="cardNumber" if card_number else "phone")
        balances.lock_many(conn, [sender_id, receiver_id])
        given = sent_today(conn, sender_id, at)
        if given + points > rules.daily_limit:
            raise GiftError("GIFT_LIMIT_EXCEEDED",
                            f"You can give {rules.daily_limit} points in 24 hours and have given "
                            f"{given}; {max(rules.daily_limit - given, 0)} are left.",
                            field="points", params={"left": max(rules.daily_limit - given, 0)})
        hold_id = out_entry_id = None
        expires_at = None
        if rules.consent:
            expires_at = at + CONSENT_TTL
            receipt = book_hold(conn, at, member_id=sender_id,
                                party_id=parties.network_party_id(conn), points=points,
                                until=expires_at, reference="gift")
            hold_id, status = receipt.hold_id, "pending"
        else:
            takes = take_spendable(conn, sender_id, points, at)
            out_entry_id = book_transfer(conn, at, from_member_id=sender_id,
                                         to_member_id=receiver_id, takes=takes,
                                         details={"gift": True}).entry_id
            status = "sent"
        gift_id = conn.execute(insert(gifts).values(
            sender_member_id=sender_id, receiver_member_id=receiver_id, points=points,
            status=status, hold_id=hold_id, out_entry_id=out_entry_id, created_at=at,
        ).returning(gifts.c.id)).scalar_one()
        gift = Gift(gift_id, sender_id, receiver_id, points, status, at, expires_at)
        _tell_receiver(conn, rules.secret, sender_id, receiver_id, gift)
        idempotency.remember(conn, scope, idempotency_key, digest, gift.as_dict(), at)
        return gift

    return db.write(transaction)


def _tell_receiver(conn: Connection, secret: str, sender_id: int, receiver_id: int,
                   gift: Gift) -> None:
    """Queue a note to the receiver (email, else SMS) in their language, in the gift's
    transaction: it goes out only if the gift is booked."""
    receiver = members.get(conn, receiver_id, secret)
    sender = members.get(conn, sender_id, secret)
    if receiver is None or sender is None or not (receiver.email or receiver.phone):
        return
    card = sender.card_number[-4:]
    if receiver.locale == "fa":
        subject = f"{gift.points} امتیاز هدیه از کارت ••••{card}"
        body = ("برای پذیرفتن یا رد کردن آن به بخش «فرستادن امتیاز» کیف پول خود بروید."
                if gift.status == "pending" else "امتیازها اکنون در کیف پول شماست.")
        subject, body = persian_digits(subject), persian_digits(body)
    else:
        subject = f"{gift.points:,} points from card ••••{card}"
        body = ("Accept or decline them under Send points on your wallet."
                if gift.status == "pending" else "The points are in your wallet now.")
    channel, recipient = ("email", receiver.email) if receiver.email else ("sms", receiver.phone)
    outbox.enqueue(conn, channel=channel, recipient=str(recipient),  # type: ignore[arg-type]
                   subject=subject, body=body, now=gift.created_at, member_id=receiver_id)


def _gift_row(conn: Connection, gift_id: int, receiver_id: int) -> Any:
    row = conn.execute(select(gifts).where(gifts.c.id == gift_id,
                                           gifts.c.receiver_member_id == receiver_id)).first()
    if row is None:
        raise GiftError("GIFT_NOT_FOUND", "No gift to you with this id.", field="giftId")
    return row


def _shown(conn: Connection, row: Any, at: dt.datetime) -> Gift:
    status, expires_at = row.status, None
    if row.hold_id is not None:
        hold = conn.execute(select(holds.c.status, holds.c.expires_at)
                            .where(holds.c.id == row.hold_id)).one()
        expires_at = as_utc(hold.expires_at)
        if status == "pending" and (hold.status == "expired" or expires_at <= at):
            status = "expired"
    return Gift(row.id, row.sender_member_id, row.receiver_member_id, row.points, status,
                as_utc(row.created_at), expires_at)


def _decide(db: Database, receiver_id: int, gift_id: int, accept: bool, block: bool,
            now: dt.datetime | None) -> Gift:
    def transaction(conn: Connection) -> Gift:
        at = as_utc(now) if now is not None else utcnow()
        row = _gift_row(conn, gift_id, receiver_id)
        balances.lock_many(conn, [row.sender_member_id, receiver_id])
        row = _gift_row(conn, gift_id, receiver_id)  # as it is under the locks
        if row.status == ("accepted" if accept else "declined"):
            return _shown(conn, row, at)  # answered already: the same answer again
        shown = _shown(conn, row, at)
        if shown.status == "expired":
            raise GiftError("GIFT_EXPIRED", "This gift expired; its points went back to the "
                            "sender.", field="giftId")
        if row.status != "pending":
            raise GiftError("GIFT_NOT_PENDING", f"This gift is already {row.status}.",
                            field="giftId")
        hold = conn.execute(select(holds).where(holds.c.member_id == row.sender_member_id,
                                                holds.c.id == row.hold_id)).one()
        values: dict[str, Any] = {"decided_at": at}
        if accept:
            receipt = book_transfer(conn, at, from_member_id=row.sender_member_id,
                                    to_member_id=receiver_id,
                                    takes=allocations(conn, hold.id, hold.member_id),
                                    from_hold=True,
                                    details={"gift": row.id})
            close_allocations(conn, hold.id, status="captured", captured=hold.points, at=at)
            values |= {"status": "accepted", "out_entry_id": receipt.entry_id}
        else:
            release(conn, hold, at, kind="void", status="voided")
            values |= {"status": "declined"}
            if block and not conn.execute(select(gift_blocks.c.member_id).where(
                    gift_blocks.c.member_id == receiver_id,
                    gift_blocks.c.blocked_member_id == row.sender_member_id)).first():
                conn.execute(insert(gift_blocks).values(
                    member_id=receiver_id, blocked_member_id=row.sender_member_id,
                    created_at=at))
        conn.execute(update(gifts).where(gifts.c.id == row.id).values(**values))
        return _shown(conn, _gift_row(conn, gift_id, receiver_id), at)

    return db.write(transaction)


def accept(db: Database, *, receiver_id: int, gift_id: int,
           now: dt.datetime | None = None) -> Gift:
    return _decide(db, receiver_id, gift_id, True, False, now)


def decline(db: Database, *, receiver_id: int, gift_id: int, block: bool = False,
            now: dt.datetime | None = None) -> Gift:
    return _decide(db, receiver_id, gift_id, False, block, now)


def of_member(conn: Connection, member_id: int, at: dt.datetime, limit: int = 20) -> list[Gift]:
    """The member's recent gifts, sent and received, newest first, with the other's card."""
    rows = conn.execute(select(gifts).where(
        (gifts.c.sender_member_id == member_id) | (gifts.c.receiver_member_id == member_id))
        .order_by(gifts.c.id.desc()).limit(limit)).all()
    others = {r.receiver_member_id if r.sender_member_id == member_id else r.sender_member_id
              for r in rows}
    cards = dict(conn.execute(select(members_table.c.id, members_table.c.card_number)
                              .where(members_table.c.id.in_(others))).all()) if others else {}
    found = []
    for row in rows:
        gift = _shown(conn, row, at)
        other = row.receiver_member_id if row.sender_member_id == member_id \
            else row.sender_member_id
        found.append(Gift(gift.id, gift.sender_member_id, gift.receiver_member_id, gift.points,
                          gift.status, gift.created_at, gift.expires_at, cards.get(other, "")))
    return found
