"""Buying a reward, using a coupon at the till, refunding one, and expiring unused ones.

Buying is one ledger operation in one transaction, idempotent by (member, key):
1. the member's balance row is locked (every operation on a member takes it first); for a
   reward with a per-member limit, first of all, and the member's earlier purchases of it are
   counted under that lock, so the limit holds under concurrency;
2. the points are consumed earliest-expiry-first with sink = the honouring partner (entry kind
   `reward`, consumption kind `redemption`: settlement pays the partner through the path it has)
   or, for a charity pledge, sink = the charity (a `donate` entry);
3. a code: the pool's first free one (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
   buyers take different codes without waiting on each other), or a new hub code;
4. the purchase row and a notification in the outbox, which goes out only if all this commits;
5. last, a limited stock is taken by a guarded `UPDATE … WHERE stock > 0` on the reward's row,
   whose lock serialises that reward's buyers until commit: taken last, it is held for the
   fewest statements, and after the member's, in that order for every buyer, so no two buyers
   wait on each other in a circle.
Any refusal on the way rolls everything back: no points, no stock, no code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from network import members
from network.clock import as_utc, utcnow
from network.config import get_settings
from network.db.engine import Database
from network.db.schema import members as members_table
from network.db.schema import parties
from network.idempotency import claim, remember, request_hash, validate_key
from network.ledger import balances, observers
from network.ledger.accounts import AccountKind
from network.ledger.idempotent import run
from network.ledger.receipts import Receipt
from network.ledger.reversals import give_back_reward_in
from network.ledger.spending import book_debit
from network.notifications import messages, outbox, preferences
from network.programme import ladder_store, pg_buy, reward_codes, tier_facts, tiers
from network.programme.rewards import (
    Reward,
    RewardError,
    check_buyable,
    check_redeemable,
    coupon_expiry,
)
from network.programme.rewards_schema import reward_codes as codes_table
from network.programme.rewards_schema import reward_purchases, rewards
from network.programme.rewards_store import bought_count, get
from network.programme.segments_store import segments_of


@dataclass(frozen=True, slots=True)
class Purchase:
    """A reward a member bought, as the member and the honouring partner see it."""

    id: int
    reward_id: int
    member_id: int
    partner_id: int
    points: int
    status: str  # issued | used | expired | refunded
    code: str | None  # printable form
    bought_at: dt.datetime
    expires_at: dt.datetime | None
    used_at: dt.datetime | None
    entry_id: int


_PURCHASE = (
    select(reward_purchases, codes_table.c.code, rewards.c.code_source)
    .select_from(reward_purchases.join(rewards, rewards.c.id == reward_purchases.c.reward_id)
                 .outerjoin(codes_table, codes_table.c.id == reward_purchases.c.code_id)))


def _purchase(row: Any) -> Purchase:
    return Purchase(
        id=row.id, reward_id=row.reward_id, member_id=row.member_id, partner_id=row.partner_id,
        points=row.points, status=row.status,
        code=(reward_codes.printable(row.code, row.code_source == "generated")
              if row.code else None),
        bought_at=as_utc(row.bought_at),
        expires_at=as_utc(row.expires_at) if row.expires_at else None,
        used_at=as_utc(row.used_at) if row.used_at else None, entry_id=row.entry_id)


def purchase(conn: Connection, purchase_id: int) -> Purchase | None:
    row = conn.execute(_PURCHASE.where(reward_purchases.c.id == purchase_id)).first()
    return _purchase(row) if row else None


def purchase_by_entry(conn: Connection, entry_id: int) -> Purchase | None:
    row = conn.execute(_PURCHASE.where(reward_purchases.c.entry_id == entry_id)).first()
    return _purchase(row) if row else None


def member_purchases(conn: Connection, member_id: int, *, limit: int = 100
                     ) -> list[Purchase]:
    """The member's rewards, newest first."""
    rows = conn.execute(_PURCHASE.where(reward_purchases.c.member_id == member_id)
                        .order_by(reward_purchases.c.id.desc()).limit(limit))
    return [_purchase(row) for row in rows]


def name_for_member(conn: Connection, reward_id: int, member_id: int) -> str:
    """The reward's name in the member's language, in one statement."""
    locale = select(members_table.c.locale).where(members_table.c.id == member_id)
    row = conn.execute(select(rewards.c.name_en, rewards.c.name_fa,
                              locale.scalar_subquery().label("locale"))
                       .where(rewards.c.id == reward_id)).one()
    return row.name_fa if row.locale == "fa" else row.name_en


def member_view(conn: Connection, member_id: int, at: dt.datetime
                ) -> tuple[str | None, frozenset[str]]:
    """The member's tier and segments, for visibility."""
    ladder = ladder_store.ladder(conn)
    found = tiers.qualify(ladder, tier_facts.facts(conn, member_id, at, ladder))
    return (found.code if found else None), segments_of(conn, member_id)


# ---- buying -----------------------------------------------------------------------------------

def buy(db: Database, *, member_id: int, reward_id: int, idempotency_key: str, secret: str,
        now: dt.datetime | None = None) -> Purchase:
    """Buy one of REWARD for the member (see the module docstring); a retry with the same key
    answers the same purchase."""
    return _buy(db, member_id=member_id, reward_id=reward_id, idempotency_key=idempotency_key,
                secret=secret, now=now, thread_connection=False)[0]


def buy_named(db: Database, *, member_id: int, reward_id: int, idempotency_key: str,
              secret: str, now: dt.datetime | None = None,
              thread_connection: bool = False) -> tuple[Purchase, str]:
    """`buy`, and the reward's name in the member's language (`name_for_member`) for the
    answer. A purchase on PostgreSQL's fast path knows both already (the reward as checked by
    its transaction, the member's locale from its purchase statement), so it answers with no
    read after its transaction; a replay or the general path reads the name.
    `thread_connection`: the fast path's transaction on the calling thread's own connection
    (`Database.pg_transaction`), for the GraphQL endpoint's threads only."""
    bought, name = _buy(db, member_id=member_id, reward_id=reward_id,
                        idempotency_key=idempotency_key, secret=secret, now=now,
                        thread_connection=thread_connection)
    if name is None:
        name = db.read(name_for_member, bought.reward_id, member_id)
    return bought, name


def _buy(db: Database, *, member_id: int, reward_id: int, idempotency_key: str, secret: str,
         now: dt.datetime | None, thread_connection: bool) -> tuple[Purchase, str | None]:
    """The purchase and, when known without a read, the name `name_for_member` would read."""
    if db.dialect == "postgresql":
        fast = _buy_on_postgresql(db, member_id=member_id, reward_id=reward_id,
                                  idempotency_key=idempotency_key, secret=secret, now=now,
                                  thread_connection=thread_connection)
        if fast is not None:
            return fast
    params = {"reward": reward_id}
    made: list[Purchase] = []  # what this call bought; a replay reads the first purchase

    def body(conn: Connection, at: dt.datetime) -> Receipt:
        made.clear()  # Database.write may run the transaction again
        reward = get(conn, reward_id)
        if reward is None:
            raise RewardError("REWARD_NOT_FOUND", "no reward with this id", "rewardId")
        vis = reward.spec.visibility
        tier, segments = (member_view(conn, member_id, at) if vis.tiers or vis.segments
                          else (None, frozenset()))
        bought_before = 0
        if reward.spec.per_member_limit is not None:  # counted under the member's lock
            balances.lock(conn, member_id)
            bought_before = bought_count(conn, member_id, reward_id)
        check_buyable(reward, at, tier=tier, segments=segments, bought_before=bought_before)
        receipt = _pay(conn, at, reward, member_id)
        code_id, code = _code_for(conn, reward, at)
        expires_at = coupon_expiry(reward, at)
        purchase_id = conn.execute(insert(reward_purchases).values(
            member_id=member_id, reward_id=reward_id, partner_id=reward.partner_id,
            entry_id=receipt.entry_id, points=reward.spec.price_points, code_id=code_id,
            status="issued", bought_at=at, expires_at=expires_at)
            .returning(reward_purchases.c.id)).scalar_one()
        if code_id is not None and reward.spec.code_source == "pool":  # no longer free
            conn.execute(update(codes_table).where(codes_table.c.id == code_id)
                         .values(purchase_id=purchase_id))
        made.append(Purchase(
            id=purchase_id, reward_id=reward_id, member_id=member_id,
            partner_id=reward.partner_id, points=reward.spec.price_points, status="issued",
            code=code, bought_at=at, expires_at=expires_at, used_at=None,
            entry_id=receipt.entry_id))
        _notify(conn, secret, member_id, reward, code, at)
        _tell_partner(conn, reward.partner_id, "coupon_bought", made[-1], at)
        _take_stock(conn, reward)  # last: its row lock is held only to the commit
        return receipt

    receipt = run(db, scope=f"member:{member_id}", key=idempotency_key, operation="buyReward",
                  params=params, body=body, now=now)
    if made and made[0].entry_id == receipt.entry_id:
        return made[0], None
    found = db.read(purchase_by_entry, receipt.entry_id)
    assert found is not None
    return found, None


# Rewards as read for a purchase on PostgreSQL, per process and database: pg_buy books nothing
# unless the reward's `updated_at` is still this one's, so a kept reward is never acted on stale.
_known: dict[tuple[str, int], Reward] = {}


def forget() -> None:
    """Tests reuse databases (and their URLs) with new rewards under old ids and old times,
    and new members under old ids (pg_buy's members known to have a contact)."""
    _known.clear()
    pg_buy.forget()


def _buy_on_postgresql(db: Database, *, member_id: int, reward_id: int, idempotency_key: str,
                       secret: str, now: dt.datetime | None, thread_connection: bool
                       ) -> tuple[Purchase, str | None] | None:
    """The purchase in pg_buy's statements (and the reward's name in the member's language,
    None on a replay), or None: the general path buys it. Whatever
    would be refused before the points move (no such reward, not on sale, not visible to the
    member) is left to the general path too, which answers a replay first and names the error."""
    validate_key(idempotency_key)
    at = as_utc(now) if now is not None else utcnow()
    reward = _known.get((db.url, reward_id))
    if reward is None:
        reward = db.read(get, reward_id)
        if reward is None:
            return None
        _known[(db.url, reward_id)] = reward
    vis = reward.spec.visibility
    tier, segments = (db.read(member_view, member_id, at) if vis.tiers or vis.segments
                      else (None, frozenset()))
    # Counted again under the member's lock (pg_buy's third statement); this count only keeps
    # a member over the limit from booking points that the third statement would roll back.
    bought_before = (db.read(bought_count, member_id, reward_id)
                     if reward.spec.per_member_limit is not None else 0)
    try:
        check_buyable(reward, at, tier=tier, segments=segments, bought_before=bought_before)
    except RewardError:
        return None
    settings = get_settings()
    generated = reward.spec.code_source == "generated"

    def outbox_rows(code: str | None, partner: Mapping[str, str], contact: Any
                    ) -> list[dict[str, object]]:
        if contact is None:
            return []
        return [outbox.row(**message) for message in messages.compose(
            members.from_row(contact, secret), preferences.from_row(contact, settings.timezone),
            "reward_bought",
            {"reward": {"en": reward.name("en"), "fa": reward.name("fa")},
             "code": reward_codes.printable(code, generated) if code else "-",
             "partner": partner, "points": reward.spec.price_points},
            now=at, settings=settings, secret=secret)]

    expires_at = coupon_expiry(reward, at)
    bought = pg_buy.try_buy(db, reward=reward, member_id=member_id, key=idempotency_key,
                            digest=pg_buy.request_digest(reward_id), at=at,
                            hub_code=reward_codes.generate() if generated else None,
                            expires_at=expires_at, messages=outbox_rows,
                            thread_connection=thread_connection)
    if bought is None:
        _known.pop((db.url, reward_id), None)  # perhaps changed: read it again next time
        return None
    if bought.purchase_id is None:  # a replay
        replayed = db.read(purchase_by_entry, bought.receipt.entry_id)
        return (replayed, None) if replayed is not None else None
    return Purchase(
        id=bought.purchase_id, reward_id=reward_id, member_id=member_id,
        partner_id=reward.partner_id, points=reward.spec.price_points, status="issued",
        code=reward_codes.printable(bought.code, generated) if bought.code else None,
        bought_at=at, expires_at=expires_at, used_at=None, entry_id=bought.receipt.entry_id
    ), reward.name("fa" if bought.locale == "fa" else "en")


def _pay(conn: Connection, at: dt.datetime, reward: Reward, member_id: int) -> Receipt:
    reference = f"reward:{reward.id}"
    if reward.spec.kind == "charity_pledge":
        assert reward.spec.charity_id is not None
        return book_debit(conn, at, member_id=member_id, points=reward.spec.price_points,
                          sink_id=reward.spec.charity_id, sink_kinds=("charity",),
                          entry_kind="donate", consumption_kind="donation",
                          account=AccountKind.DONATION, reference=reference)
    return book_debit(conn, at, member_id=member_id, points=reward.spec.price_points,
                      sink_id=reward.partner_id, sink_kinds=("partner",), entry_kind="reward",
                      consumption_kind="redemption", account=AccountKind.REDEMPTION,
                      reference=reference)


def _take_stock(conn: Connection, reward: Reward) -> None:
    """One off a limited stock, by a guarded update on the reward's row (whose lock then queues
    that reward's other buyers until this commit: hence last). An unlimited reward's row is not
    touched at all; its status was read at the start, and a pause racing a purchase may let
    that one purchase through, as a purchase that started a moment earlier would."""
    if reward.spec.stock is None:
        return
    c = rewards.c
    taken = conn.execute(
        update(rewards)
        .where(c.id == reward.id, c.status == "active", c.stock > 0)
        .values(stock=c.stock - 1)
        .returning(c.id)).first()
    if taken is None:
        raise RewardError("OUT_OF_STOCK", "this reward is sold out", "rewardId")


def _code_for(conn: Connection, reward: Reward, at: dt.datetime) -> tuple[int | None, str | None]:
    if reward.spec.code_source == "none":
        return None, None
    if reward.spec.code_source == "pool":
        query = (select(codes_table.c.id, codes_table.c.code)
                 .where(codes_table.c.reward_id == reward.id, codes_table.c.purchase_id.is_(None))
                 .order_by(codes_table.c.id).limit(1))
        row = None
        if conn.dialect.name == "postgresql":
            # A code another buyer took and committed since this statement's snapshot fails
            # FOR UPDATE's recheck and, under LIMIT 1, leaves no row although others are free:
            # a new statement (a new snapshot at READ COMMITTED) looks again, a few times.
            query = query.with_for_update(skip_locked=True)
            for _ in range(3):
                if (row := conn.execute(query).first()) is not None:
                    break
        else:
            row = conn.execute(query).first()
        if row is None:
            raise RewardError("CODES_EXHAUSTED", "this reward has no codes left", "rewardId")
        return row.id, row.code
    code = reward_codes.generate()
    code_id = conn.execute(insert(codes_table).values(
        reward_id=reward.id, partner_id=reward.partner_id, code=code, added_at=at)
        .returning(codes_table.c.id)).scalar_one()
    return code_id, reward_codes.printable(code, True)


def _notify(conn: Connection, secret: str, member_id: int, reward: Reward, code: str | None,
            at: dt.datetime) -> None:
    """The member's lifecycle message (network/notifications/messages.py: their channels,
    preferences and quiet hours decide), with the code while it is unused."""
    partner = conn.execute(select(parties.c.name, parties.c.name_fa)
                           .where(parties.c.id == reward.partner_id)).one()
    messages.reward_bought(
        conn, member_id, reward={"en": reward.name("en"), "fa": reward.name("fa")},
        code=code or "-", partner={"en": partner.name, "fa": partner.name_fa or partner.name},
        points=reward.spec.price_points, now=at, secret=secret)


def _tell_partner(conn: Connection, partner_id: int, operation: str, bought: Purchase,
                  at: dt.datetime) -> None:
    """The honouring partner's webhook (coupon.bought, coupon.used), written in this same
    transaction through the ledger's observers (network/ledger/observers.py: partners listen
    there; the network cannot import them). The booking is the partner's, whoever asked."""
    scope = f"partner:{partner_id}"
    listeners = observers.listening(scope, operation)
    if listeners:
        observers.tell(conn, listeners, lambda: [observers.Booking(
            scope=scope, operation=operation, reference=None, at=at,
            answer={"member_id": bought.member_id, "purchase_id": bought.id,
                    "reward_id": bought.reward_id, "points": bought.points,
                    "entry_id": bought.entry_id})])


# ---- at the till ------------------------------------------------------------------------------

# A code's purchase: by the purchase's code_id (a pool code also names its purchase, so the pool
# knows it is taken; a hub code is made for its purchase and needs not).
_CODE_ROW = (select(codes_table.c.id, codes_table.c.partner_id,
                    reward_purchases.c.id.label("purchase_id"))
             .select_from(codes_table.outerjoin(reward_purchases,
                                                reward_purchases.c.code_id == codes_table.c.id))
             .order_by(codes_table.c.partner_id))


def find_coupon(conn: Connection, partner_id: int | None, typed: str) -> Purchase:
    """The issued purchase behind a code typed at a till, or why not (another partner's,
    mistyped, unknown). `partner_id` None: staff, any partner's."""
    code = reward_codes.canonical(typed or "")
    if not code:
        raise RewardError("CODE_REQUIRED", "type the coupon's code", "code")
    candidates = [code]
    hub = reward_codes.as_hub_code(typed)
    if hub is not None and hub != code:
        candidates.append(hub)
    rows = conn.execute(_CODE_ROW.where(codes_table.c.code.in_(candidates))).all()
    mine = [r for r in rows if partner_id is None or r.partner_id == partner_id]
    if not mine:
        if rows:
            raise RewardError("COUPON_OTHER_PARTNER", "this coupon is honoured by another "
                                                      "partner", "code")
        if hub is not None and not reward_codes.check_ok(hub):
            raise RewardError("COUPON_MISTYPED", "this code's check character does not match: "
                                                 "a symbol was mistyped", "code")
        raise RewardError("COUPON_UNKNOWN", "no coupon with this code", "code")
    row = mine[0]
    found = purchase(conn, row.purchase_id) if row.purchase_id is not None else None
    if found is None:
        raise RewardError("COUPON_UNKNOWN", "no coupon with this code was sold", "code")
    return found


def redeem_coupon(db: Database, *, partner_id: int, code: str, scope: str, idempotency_key: str,
                  now: dt.datetime | None = None,
                  then: Callable[[Connection, Purchase], None] | None = None) -> Purchase:
    """Use a coupon at the partner's till: an issued, unexpired coupon of this partner's
    becomes used (once: a guarded update); a retry with the same key answers it again.
    `then` runs in the same transaction, once, when the coupon is used (not on a retry): the
    back office writes its audit entry there."""
    validate_key(idempotency_key)
    digest = request_hash("redeemCoupon", {"code": reward_codes.canonical(code or "")})

    def write(conn: Connection) -> int:
        stored = claim(conn, scope, idempotency_key, digest)
        if stored is not None:
            return int(stored["purchase_id"])
        at = as_utc(now) if now is not None else utcnow()
        found = find_coupon(conn, partner_id, code)
        check_redeemable(found.status, found.expires_at, at)
        used = conn.execute(update(reward_purchases)
                            .where(reward_purchases.c.id == found.id,
                                   reward_purchases.c.status == "issued")
                            .values(status="used", used_at=at)
                            .returning(reward_purchases.c.id)).first()
        if used is None:  # another till used it between our read and our update
            raise RewardError("COUPON_ALREADY_USED", "this coupon was already used", "code")
        if then is not None:
            then(conn, found)
        _tell_partner(conn, partner_id, "coupon_used", found, at)
        remember(conn, scope, idempotency_key, digest, {"purchase_id": found.id}, at)
        return found.id

    purchase_id = db.write(write)
    found = db.read(purchase, purchase_id)
    assert found is not None
    return found


def refund_coupon(db: Database, *, partner_id: int | None, code: str | None = None,
                  purchase_id: int | None = None, scope: str, idempotency_key: str,
                  now: dt.datetime | None = None) -> Purchase:
    """Give a purchase's points back to the lots they came from and close it as refunded (the
    honouring partner by code; staff by code or purchase id). A used coupon is not refunded
    here: the partner gives the member's points back with reverseRedemption's path instead."""
    params = {"code": reward_codes.canonical(code) if code else None, "purchase": purchase_id}

    def body(conn: Connection, at: dt.datetime) -> Receipt:
        found = (find_coupon(conn, partner_id, code) if code is not None
                 else _purchase_for(conn, partner_id, purchase_id))
        reward = get(conn, found.reward_id)
        if reward is None or reward.spec.kind == "charity_pledge":
            raise RewardError("COUPON_NOT_REFUNDABLE", "a charity pledge is a donation; it is "
                                                       "not refunded", "code")
        for _ in range(2):
            if found.status == "used":
                raise RewardError("COUPON_NOT_REFUNDABLE", "this coupon was used; it cannot "
                                                           "be refunded", "code")
            if found.status == "refunded" or (found.status == "expired"
                                              and reward.spec.refund_on_expiry):
                raise RewardError("COUPON_REFUNDED", "this coupon's points were already "
                                                     "given back", "code")
            receipt = _close(conn, found, at, status="refunded",
                             from_statuses=("issued", "expired"))
            if receipt is not None:
                return receipt
            found = purchase(conn, found.id) or found  # changed meanwhile: say how
        raise RewardError("COUPON_NOT_REFUNDABLE", "this coupon changed meanwhile", "code")

    receipt = run(db, scope=scope, key=idempotency_key, operation="refundCoupon",
                  params=params, body=body, now=now)
    found = db.read(_by_closing_entry, receipt.entry_id)
    assert found is not None
    return found


def _purchase_for(conn: Connection, partner_id: int | None, purchase_id: int | None) -> Purchase:
    found = purchase(conn, purchase_id) if purchase_id is not None else None
    if found is None or (partner_id is not None and found.partner_id != partner_id):
        raise RewardError("COUPON_UNKNOWN", "no purchase with this id", "purchaseId")
    return found


def _by_closing_entry(conn: Connection, entry_id: int) -> Purchase | None:
    row = conn.execute(_PURCHASE.where(reward_purchases.c.closed_entry_id == entry_id)).first()
    return _purchase(row) if row else None


def _close(conn: Connection, found: Purchase, at: dt.datetime, *, status: str,
           from_statuses: tuple[str, ...]) -> Receipt | None:
    """Close the purchase as `status` and give its points back to the lots they came from, or
    None when it is no longer in `from_statuses`. The guarded update comes first, under the
    member's lock, so a coupon is never given back twice nor used after it was."""
    balances.lock(conn, found.member_id)
    p = reward_purchases.c
    taken = conn.execute(update(reward_purchases)
                         .where(p.id == found.id, p.status.in_(from_statuses),
                                p.closed_entry_id.is_(None))
                         .values(status=status).returning(p.id)).first()
    if taken is None:
        return None
    receipt = give_back_reward_in(conn, at, partner_id=found.partner_id,
                                  entry_id=found.entry_id, reference=f"reward:{found.reward_id}")
    conn.execute(update(reward_purchases).where(p.id == found.id)
                 .values(closed_entry_id=receipt.entry_id))
    if status == "refunded":  # the item was never had: it is for sale again
        conn.execute(update(rewards).where(rewards.c.id == found.reward_id)
                     .values(stock=rewards.c.stock + 1))
    return receipt


# ---- expiry -----------------------------------------------------------------------------------

def _expire_one(conn: Connection, row: Any, at: dt.datetime) -> str:
    found = purchase(conn, row.id)
    if found is None or found.status != "issued":
        return "gone"  # used or refunded since the list was read
    if row.refund_on_expiry and row.kind != "charity_pledge":
        closed = _close(conn, found, at, status="expired", from_statuses=("issued",))
        return "refunded" if closed is not None else "gone"
    kept = conn.execute(update(reward_purchases)
                        .where(reward_purchases.c.id == row.id,
                               reward_purchases.c.status == "issued")
                        .values(status="expired").returning(reward_purchases.c.id))
    return "expired" if kept.first() is not None else "gone"


@dataclass(frozen=True)
class ExpiryRun:
    expired: int
    refunded: int


def expire_due(db: Database, now: dt.datetime | None = None, batch: int = 500) -> ExpiryRun:
    """Unused coupons past their time become expired; those whose reward says so give their
    points back to their original lots. One transaction per coupon (a guarded update), so a
    crash loses at most the one in flight and nothing expires twice."""
    at = as_utc(now) if now is not None else utcnow()
    expired = refunded = 0
    after = 0
    while True:  # in batches, until none is due (each coupon once: ids only go up)
        due = db.read(lambda conn, after=after: conn.execute(
            select(reward_purchases.c.id, rewards.c.refund_on_expiry, rewards.c.kind)
            .select_from(reward_purchases.join(rewards,
                                               rewards.c.id == reward_purchases.c.reward_id))
            .where(reward_purchases.c.status == "issued", reward_purchases.c.expires_at <= at,
                   reward_purchases.c.id > after)
            .order_by(reward_purchases.c.id).limit(batch)).all())
        for row in due:
            outcome = db.write(_expire_one, row, at)
            expired += outcome != "gone"
            refunded += outcome == "refunded"
        if len(due) < batch:
            break
        after = due[-1].id
    return ExpiryRun(expired=expired, refunded=refunded)
