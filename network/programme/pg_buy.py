"""Buying a reward on PostgreSQL in two statements (and one more per message to send).

The general path (rewards_buy.buy through SQLAlchemy) sends about seventeen statements, each a
round trip, and holds the popular reward's row lock through the last of them. Here, in one
transaction (`Database.pg_transaction`):

1. the ledger's debit, one call of the database function (network/ledger/pg_debit.py,
   unchanged): the key's claim and the member's lock, then the FIFO lots consumed with sink =
   the honouring partner (or the charity), entry, postings, balance and the stored answer,
   exactly as a general purchase stores them (the same scope, key, request hash and receipt);
2. `_TAKE`, in a snapshot taken after the member's lock: the member's earlier purchases counted
   against the limit, a pool code claimed with FOR UPDATE SKIP LOCKED (or the hub code made in
   Python inserted), the stock taken by the guarded update on the reward's row, the purchase row,
   the pool code marked as given; and the member's row and message preferences, for the message
   and the answer's language (read here rather than in a statement of their own before the
   debit: one round trip fewer, and a replay does not read them at all). The reward's row lock
   is taken here, last, as on the general path, so it is held for this statement, the messages
   and the COMMIT only;
3. the member's messages (network/notifications/messages.compose, from what `_TAKE` read), one
   INSERT each: a member with no phone nor email gets none.

The reward was read before the transaction (or kept from an earlier purchase in this process):
`_TAKE` books nothing unless the reward's `updated_at` is still the one read (every change moves
it forward: rewards_store._later) and it is active, so everything decided from it (price,
window, visibility, limit, code source) is current; otherwise, and whenever the debit hands over
(an observer listening, a blocked member, a conflict), the general path books the purchase.
A test compares what both paths write and answer (tests/network/programme/test_pg_buy.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.numeric import Int8

from network import idempotency
from network.db.engine import Database
from network.ledger import observers, pg_debit
from network.ledger.accounts import AccountKind
from network.ledger.errors import InsufficientPoints
from network.ledger.receipts import Receipt
from network.ledger.rules import iso
from network.programme.rewards import Reward, RewardError

_TAKE = """
    WITH bought AS MATERIALIZED (
        SELECT count(*) AS n FROM reward_purchases
        WHERE member_id = %(member)s AND reward_id = %(reward)s AND status <> 'refunded'
          AND CAST(%(limit)s AS integer) IS NOT NULL
    ), seen_reward AS MATERIALIZED (
        SELECT r.id, p.name AS partner_name, p.name_fa AS partner_name_fa
        FROM rewards AS r JOIN parties AS p ON p.id = r.partner_id
        WHERE r.id = %(reward)s AND r.status = 'active' AND r.updated_at = %(seen)s
    ), pool AS MATERIALIZED (
        SELECT id, code FROM reward_codes
        WHERE CAST(%(pool)s AS boolean) AND reward_id = %(reward)s AND purchase_id IS NULL
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
    ), hub AS (
        INSERT INTO reward_codes (reward_id, partner_id, code, added_at)
        SELECT %(reward)s, %(partner)s, CAST(%(hub_code)s AS text), %(at)s
        WHERE CAST(%(hub_code)s AS text) IS NOT NULL
        RETURNING id, code
    ), code AS MATERIALIZED (
        SELECT id, code FROM pool UNION ALL SELECT id, code FROM hub
    ), status AS MATERIALIZED (
        SELECT EXISTS (SELECT 1 FROM seen_reward) AS unchanged,
               CAST(%(limit)s AS integer) IS NULL
                   OR (SELECT n FROM bought) < CAST(%(limit)s AS integer) AS within_limit,
               (NOT CAST(%(wants_code)s AS boolean) OR EXISTS (SELECT 1 FROM code)) AS coded
    ), stock AS (
        UPDATE rewards AS r SET stock = r.stock - 1
        FROM status
        WHERE r.id = %(reward)s AND CAST(%(limited)s AS boolean) AND r.status = 'active'
          AND r.stock > 0 AND status.unchanged AND status.within_limit AND status.coded
        RETURNING r.id
    ), purchase AS (
        INSERT INTO reward_purchases (member_id, reward_id, partner_id, entry_id, points,
                                      code_id, status, bought_at, expires_at)
        SELECT %(member)s, %(reward)s, %(partner)s, %(entry)s, %(points)s,
               (SELECT id FROM code), 'issued', %(at)s, CAST(%(expires)s AS timestamptz)
        FROM status
        WHERE status.unchanged AND status.within_limit AND status.coded
          AND (NOT CAST(%(limited)s AS boolean) OR EXISTS (SELECT 1 FROM stock))
        RETURNING id
    ), given AS (
        UPDATE reward_codes AS c SET purchase_id = purchase.id
        FROM purchase, pool WHERE c.id = pool.id
        RETURNING c.id
    ), contact AS (
        SELECT m.*, p.programme_sms, p.programme_email, p.marketing_sms, p.marketing_email,
               p.quiet_start, p.quiet_end, p.time_zone
        FROM members AS m LEFT JOIN message_preferences AS p ON p.member_id = m.id
        WHERE m.id = %(member)s
    )
    SELECT status.unchanged, status.within_limit, status.coded,
           (SELECT id FROM purchase) AS purchase_id, (SELECT code FROM code) AS code,
           (SELECT count(*) FROM given) AS given,
           (SELECT partner_name FROM seen_reward) AS partner_name,
           (SELECT partner_name_fa FROM seen_reward) AS partner_name_fa,
           contact.id IS NOT NULL AS member_read, contact.*
    FROM status LEFT JOIN contact ON true
"""

# The member's purchases counted against the limit, under the member's lock (the debit's
# first statement took it): the general path checks the limit before the points, so a member
# over the limit hears that, not "not enough points".
_BOUGHT = """
    SELECT count(*) AS n FROM reward_purchases
    WHERE member_id = %(member)s AND reward_id = %(reward)s AND status <> 'refunded'
"""

_OUTBOX_COLUMNS = ("member_id", "channel", "recipient", "subject", "body", "status", "attempts",
                   "created_at", "next_attempt_at", "kind", "html_body", "unsubscribe_url")
_OUTBOX = (f"INSERT INTO notification_outbox ({', '.join(_OUTBOX_COLUMNS)}) VALUES ("
           + ", ".join(f"%({c})s" for c in _OUTBOX_COLUMNS) + ") RETURNING id")


class _Changed(Exception):
    """The reward changed since it was read: roll back, the general path reads it again."""


@dataclass(frozen=True, slots=True)
class Bought:
    """A purchase booked now (`purchase_id` set) or the receipt of a replay (None)."""

    receipt: Receipt
    purchase_id: int | None
    code: str | None  # as stored (canonical), None without one
    locale: str | None  # the member's, as `_TAKE` read it (None on a replay): the answer
    # names the reward in it without reading again after the purchase


# (code as stored or None, partner's names {"en", "fa"}, `_TAKE`'s row with the member's
#  columns, or None without a member row)
#   -> outbox rows (outbox.row's dicts)
Messages = Callable[[str | None, Mapping[str, str], Any], Sequence[Mapping[str, Any]]]


def try_buy(db: Database, *, reward: Reward, member_id: int, key: str, digest: str,
            at: dt.datetime, hub_code: str | None, expires_at: dt.datetime | None,
            messages: Messages, thread_connection: bool = False) -> Bought | None:
    """Book the purchase (see the module docstring), answer a replay, or refuse it with the
    general path's userError; None: the general path must buy it. `thread_connection`: see
    `Database.pg_transaction`."""
    spec = reward.spec
    charity = spec.kind == "charity_pledge"
    sink = spec.charity_id if charity else reward.partner_id
    assert sink is not None
    # Whoever listens to the purchase (the honouring partner's coupon.bought webhook) writes in
    # its transaction: the debit's statement checks that nobody does, else it hands over.
    guard, guard_params = observers.earn_guard(f"partner:{reward.partner_id}", "coupon_bought")
    if observers.listening(f"member:{member_id}", "buyReward"):
        return None
    take = {"member": Int8(member_id), "reward": Int8(reward.id), "seen": reward.updated_at,
            "limit": spec.per_member_limit, "pool": spec.code_source == "pool",
            "wants_code": spec.code_source != "none", "hub_code": hub_code,
            "partner": Int8(reward.partner_id), "at": at, "limited": spec.stock is not None,
            "points": Int8(spec.price_points), "expires": expires_at}
    made: list[Bought] = []

    def transaction(body: Callable[[Callable[[str, Mapping[str, Any]], Any]], Receipt]
                    ) -> Receipt:
        def purchase(execute: Callable[[str, Mapping[str, Any]], Any]) -> Receipt:
            debited: list[Any] = []  # the debit's row

            def counted(sql: str, params: Mapping[str, Any]) -> Any:
                debited.append(execute(sql, params))
                return debited[-1]

            try:
                receipt = body(counted)
            except InsufficientPoints:
                if spec.per_member_limit is not None:
                    _check_limit(execute, take, spec.per_member_limit)
                raise
            if pg_debit.replayed(debited[0]):  # the key's stored receipt
                made.append(Bought(receipt, None, None, None))
                return receipt
            row = execute(_TAKE, {**take, "entry": Int8(receipt.entry_id)})
            if not row.unchanged:
                raise _Changed
            if not row.within_limit:
                _check_limit(execute, take, spec.per_member_limit)
                raise _Changed  # not reached: the count under the same lock says so again
            if not row.coded:
                raise RewardError("CODES_EXHAUSTED", "this reward has no codes left", "rewardId")
            if row.purchase_id is None:
                raise RewardError("OUT_OF_STOCK", "this reward is sold out", "rewardId")
            partner = {"en": row.partner_name, "fa": row.partner_name_fa or row.partner_name}
            contact = row if row.member_read else None
            for message in messages(row.code, partner, contact):
                execute(_OUTBOX, message)
            made.append(Bought(receipt, row.purchase_id, row.code,
                               contact.locale if contact is not None else None))
            return receipt

        return db.pg_transaction(lambda execute: purchase(execute),
                                 thread_connection=thread_connection)

    try:
        receipt = pg_debit.try_debit(
            transaction, scope=f"member:{member_id}", key=key, digest=digest,
            kind="donate" if charity else "reward",
            consumption_kind="donation" if charity else "redemption",
            account=(AccountKind.DONATION if charity else AccountKind.REDEMPTION).value,
            sink_id=sink,
            sink_kind="charity" if charity else "partner", member_id=member_id,
            points=spec.price_points, reference=f"reward:{reward.id}", at=at,
            booked_at=iso(at), guard=guard, guard_params=guard_params)
    except _Changed:
        return None
    # None: handed over, a conflict included (try_debit rolls back on UniqueViolation: a hub
    # code drawn twice, a 1 in 32^13 chance, lands there too).
    if receipt is None or not made:
        return None
    return made[-1]


def _check_limit(execute: Callable[[str, Mapping[str, Any]], Any], take: Mapping[str, Any],
                 limit: int | None) -> None:
    n = execute(_BOUGHT, take).n
    if limit is not None and n >= limit:
        raise RewardError("MEMBER_LIMIT_REACHED",
                          f"you have bought this reward {n} times; the limit is {limit}",
                          "rewardId")


def request_digest(reward_id: int) -> str:
    """The request hash the general path's `run` stores for buyReward."""
    return idempotency.request_hash("buyReward", {"reward": reward_id})
