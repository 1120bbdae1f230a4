"""Failed sign-ins lock a login (and slow an address) for a while.

Counted with the sign-in rate limiter's table (network/signin/ratelimit.py), but only failures
count, and each failure is committed on its own: the sign-in's transaction rolls back on a wrong
password, and the failure must still be counted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from network.hashing import Keys, keyed_hash
from network.signin import ratelimit
from network.wallet.errors import WalletError

PER_LOGIN = ratelimit.Limit("bo-login", 5, dt.timedelta(minutes=15))
PER_ADDRESS = ratelimit.Limit("bo-ip", 30, dt.timedelta(minutes=15))


def _buckets(keys: Keys, login: str, ip: str) -> list[tuple[ratelimit.Limit, str]]:
    return [(PER_LOGIN, keyed_hash(keys.rate, login.strip().lower())),
            (PER_ADDRESS, keyed_hash(keys.rate, ip))]


def locked_for(conn: Connection, keys: Keys, login: str, ip: str, now: dt.datetime
               ) -> int | None:
    """Seconds until this login (or address) may try again, or None if it may now."""
    for limit, key in _buckets(keys, login, ip):
        wait = ratelimit.retry_after(conn, limit, key, now)
        if wait is not None:
            return wait
    return None


def count_failure(conn: Connection, keys: Keys, login: str, ip: str, now: dt.datetime) -> None:
    for limit, key in _buckets(keys, login, ip):
        try:
            ratelimit.hit(conn, limit, key, now)
        except WalletError:
            pass  # already over: locked_for refuses the next try
