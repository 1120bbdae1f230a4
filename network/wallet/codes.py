"""One-time sign-in codes: issue, check, and count attempts, each inside one transaction.

A code is six random digits, kept only as a keyed hash, valid for ten minutes and for five tries;
asking for a new code retires the previous one. The message carrying the code is written to the
notification outbox in the same transaction, so a code exists if and only if its message does.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from network.clock import as_utc
from network.notifications import outbox
from network.wallet import ratelimit
from network.wallet.addresses import Address, ascii_digits
from network.wallet.errors import WalletError
from network.wallet.hashing import Keys, keyed_hash
from network.wallet.ratelimit import Limit
from network.wallet.schema import signin_codes as codes

CODE_DIGITS = 6


@dataclass(frozen=True)
class Policy:
    """The numbers of sign-in; tests shrink the windows, production keeps the defaults."""

    ttl: dt.timedelta = dt.timedelta(minutes=10)
    max_attempts: int = 5
    per_address: Limit = Limit("code-address", 5, dt.timedelta(hours=1))
    per_ip: Limit = Limit("code-ip", 20, dt.timedelta(hours=1))
    verify_per_ip: Limit = Limit("verify-ip", 50, dt.timedelta(hours=1))


# (code, minutes valid, member's language) -> (subject, body)
Compose = Callable[[str, int, str], tuple[str, str]]
# The member an address belongs to, as (member id, preferred language), or None.
FindMember = Callable[[Connection, Address], tuple[int, str] | None]


def _hash(keys: Keys, member_id: int, code: str) -> str:
    return keyed_hash(keys.code, f"{member_id}:{code}")


def clean_code(raw: str) -> str:
    """Accept Persian digits and stray spaces; anything but six digits is a typing error."""
    code = ascii_digits(raw or "").replace(" ", "").replace("-", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise WalletError("INVALID_CODE_FORMAT", "The code is the 6 digits we sent you.",
                          field="code")
    return code


def issue(conn: Connection, keys: Keys, policy: Policy, *, address: Address, client_ip: str,
          now: dt.datetime, find_member: FindMember, compose: Compose) -> int | None:
    """Send a fresh code if the address belongs to a member; return the member id or None.

    Callers answer the same way either way, so the form does not reveal who is a member.
    """
    ratelimit.hit(conn, policy.per_ip, keyed_hash(keys.rate, client_ip), now)
    ratelimit.hit(conn, policy.per_address, keyed_hash(keys.rate, address.value), now)
    found = find_member(conn, address)
    if found is None:
        return None
    member_id, language = found
    conn.execute(update(codes).where(codes.c.member_id == member_id, codes.c.closed_at.is_(None))
                 .values(closed_at=now))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    conn.execute(insert(codes).values(
        member_id=member_id, channel=address.channel, code_hash=_hash(keys, member_id, code),
        created_at=now, expires_at=now + policy.ttl, attempts=0, closed_at=None))
    subject, body = compose(code, int(policy.ttl.total_seconds() // 60), language)
    outbox.enqueue(conn, channel=address.channel, recipient=address.value, subject=subject,
                   body=body, now=now, member_id=member_id)
    return member_id


@dataclass(frozen=True)
class Check:
    """The outcome of a code check; failures are returned, not raised, so attempts get committed."""

    member_id: int | None
    error: WalletError | None


def _invalid(left: int | None = None) -> WalletError:
    tail = f" {left} attempt{'s' if left != 1 else ''} left." if left is not None else ""
    return WalletError("CODE_INVALID", "That code is not right." + tail, field="code",
                       params={"left": left} if left is not None else {})


def _too_many() -> WalletError:
    return WalletError("TOO_MANY_ATTEMPTS", "Too many wrong codes. Ask for a new code.",
                       field="code")


def check(conn: Connection, keys: Keys, policy: Policy, *, address: Address, code: str,
          client_ip: str, now: dt.datetime, find_member: FindMember) -> Check:
    ratelimit.hit(conn, policy.verify_per_ip, keyed_hash(keys.rate, client_ip), now)
    found = find_member(conn, address)
    if found is None:
        return Check(None, _invalid())
    member_id = found[0]
    row = conn.execute(
        select(codes).where(codes.c.member_id == member_id)
        .order_by(codes.c.id.desc()).limit(1).with_for_update()
    ).first()
    if row is None:
        return Check(None, _invalid())
    if row.attempts >= policy.max_attempts:
        return Check(None, _too_many())
    if row.closed_at is not None:
        return Check(None, _invalid())
    if as_utc(row.expires_at) <= now:
        conn.execute(update(codes).where(codes.c.id == row.id).values(closed_at=now))
        return Check(None, WalletError("CODE_EXPIRED", "This code has expired. Ask for a new code.",
                                       field="code"))
    if not hmac.compare_digest(row.code_hash, _hash(keys, member_id, code)):
        attempts = row.attempts + 1
        closed = now if attempts >= policy.max_attempts else None
        conn.execute(update(codes).where(codes.c.id == row.id)
                     .values(attempts=attempts, closed_at=closed))
        if closed is not None:
            return Check(None, _too_many())
        return Check(None, _invalid(policy.max_attempts - attempts))
    conn.execute(update(codes).where(codes.c.id == row.id).values(closed_at=now))
    return Check(member_id, None)
