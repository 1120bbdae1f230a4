"""One-time sign-in codes: issue, check, and count attempts, each inside one transaction.

A code is six random digits, kept only as a keyed hash, valid for ten minutes and for five tries;
asking for a new code deletes the previous one. The message carrying the code is written to the
notification outbox in the same transaction.

Codes belong to an address (a keyed hash of it), not to a member, and every address that asks gets
one, a member's or not: a stranger's code is never sent and can never sign in, but it counts wrong
guesses, expires and is retired exactly like a member's, so checking codes tells nobody who is a
member. Only the message in the outbox, and a session for the right code, differ.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from network.clock import as_utc
from network.hashing import Keys, keyed_hash
from network.notifications import outbox
from network.signin import ratelimit
from network.signin.addresses import Address, ascii_digits
from network.signin.ratelimit import Limit
from network.signin.schema import signin_codes as codes
from network.web.errors import WalletError

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


def address_key(keys: Keys, address: Address) -> str:
    """What a code is filed under: keyed, so the table does not list the addresses people typed."""
    return keyed_hash(keys.code, f"address:{address.channel}:{address.value}")


def _hash(keys: Keys, address_hash: str, code: str) -> str:
    # Bound to the address, so equal codes for two addresses hash differently.
    return keyed_hash(keys.code, f"{address_hash}:{code}")


def clean_code(raw: str) -> str:
    """Accept Persian digits and stray spaces; anything but six digits is a typing error."""
    code = ascii_digits(raw or "").replace(" ", "").replace("-", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise WalletError("INVALID_CODE_FORMAT", "The code is the 6 digits we sent you.",
                          field="code")
    return code


def issue(conn: Connection, keys: Keys, policy: Policy, *, address: Address, client_ip: str,
          now: dt.datetime, find_member: FindMember, compose: Compose,
          join_compose: Compose | None = None) -> int | None:
    """Make a fresh code for the address, sent only if it is a member's; return the member id.

    Callers answer the same way either way, so the form does not reveal who is a member; a
    stranger's code exists only so that checking it answers like a member's (see `check`).

    With `join_compose` (self-enrolment, network/wallet/join.py) a stranger's code IS sent, in
    that message, and filed as a join code: only the join path (`check(joining=True)`) accepts
    it, to enrol whoever proves the address. A member's address gets the ordinary sign-in code.
    """
    ratelimit.hit(conn, policy.per_ip, keyed_hash(keys.rate, client_ip), now)
    ratelimit.hit(conn, policy.per_address, keyed_hash(keys.rate, address.value), now)
    key = address_key(keys, address)
    # The new code retires the old ones, which nothing reads again: deleting them keeps one row
    # per address that ever asked, although strangers' addresses get codes too.
    conn.execute(delete(codes).where(codes.c.address_hash == key))
    found = find_member(conn, address)
    member_id = found[0] if found is not None else None
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    joining = found is None and join_compose is not None
    minutes = int(policy.ttl.total_seconds() // 60)
    message_id = None
    if joining:
        assert join_compose is not None
        subject, body = join_compose(code, minutes, "")
        # No member yet: the code row remembers its message, for the member it enrols.
        message_id = outbox.enqueue(conn, channel=address.channel, recipient=address.value,
                                    subject=subject, body=body, now=now, member_id=None)
    conn.execute(insert(codes).values(
        address_hash=key, member_id=member_id, channel=address.channel,
        code_hash=_hash(keys, key, code), created_at=now, expires_at=now + policy.ttl,
        attempts=0, closed_at=None, purpose="join" if joining else "signin",
        message_id=message_id))
    if found is None:
        return None  # nobody to send it to: the code stays unknown to everyone
    subject, body = compose(code, minutes, found[1])
    outbox.enqueue(conn, channel=address.channel, recipient=address.value, subject=subject,
                   body=body, now=now, member_id=member_id)
    return member_id


@dataclass(frozen=True)
class Check:
    """The outcome of a code check; failures are returned, not raised, so attempts get committed."""

    member_id: int | None
    error: WalletError | None
    # A right join code for an address that was nobody's: the caller may enrol it (join.py).
    may_join: bool = False
    code_id: int | None = None
    message_id: int | None = None  # a join code's message (in the outbox)


def _invalid(left: int | None = None) -> WalletError:
    tail = f" {left} attempt{'s' if left != 1 else ''} left." if left is not None else ""
    return WalletError("CODE_INVALID", "That code is not right." + tail, field="code",
                       params={"left": left} if left is not None else {})


def _too_many() -> WalletError:
    return WalletError("TOO_MANY_ATTEMPTS", "Too many wrong codes. Ask for a new code.",
                       field="code")


def _opens_session(conn: Connection, row: Row, address: Address,
                   find_member: FindMember, joining: bool = False) -> bool:
    """Whether a right code may sign in: only one that was sent to the member who owns the address.

    A row without a member is a stranger's: its code was never sent, so even a lucky guess must
    not sign in, not even for a member enrolled with this address since the code was asked for.
    A member's row stops working once the address is no longer theirs (changed, or now another
    member's): the code went to whoever holds the old address, not to the account's owner now.
    """
    if row.member_id is None:
        # A join code was sent to the address, so on the join path it proves the address.
        return joining and row.purpose == "join"
    found = find_member(conn, address)
    return found is not None and found[0] == row.member_id


def check(conn: Connection, keys: Keys, policy: Policy, *, address: Address, code: str,
          client_ip: str, now: dt.datetime, find_member: FindMember,
          joining: bool = False) -> Check:
    """Check a code typed for an address; the answers depend on the code row alone, never on
    whether the address is a member's, except that only a member's right code signs in.
    `joining`: the join path, where a right join code also passes (`may_join`)."""
    ratelimit.hit(conn, policy.verify_per_ip, keyed_hash(keys.rate, client_ip), now)
    key = address_key(keys, address)
    row = conn.execute(
        select(codes).where(codes.c.address_hash == key)
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
    right = hmac.compare_digest(row.code_hash, _hash(keys, key, code))
    if not (right and _opens_session(conn, row, address, find_member, joining)):
        # A code that may not sign in counts as a wrong guess, so it answers like one.
        attempts = row.attempts + 1
        closed = now if attempts >= policy.max_attempts else None
        conn.execute(update(codes).where(codes.c.id == row.id)
                     .values(attempts=attempts, closed_at=closed))
        if closed is not None:
            return Check(None, _too_many())
        return Check(None, _invalid(policy.max_attempts - attempts))
    conn.execute(update(codes).where(codes.c.id == row.id).values(closed_at=now))
    return Check(row.member_id, None, may_join=row.member_id is None, code_id=row.id,
                 message_id=row.message_id)
