"""Buying a reward on PostgreSQL in one call of the database function `reward_buy`.

The general path (rewards_buy.buy through SQLAlchemy) sends about seventeen statements, each a
round trip, and holds the popular reward's row lock through the last of them. Here the function
(migration 0035_reward_buy_function, where each step is described) does it all in one statement:

1. the ledger's debit, `ledger_debit` (network/ledger/pg_debit.py, unchanged): the key's claim
   and the member's lock, then the FIFO lots consumed with sink = the honouring partner (or the
   charity), entry, postings, balance and the stored answer, exactly as a general purchase
   stores them (the same scope, key, request hash and receipt);
2. the take, in a snapshot taken after the member's lock: the member's earlier purchases
   counted against the limit, a pool code claimed with FOR UPDATE SKIP LOCKED (or the hub code
   made in Python inserted), the stock taken by the guarded update on the reward's row (its
   lock taken last, as on the general path), the purchase row, the pool code marked as given,
   and the member's locale for the answer; what cannot be booked raises, so the debit rolls
   back with it.

A member whom the purchase's message cannot reach (no phone, no email: messages.compose queues
nothing) buys in that one call alone, an autocommit statement on the GraphQL thread's own
connection (`Database.pg_statement`): one round trip, no BEGIN nor COMMIT, and the reward's row
lock held for the rest of the statement and its commit only. For anyone else the message rows
must commit with the purchase: the call runs inside a transaction (`Database.pg_transaction`),
followed by the member's contact and preferences (`_CONTACT`) and one INSERT per message
(network/notifications/messages.compose). The function tells them apart itself (`p_quiet`: a
member with a contact answers "loud" before anything is written), and a member found loud is
remembered so that the next purchase goes straight to the transaction.

The reward was read before the call (or kept from an earlier purchase in this process): the
function books nothing unless the reward's `updated_at` is still the one read (every change
moves it forward: rewards_store._later) and it is active, so everything decided from it (price,
window, visibility, limit, code source) is current; otherwise, and whenever the debit hands over
(an observer listening, a blocked member, a conflict), the general path books the purchase.
A test compares what both paths write and answer (tests/network/programme/test_pg_buy.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.numeric import Int8

from network import idempotency
from network.db.engine import Database
from network.ledger import observers, pg_debit, summary
from network.ledger.accounts import AccountKind
from network.ledger.errors import InsufficientPoints
from network.ledger.receipts import Receipt
from network.ledger.rules import iso
from network.programme.rewards import Reward, RewardError

# The function's arguments after the debit's (migration 0035_reward_buy_function's order).
_TAKE_ARGUMENTS = ("reward", "seen", "limit", "pool", "wants_code", "hub_code", "partner",
                   "limited", "expires", "quiet")


@functools.lru_cache(maxsize=8)
def _call(guard: str) -> str:
    """`SELECT reward_buy(…)` with the observers' guard, as pg_debit's call takes it: one
    function call and nothing else in the statement."""
    return summary.compact(
        "SELECT reward_buy(" + ", ".join(f"%({name})s" for name in pg_debit.ARGUMENTS)
        + f", {pg_debit.observed(guard)}, "
        + ", ".join(f"%({name})s" for name in _TAKE_ARGUMENTS) + ") AS bought")


# The member's row and message preferences, for the message: read in the purchase's
# transaction after the call (only for a member the message may reach).
_CONTACT = """
    SELECT m.*, p.programme_sms, p.programme_email, p.marketing_sms, p.marketing_email,
           p.quiet_start, p.quiet_end, p.time_zone
    FROM members AS m LEFT JOIN message_preferences AS p ON p.member_id = m.id
    WHERE m.id = %(member)s
"""

_OUTBOX_COLUMNS = ("member_id", "channel", "recipient", "subject", "body", "status", "attempts",
                   "created_at", "next_attempt_at", "kind", "html_body", "unsubscribe_url")
_OUTBOX = (f"INSERT INTO notification_outbox ({', '.join(_OUTBOX_COLUMNS)}) VALUES ("
           + ", ".join(f"%({c})s" for c in _OUTBOX_COLUMNS) + ") RETURNING id")

# Members found to have a phone or an email (per database URL): their purchases go straight to
# the transaction. Bounded: emptied when full, which costs each member one "loud" answer again.
_loud: set[tuple[str, int]] = set()
_LOUD_KEPT = 100_000


def forget() -> None:
    """Tests reuse databases (and their URLs) with new members under old ids."""
    _loud.clear()


class _Changed(Exception):
    """The reward changed since it was read: the general path reads it again."""


class _Loud(Exception):
    """The member may be told: buy in a transaction, with the messages."""


@dataclass(frozen=True, slots=True)
class Bought:
    """A purchase booked now (`purchase_id` set) or the receipt of a replay (None)."""

    receipt: Receipt
    purchase_id: int | None
    code: str | None  # as stored (canonical), None without one
    locale: str | None  # the member's, as the function read it (None on a replay): the answer
    # names the reward in it without reading again after the purchase


# (code as stored or None, partner's names {"en", "fa"}, `_CONTACT`'s row, or None without a
#  member row) -> outbox rows (outbox.row's dicts)
Messages = Callable[[str | None, Mapping[str, str], Any], Sequence[Mapping[str, Any]]]


def try_buy(db: Database, *, reward: Reward, member_id: int, key: str, digest: str,
            at: dt.datetime, hub_code: str | None, expires_at: dt.datetime | None,
            messages: Messages, thread_connection: bool = False) -> Bought | None:
    """Book the purchase (see the module docstring), answer a replay, or refuse it with the
    general path's userError; None: the general path must buy it. `thread_connection`: see
    `Database.pg_transaction` (a quiet member's call then is one autocommit statement on that
    connection)."""
    spec = reward.spec
    charity = spec.kind == "charity_pledge"
    sink = spec.charity_id if charity else reward.partner_id
    assert sink is not None
    # Whoever listens to the purchase (the honouring partner's coupon.bought webhook) writes in
    # its transaction: the function's debit checks that nobody does, else it hands over.
    guard, guard_params = observers.earn_guard(f"partner:{reward.partner_id}", "coupon_bought")
    if observers.listening(f"member:{member_id}", "buyReward"):
        return None
    params = pg_debit.arguments(
        scope=f"member:{member_id}", key=key, digest=digest,
        kind="donate" if charity else "reward",
        consumption_kind="donation" if charity else "redemption",
        account=(AccountKind.DONATION if charity else AccountKind.REDEMPTION).value,
        sink_id=sink, sink_kind="charity" if charity else "partner", member_id=member_id,
        points=spec.price_points, reference=f"reward:{reward.id}", at=at, booked_at=iso(at),
        guard_params=guard_params)
    params |= {"reward": Int8(reward.id), "seen": reward.updated_at,
               "limit": spec.per_member_limit, "pool": spec.code_source == "pool",
               "wants_code": spec.code_source != "none", "hub_code": hub_code,
               "partner": Int8(reward.partner_id), "limited": spec.stock is not None,
               "expires": expires_at}
    sql = _call(guard)

    def purchase(execute: Callable[[str, Mapping[str, Any]], Any], quiet: bool) -> Bought:
        try:
            answer = execute(sql, {**params, "quiet": quiet}).bought
        except psycopg.errors.RaiseException as exc:  # the take refused: nothing was written
            refusal = _refusal(exc.diag.message_primary or "", spec.per_member_limit)
            if refusal is None:
                raise
            raise refusal from None
        if answer.get("outcome") == "loud":
            raise _Loud
        debit = answer["debit"]
        try:
            receipt = pg_debit.receipt_of(debit, digest, spec.price_points)
        except InsufficientPoints:
            # counted under the member's lock: the general path names the limit first
            if spec.per_member_limit is not None:
                if answer["bought"] >= spec.per_member_limit:
                    raise _limit_reached(answer["bought"], spec.per_member_limit) from None
            raise
        if debit["outcome"] == "replay":  # the key's stored receipt
            return Bought(receipt, None, None, None)
        code = answer["code"]
        if answer["loud"]:  # only in a transaction: a quiet call answered "loud" instead
            partner = {"en": answer["partner_name"],
                       "fa": answer["partner_name_fa"] or answer["partner_name"]}
            contact = execute(_CONTACT, params)
            for message in messages(code, partner, contact):
                execute(_OUTBOX, message)
        return Bought(receipt, answer["purchase_id"], code, answer["locale"])

    def in_transaction() -> Bought:
        return db.pg_transaction(lambda execute: purchase(execute, False),
                                 thread_connection=thread_connection)

    try:
        if not thread_connection or (db.url, member_id) in _loud:
            return in_transaction()
        try:
            return purchase(db.pg_statement, True)
        except _Loud:
            if len(_loud) >= _LOUD_KEPT:
                _loud.clear()
            _loud.add((db.url, member_id))
            return in_transaction()
    except (_Changed, *pg_debit.HAND_OVER):
        # handed over, a conflict included (a hub code drawn twice, a 1 in 32^13 chance,
        # lands there too): nothing was written
        return None


def _refusal(message: str, limit: int | None) -> Exception | None:
    """What a refusal raised by the function's take means (its message, migration 0035)."""
    what, _, count = message.partition(" ")
    if what == "MEMBER_LIMIT_REACHED" and limit is not None:
        return _limit_reached(int(count), limit)
    if what == "CODES_EXHAUSTED":
        return RewardError("CODES_EXHAUSTED", "this reward has no codes left", "rewardId")
    if what == "OUT_OF_STOCK":
        return RewardError("OUT_OF_STOCK", "this reward is sold out", "rewardId")
    if what == "CHANGED":
        return _Changed()
    return None


def _limit_reached(bought: int, limit: int) -> RewardError:
    return RewardError("MEMBER_LIMIT_REACHED",
                       f"you have bought this reward {bought} times; the limit is {limit}",
                       "rewardId")


@functools.lru_cache(maxsize=1024)
def request_digest(reward_id: int) -> str:
    """The request hash the general path's `run` stores for buyReward (kept per reward: the
    canonical JSON and its SHA-256 cost a purchase about 30 µs)."""
    return idempotency.request_hash("buyReward", {"reward": reward_id})
