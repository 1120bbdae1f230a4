"""Members of the network: one member, whichever partner enrolled them, one wallet.

Phone and email are optional, stored encrypted (network/pii.py) and unique across the network,
so a second partner enrolling the same phone finds the existing member instead of a twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from network import cards, idempotency, parties, phones, pii, referrals
from network.clock import as_utc, utcnow
from network.db.engine import Database, RetryableConflict
from network.db.schema import member_balances, members
from network.ledger import observers
from network.ledger.errors import InvalidInput, LedgerError, MemberNotFound
from network.programme import inbox
from network.programme.facts import LifecycleEvent

LOCALES = ("en", "fa")


class MemberExists(LedgerError):
    code = "MEMBER_EXISTS"


class ReferrerNotFound(LedgerError):
    code = "REFERRER_NOT_FOUND"


EARLIEST_BIRTH_DATE = date(1900, 1, 1)


@dataclass(frozen=True)
class Member:
    id: int
    card_number: str
    phone: str | None
    email: str | None
    display_name: str | None
    locale: str
    enrolled_by_party_id: int | None
    created_at: datetime
    referral_code: str = ""
    birth_date: date | None = None
    referred_by: int | None = None  # the member whose referral code they enrolled with


def from_row(row: Any, secret: str) -> Member:
    return Member(
        id=row.id, card_number=row.card_number,
        phone=pii.decrypt(secret, row.phone_cipher) if row.phone_cipher else None,
        email=pii.decrypt(secret, row.email_cipher) if row.email_cipher else None,
        display_name=row.display_name, locale=row.locale,
        enrolled_by_party_id=row.enrolled_by_party_id, created_at=as_utc(row.created_at),
        referral_code=row.referral_code, birth_date=row.birth_date, referred_by=row.referred_by,
    )


def _contact_columns(secret: str, phone: str | None, email: str | None,
                     country: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if phone is not None:
        p = phones.normalize(phone, country)
        values |= {"phone_cipher": pii.encrypt(secret, p),
                   "phone_lookup": pii.lookup_hash(secret, p)}
    if email is not None:
        e = pii.normalize_email(email)
        values |= {"email_cipher": pii.encrypt(secret, e),
                   "email_lookup": pii.lookup_hash(secret, e)}
    return values


def _check_unique(conn: Connection, values: dict[str, Any], except_id: int | None = None) -> None:
    for column, field in (("phone_lookup", "phone"), ("email_lookup", "email")):
        if column in values:
            found = conn.execute(select(members.c.id).where(members.c[column] == values[column])
                                 ).scalar()
            if found is not None and found != except_id:
                raise MemberExists(f"a member with this {field} already exists",
                                   field=field)


def enrol(
    db: Database,
    *,
    secret: str,
    scope: str,
    idempotency_key: str,
    enrolled_by: int | None,
    card_number: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
    locale: str = "en",
    now: datetime | None = None,
    country: str | None = None,
    birth_date: date | None = None,
    referrer_code: str | None = None,
    timezone: str = "UTC",
) -> Member:
    """Create a member and their (empty) wallet; idempotent by (scope, key). A phone without
    a country code is a national number of `country` (the network's POINTSNET_DEFAULT_COUNTRY).

    The member gets a referral code of their own; `referrer_code` names the member who invited
    them (REFERRER_NOT_FOUND when it names nobody). The `enrolled` fact is recorded in the same
    transaction (network/programme/inbox.py), with the points its campaigns give; `timezone` is
    the network's, where they read weekdays, hours and limit periods."""
    if card_number is not None:
        card_number = cards.normalize(card_number)
        if not cards.is_valid(card_number):
            raise InvalidInput("the card number is not 16 digits with a valid check digit",
                               field="cardNumber", code="INVALID_CARD_NUMBER")
    if locale not in LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    if display_name is not None and len(display_name) > 200:
        raise InvalidInput("the name is at most 200 characters", field="displayName")
    contact = _contact_columns(secret, phone, email, country)
    referrer = _referrer_code(referrer_code)
    idempotency.validate_key(idempotency_key)
    request = {"card": card_number, "phone": contact.get("phone_lookup"),
               "email": contact.get("email_lookup"), "name": display_name, "locale": locale,
               "by": enrolled_by}
    # Only when given, so that a retry of an enrolment stored before these existed still matches.
    if birth_date is not None:
        request["birth_date"] = birth_date.isoformat()
    if referrer is not None:
        request["referrer"] = referrer
    digest = idempotency.request_hash("enrol", request)
    # A partner's webhook hears of the enrolment in its transaction (network/ledger/observers.py).
    listeners = observers.listening(scope, "enrol")

    def transaction(conn: Connection) -> int:
        stored = idempotency.claim(conn, scope, idempotency_key, digest)
        if stored is not None:
            return int(stored["member_id"])
        at = now or utcnow()
        check_birth_date(birth_date, at.date())
        if enrolled_by is not None:
            parties.require(conn, enrolled_by, "partner", field="enrolledBy")
        referred_by = None
        if referrer is not None:
            referred_by = conn.execute(select(members.c.id).where(
                members.c.referral_code == referrer)).scalar()
            if referred_by is None:
                raise ReferrerNotFound("no member has this referral code", field="referrerCode")
        _check_unique(conn, contact)
        number = card_number or cards.generate()
        if conn.execute(select(members.c.id).where(members.c.card_number == number)).first():
            raise MemberExists("a member with this card number already exists",
                               field="cardNumber")
        try:
            member_id = conn.execute(insert(members).values(
                card_number=number, display_name=display_name, locale=locale,
                enrolled_by_party_id=enrolled_by, created_at=at, birth_date=birth_date,
                referral_code=referrals.generate(), referred_by=referred_by, **contact,
            ).returning(members.c.id)).scalar_one()
        except IntegrityError as exc:
            # PostgreSQL: a twin with this phone, email or card committed after our checks above
            # (two partners enrolling one person at the same instant). Run again: the checks
            # then see it and answer MEMBER_EXISTS instead of an internal error.
            if getattr(exc.orig, "sqlstate", None) == "23505":
                raise RetryableConflict("a member with these details was just enrolled") from exc
            raise
        conn.execute(insert(member_balances).values(member_id=member_id, balance=0, held=0,
                                                    debt=0, updated_at=at))
        inbox.record(conn, LifecycleEvent(
            kind="enrolled", member_id=member_id, at=at, partner_id=enrolled_by,
            attributes={"referred": referred_by is not None}), now=at, timezone=timezone)
        idempotency.remember(conn, scope, idempotency_key, digest, {"member_id": member_id}, at)
        if listeners:
            observers.tell(conn, listeners, lambda: [observers.Booking(
                scope=scope, operation="enrol", answer={"member_id": member_id},
                reference=None, at=at)])
        return member_id

    member_id = db.write(transaction)
    found = db.read(get, member_id, secret)
    assert found is not None
    return found


def _referrer_code(code: str | None) -> str | None:
    if code is None:
        return None
    normal = referrals.normalize(code)
    if normal is None:
        raise ReferrerNotFound(f"a referral code is {referrals.LENGTH} letters and digits; no "
                               "member has this one", field="referrerCode")
    return normal


def check_birth_date(birth_date: date | None, today: date, field: str = "birthDate") -> None:
    """A birth date is a real day between 1900 and today."""
    if birth_date is not None and not EARLIEST_BIRTH_DATE <= birth_date <= today:
        raise InvalidInput(f"the birth date must be between {EARLIEST_BIRTH_DATE.isoformat()} "
                           "and today", field=field)


# Built once with a bound parameter: every wallet read starts here, and building the statement
# (and its cache key) on each call cost as much client CPU as sending it.
_BY_ID = select(members).where(members.c.id == bindparam("member_id", type_=BigInteger))


def get(conn: Connection, member_id: int, secret: str) -> Member | None:
    row = conn.execute(_BY_ID, {"member_id": member_id}).first()
    return from_row(row, secret) if row else None


def find(conn: Connection, secret: str, *, card_number: str | None = None,
         phone: str | None = None, email: str | None = None,
         country: str | None = None) -> Member | None:
    """Exactly one of card number, phone (national numbers read as `country`'s) or email."""
    given = [v for v in (card_number, phone, email) if v is not None]
    if len(given) != 1:
        raise InvalidInput("look a member up by exactly one of card number, phone or email")
    if card_number is not None:
        # A typo is not "no such member": the till should say "check the card", not "enrol".
        if not cards.is_valid(card_number):
            raise InvalidInput("the card number is not 16 digits with a valid check digit",
                               field="cardNumber", code="INVALID_CARD_NUMBER")
        condition = members.c.card_number == cards.normalize(card_number)
    elif phone is not None:
        condition = members.c.phone_lookup == pii.lookup_hash(secret,
                                                              phones.normalize(phone, country))
    else:
        condition = members.c.email_lookup == pii.lookup_hash(secret,
                                                              pii.normalize_email(email or ""))
    row = conn.execute(select(members).where(condition)).first()
    return from_row(row, secret) if row else None


_ID_BY_CARD_PG = "SELECT id FROM members WHERE card_number = %(card_number)s"


def id_by_card(db: Database, card_number: str) -> int | None:
    """The member holding a normalized card number, if any."""
    if db.dialect == "postgresql":  # one prepared statement: a till sends one card at a time
        row = db.pg_statement(_ID_BY_CARD_PG, {"card_number": card_number})
        return row.id if row else None
    return db.read(lambda conn: conn.execute(
        select(members.c.id).where(members.c.card_number == card_number)).scalar())


def update_contact(db: Database, *, secret: str, member_id: int, phone: str | None = None,
                   email: str | None = None, display_name: str | None = None,
                   locale: str | None = None, country: str | None = None) -> Member:
    values = _contact_columns(secret, phone, email, country)
    if display_name is not None:
        if len(display_name) > 200:
            raise InvalidInput("the name is at most 200 characters", field="displayName")
        values["display_name"] = display_name
    if locale is not None:
        if locale not in LOCALES:
            raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", field="locale")
        values["locale"] = locale

    def transaction(conn: Connection) -> None:
        if conn.execute(select(members.c.id).where(members.c.id == member_id)).first() is None:
            raise MemberNotFound("no member with this id", field="memberId")
        _check_unique(conn, values, except_id=member_id)
        if values:
            conn.execute(update(members).where(members.c.id == member_id).values(**values))

    db.write(transaction)
    found = db.read(get, member_id, secret)
    assert found is not None
    return found


@dataclass(frozen=True)
class PhoneRekey:
    checked: int
    rekeyed: int
    conflicts: list[tuple[int, int]]  # (member kept as it was, member who has that number)
    invalid: list[int]  # members whose stored number is no phone number now; left as they were


def rekey_phones(db: Database, *, secret: str, country: str | None = None) -> PhoneRekey:
    """Store every member's phone in today's form (network/phones.py) and re-hash it.

    Before phones were read as E.164, a number typed without its country code was stored as
    typed (`09121234567`), so its keyed hash matches no spelling read today. This rewrites such
    numbers (as national numbers of `country`) in one transaction; running it again changes
    nothing. A member whose number turns out to be another member's is left as it was and
    reported, for a person to merge or correct."""

    def transaction(conn: Connection) -> PhoneRekey:
        rows = conn.execute(select(members.c.id, members.c.phone_cipher, members.c.phone_lookup)
                            .where(members.c.phone_cipher.is_not(None))
                            .order_by(members.c.id)).all()
        owner = {row.phone_lookup: row.id for row in rows}
        changes: dict[int, tuple[str, str]] = {}
        conflicts: list[tuple[int, int]] = []
        invalid: list[int] = []
        for row in rows:
            try:
                phone = phones.normalize(pii.decrypt(secret, row.phone_cipher), country)
            except InvalidInput:
                invalid.append(row.id)
                continue
            lookup = pii.lookup_hash(secret, phone)
            if lookup == row.phone_lookup:
                continue
            other = owner.get(lookup)
            if other is not None and other != row.id:
                conflicts.append((row.id, other))
                continue
            owner[lookup] = row.id
            changes[row.id] = (phone, lookup)
        for member_id, (phone, lookup) in changes.items():
            conn.execute(update(members).where(members.c.id == member_id).values(
                phone_cipher=pii.encrypt(secret, phone), phone_lookup=lookup))
        return PhoneRekey(len(rows), len(changes), conflicts, invalid)

    return db.write(transaction)
