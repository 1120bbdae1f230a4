"""How earns are written on each kind of database: one writer per storage strategy, chosen once
where the `Database` is built (`db.earn_store`), not by a dialect test inside each operation.

`EarnWriter.book` is the one entry that books earns, a single earn being a batch of one: inside
the caller's transaction it drops replays, locks the members' balance rows, asks the pure plan
(`rules.plan_batch`) what to book, writes the lines no debt or programme part touches in one set
of writes, and books the others line by line (`credit.book_credit`: debt repaid first, programme
parts claimed under the member's lock). The set of writes is the strategy's: on PostgreSQL one
statement (`pg_writer.book`), elsewhere (SQLite: tests and the demo) a statement per table
(`portable_bulk.book`).

`EarnWriter.earn` books one earn: on PostgreSQL the common one (no debt; programme parts only
when its extras offer them for it, `Extras.one_statement`: tier and campaign points, budgets
taken in the statement) as one autocommit statement that claims its key itself
(`EarnWriter.statement`, `pg_writer.earn_statement`, built from the same parts as the batch's),
else, or when that answers "not handled", through `book` with one line.
`EarnWriter.first_answers` reads the stored answers the earn seam gives the retries its plan
now refuses. Tests compare what each way writes with what a single earn writes
(test_ledger_pg_earn.py, test_batch_booking.py, on both databases).

The same strategy books a redemption or donation on PostgreSQL in one call of the database
function `ledger_debit` (`debit_transaction`, `pg_debit.try_debit`); elsewhere, and
whenever it answers "not handled", `spending.book_debit` does (test_ledger_pg_debit.py compares
the two).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, select

from network import idempotency, parties
from network.auth import DeferredClaim
from network.clock import as_utc, utcnow
from network.db.clauses import one_of
from network.db.schema import member_balances
from network.ledger import observers, pg_debit, pg_writer, portable_bulk
from network.ledger.credit import book_credit
from network.ledger.errors import IdempotencyKeyReused, LedgerError, MemberNotFound
from network.ledger.receipts import Receipt
from network.ledger.rules import (
    BulkLine,
    checked_vesting,
    iso,
    plan_batch,
    receipt_of,
    request_params,
    vesting,
)
from network.member_ids import ByCard, erased, ids_by_card, with_member

T = TypeVar("T")


class Database(Protocol):
    """What the writer uses of `network.db.engine.Database`, which builds it (importing this
    module from there): a protocol, so the two do not import each other."""

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...
    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...
    def pg_statement(self, sql: str, params: Mapping[str, Any]) -> Any: ...

Result = Receipt | LedgerError
# (conn, issuer id, scope, bookings, at, booked_at) -> (entry id, lot id) per booking, in order.
WriteBookings = Callable[..., list[tuple[int, int]]]
# (Database.pg_statement, the earn's fields...) -> its Receipt, or None: "book it through `book`".
OneStatement = Callable[..., Receipt | None]


@dataclass
class Booked:
    """What `EarnWriter.book` answers: index -> Receipt or the LedgerError refusing that line,
    and how many lines it booked now (replays not counted)."""

    results: dict[int, Result] = field(default_factory=dict)
    fresh: list[int] = field(default_factory=list)  # indexes booked now, in input order

    @property
    def new(self) -> int:
        return len(self.fresh)


@dataclass(frozen=True)
class EarnWriter:
    statement: OneStatement | None
    write_bookings: WriteBookings
    # The one-call redemption or donation, or None: it answers None when the general path
    # must book the debit (spending.py).
    debit_transaction: Callable[..., Receipt | None] | None = None
    # `write_bookings` also writes the campaign_awards rows of the bookings' programme parts (in
    # its one statement), so `Extras.record_batch` does not.
    writes_awards: bool = False

    def earn(self, db: Database, *, scope: str, issuer_id: int, line: BulkLine,
             now: datetime | None, claim: DeferredClaim | None = None) -> Receipt:
        """One earn: the one statement when there is one and nothing but the base is booked,
        else `book` with this one line in a transaction of its own, the key claimed first (a
        replay is answered before anything is checked again). `claim`, the request's nonce
        claim, is made first: in the one statement, else alone before the transaction."""
        idempotency.validate_key(line.key)
        # Whoever observes this earn (a partner's webhook, observers.py) writes in its
        # transaction: the one statement checks that nobody does, else `book` below books it.
        listeners = observers.listening(scope, line.kind)
        # The programme's parts go into the one statement too when they can (`one_statement`:
        # no member limit to count under the lock), else `book` claims them under the lock.
        tiered = getattr(line.extras, "one_statement", None)
        one = self.statement is not None and (line.extras is None or tiered is not None)
        # A member named by card (`ByCard`) is looked up by the one statement, which then
        # completes the digest; any other way looks the card up first.
        card = line.member_id if isinstance(line.member_id, ByCard) else None
        digest: str | list[str] | None = (
            _digest(line, issuer_id) if card is None else
            idempotency.request_hash_around(line.kind, line.params(issuer_id), card, card.marker))
        if card is not None and (digest is None or not one):
            line, card = _found(db, line, card), None
            digest = _digest(line, issuer_id)
        assert digest is not None
        if one:
            at = now or utcnow()
            # An expiry already past may still be a replay of the first request, which the
            # transaction below answers before it refuses anything new.
            vests = vesting(line.vests_at, line.expires_at, at)
            if vests is not None:
                guard, guard_params = observers.earn_guard(scope, line.kind)
                receipt = self.statement(
                    db.pg_statement, scope=scope, key=line.key, digest=digest, kind=line.kind,
                    issuer_id=issuer_id, member_id=line.member_id, points=line.points,
                    reference=line.reference, details=line.details, vests_at=vests,
                    expires_at=line.expires_at, at=at, booked_at=iso(at), guard=guard,
                    guard_params=guard_params, tiered=tiered, claim=claim)
                if receipt is not None:
                    return receipt
        if claim is not None:
            claim.claim()  # no-op if the statement made it
        if card is not None:
            line = _found(db, line, card)
            digest = _digest(line, issuer_id)
        assert isinstance(digest, str)

        def transaction(conn: Connection) -> Receipt:
            stored = idempotency.claim(conn, scope, line.key, digest)
            if stored is not None:
                return Receipt.from_dict(stored)
            # SQLite stores a datetime's wall clock and drops its offset: only UTC compares right.
            at = as_utc(now) if now is not None else utcnow()
            checked_vesting(line.vests_at, line.expires_at, at)
            parties.require(conn, issuer_id, "partner", "network", field="issuerId")
            outcome = self.book(conn, issuer_id=issuer_id, scope=scope, lines=[line], at=at,
                                look_up_replays=False).results[0]
            if isinstance(outcome, LedgerError):
                raise outcome
            if listeners:
                observers.tell(conn, listeners, lambda: [observers.Booking(
                    scope=scope, operation=line.kind, answer=outcome.as_dict(),
                    reference=line.reference, at=at)])
            return outcome

        return db.write(transaction)

    def first_answers(self, db: Database, *, scope: str, issuer_id: int,
                      requests: Mapping[str, tuple[int, dict[str, Any]]]) -> dict[str, Result]:
        """The stored answers of earns booked under these keys (the seam asks for the retries
        its plan now refuses, `earning.plan_lines`).

        `requests` maps a key to the (member id, `request`) the caller gives `earn`. A key used
        for a different request is IdempotencyKeyReused, as `earn` would say; keys never used
        are left out."""
        def read(conn: Connection) -> dict[str, Result]:
            found: dict[str, Result] = {}
            for key, row in idempotency.stored(conn, scope, list(requests)).items():
                member_id, request = requests[key]
                if isinstance(member_id, ByCard):
                    card, member_id = member_id, _holder(conn, member_id)
                    request = with_member(request, card, member_id)
                digest = idempotency.request_hash("earn", request_params(
                    issuer_id=issuer_id, member_id=member_id, kind="earn", request=request))
                try:
                    found[key] = Receipt.from_dict(
                        idempotency.check_replay(row.request_hash, digest, row.response))
                except IdempotencyKeyReused as exc:
                    found[key] = exc
            return found

        return db.read(read)

    def book(self, conn: Connection, *, issuer_id: int, scope: str, lines: Sequence[BulkLine],
             at: datetime, look_up_replays: bool = True) -> Booked:
        """Book every line it can in the caller's transaction, keys read and remembered in
        `scope`. A database error propagates: the caller's transaction rolls back whole, so no
        line is booked. `look_up_replays=False` when the caller claimed the one line's key
        itself (`EarnWriter.earn`: `idempotency.claim`, a replay answered before this). The caller
        has checked that the issuer may issue (`parties.require`)."""
        booked = Booked()
        # Each line's request hash once: for its replay, its booking and its remembered key.
        digests = {line.key: _digest(line, issuer_id) for line in lines}
        stored = (idempotency.stored(conn, scope, list(digests)) if look_up_replays else {})
        fresh = []
        for line in lines:
            if line.key in stored:
                booked.results[line.index] = _replayed(stored[line.key], digests[line.key])
            else:
                fresh.append(line)
        if not fresh:
            return booked
        plan = plan_batch(fresh, _lock_balances(conn, {line.member_id for line in fresh}),
                          lambda line: digests[line.key], at)
        booked.results.update(plan.refused)
        booked_at = iso(at)
        if plan.bookings:
            ids = self.write_bookings(conn, issuer_id=issuer_id, scope=scope,
                                      bookings=plan.bookings, at=at, booked_at=booked_at)
            with_parts = []
            for booking, (entry_id, lot_id) in zip(plan.bookings, ids, strict=True):
                booked.results[booking.line.index] = receipt_of(booking, entry_id, lot_id,
                                                                booked_at, issuer_id)
                booked.fresh.append(booking.line.index)
                if booking.line.extras is not None:
                    with_parts.append((booking.line.extras, entry_id, booking.line.member_id,
                                       booking.parts))
            if with_parts:  # the programme notes them and takes their budgets, all at once
                with_parts[0][0].record_batch(conn, with_parts, at,
                                              awards_written=self.writes_awards)
        for line in plan.general:
            receipt = book_credit(conn, kind=line.kind, member_id=line.member_id,
                                  issuer_id=issuer_id, points=line.points,
                                  reference=line.reference, details=line.details,
                                  # the plan checked the dates: this cannot refuse
                                  vests_at=checked_vesting(line.vests_at, line.expires_at, at),
                                  expires_at=line.expires_at, at=at, extras=line.extras)
            idempotency.remember(conn, scope, line.key, digests[line.key], receipt.as_dict(), at)
            booked.results[line.index] = receipt
            booked.fresh.append(line.index)
        booked.fresh.sort()
        return booked


def _holder(conn: Connection, card: ByCard) -> int:
    found = ids_by_card(conn, {card.number}).get(card.number)
    if found is None:
        raise MemberNotFound("no member with this card number", field="cardNumber")
    return found


def _found(db: Database, line: BulkLine, card: ByCard) -> BulkLine:
    """The line with its card's holder for member (MemberNotFound if nobody holds it)."""
    member_id = db.read(_holder, card)
    return dataclasses.replace(line, member_id=member_id,
                               request=with_member(line.request, card, member_id))


def _digest(line: BulkLine, issuer_id: int) -> str:
    return idempotency.request_hash(line.kind, line.params(issuer_id))


def _replayed(row: Any, digest: str) -> Result:
    if row.request_hash == digest:
        idempotency.observe_replay()  # one per line, as a single earn's replay is one
        return Receipt.from_dict(row.response)
    return IdempotencyKeyReused("this idempotency key was already used for a different request",
                                field="idempotencyKey")


def _lock_balances(conn: Connection, member_ids: set[int]) -> dict[int, Any]:
    """The members' balance rows, locked in ascending id (like `balances.lock_many`). An erased
    member's row is left out, so the plan refuses their lines as it refuses an unknown member's
    (MEMBER_NOT_FOUND): nobody could ever spend points credited to them."""
    query = (select(member_balances.c.member_id, member_balances.c.balance,
                    member_balances.c.held, member_balances.c.debt)
             .where(one_of(conn, member_balances.c.member_id, sorted(member_ids)),
                    ~erased(member_balances.c.member_id))
             .order_by(member_balances.c.member_id))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.member_id: row for row in conn.execute(query)}


POSTGRESQL = EarnWriter(statement=pg_writer.earn_statement, write_bookings=pg_writer.book,
                        debit_transaction=pg_debit.try_debit, writes_awards=True)
PORTABLE = EarnWriter(statement=None, write_bookings=portable_bulk.book)


def earn_store(dialect: str) -> EarnWriter:
    return POSTGRESQL if dialect == "postgresql" else PORTABLE
