"""Crediting members: the earn seam (replay, else plan, else book), network bonuses.

An earn is one seam whatever asks for it: the stored answer for its idempotency key if there is
one, else the caller's plan step (a pure function: the contract's base points today, campaign and
tier effects next), else the booking. `earn_planned` is that seam for one earn and
`bulk_earn.earn_batch` for a batch; both plan through `plan_lines`, so a partner's award and its
batch share one plan step and one rule for retries: a retry gets its first answer even when the
plan would now refuse it. `earn` books points its caller already decided.

The booking's writes depend on the database, chosen once when it is built (`db.earn_store`,
network/ledger/stores.py): on PostgreSQL a common earn is one statement (`pg_earn`), and
everything it does not handle falls back to the general path here (`book_credit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from network import idempotency, parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.ledger import accounts, balances, journal, lots
from network.ledger.accounts import AccountKind
from network.ledger.errors import IdempotencyKeyReused, InvalidInput, LedgerError
from network.ledger.idempotent import run
from network.ledger.receipts import Receipt, check_points, check_reference
from network.ledger.rules import (
    Credit,
    CreditPart,
    Extras,
    L,
    Plan,
    breakdown,
    checked_vesting,
    iso,
    issued_by,
    request_params,
    vesting,
)


def earn(
    db: Database,
    *,
    scope: str,
    idempotency_key: str,
    issuer_id: int,
    member_id: int,
    points: int,
    vests_at: datetime | None = None,
    expires_at: datetime | None = None,
    reference: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
    kind: str = "earn",
    request: dict[str, Any] | None = None,
    extras: Extras | None = None,
) -> Receipt:
    """Credit `points` issued by `issuer_id` as a new lot (the caller computed the points), and
    the programme's `extras` on top, each funder's points a lot of its own (general path only:
    the one statement books the base alone).

    `request` is what identifies the request for idempotency when the caller derived some of
    these arguments from the clock (vesting and expiry from a contract's periods): a retry must
    be the same request, not the same moment. By default every argument counts.
    """
    check_points(points)
    check_reference(reference)
    params = request_params(issuer_id=issuer_id, member_id=member_id, kind=kind, points=points,
                            vests_at=vests_at, expires_at=expires_at, reference=reference,
                            details=details, request=request)
    at = now or utcnow()
    vests = vesting(vests_at, expires_at, at)

    fast = db.earn_store.earn_statement
    if fast is not None and extras is None:
        idempotency.validate_key(idempotency_key)
        # An expiry already past may still be a replay of the first request, which the general
        # path answers before it refuses anything new.
        if vests is not None:
            receipt = fast(
                db.pg_statement, scope=scope, key=idempotency_key,
                digest=idempotency.request_hash(kind, params), kind=kind, issuer_id=issuer_id,
                member_id=member_id, points=points, reference=reference, details=details,
                vests_at=vests, expires_at=expires_at, at=at, booked_at=iso(at))
            if receipt is not None:
                return receipt

    def body(conn: Connection, at: datetime) -> Receipt:
        vests = checked_vesting(vests_at, expires_at, at)
        parties.require(conn, issuer_id, "partner", "network", field="issuerId")
        return book_credit(conn, kind=kind, member_id=member_id, issuer_id=issuer_id,
                           points=points, reference=reference, details=details,
                           vests_at=vests, expires_at=expires_at, at=at, extras=extras)

    return run(db, scope=scope, key=idempotency_key, operation=kind, params=params, body=body,
               now=now)


def earn_planned(db: Database, *, scope: str, idempotency_key: str, issuer_id: int, line: L,
                 plan: Plan[L], now: datetime) -> Receipt:
    """The earn seam for one earn: its first answer if its key booked it, else `plan(line)`,
    else the booking (on PostgreSQL usually one statement, which replays a stored key too)."""
    planned = plan_lines(db, scope=scope, issuer_id=issuer_id, lines={idempotency_key: line},
                         plan=plan, now=now)[idempotency_key]
    if not isinstance(planned, Credit):
        if isinstance(planned, LedgerError):
            raise planned
        return planned
    return earn(db, scope=scope, idempotency_key=idempotency_key, issuer_id=issuer_id,
                member_id=line.member_id, points=planned.points, vests_at=planned.vests_at,
                expires_at=planned.expires_at, reference=line.reference, details=line.details,
                now=now, request=line.request, extras=planned.extras)


def plan_lines(db: Database, *, scope: str, issuer_id: int, lines: Mapping[str, L],
               plan: Plan[L], now: datetime) -> dict[str, Credit | Receipt | LedgerError]:
    """key -> the Credit to book, or the first answer of a line the plan now refuses, or why.

    The plan runs first, and the stored answers are read only for the lines it refuses, since
    that costs a read and the booking replays a stored key anyway; the outcome is the seam's
    rule all the same: a partner's contract may have changed since the first request was
    booked (explicit points no longer allowed, a rate at which the amount earns nothing, no
    contract in force), and the retry of a booked request must still get its first answer, or a
    till that lost it would award the purchase again under a new key.
    """
    planned: dict[str, Credit | Receipt | LedgerError] = {}
    refused: dict[str, L] = {}
    for key, line in lines.items():
        try:
            credit = plan(line)
            check_points(credit.points)
            checked_vesting(credit.vests_at, credit.expires_at, as_utc(now))
            check_reference(line.reference)
            planned[key] = credit
        except LedgerError as refusal:
            planned[key] = refusal
            refused[key] = line
    if refused:
        planned.update(db.read(lambda conn: first_answers(
            conn, scope=scope, issuer_id=issuer_id,
            requests={key: (line.member_id, line.request) for key, line in refused.items()})))
    return planned


def book_credit(conn: Connection, *, kind: str, member_id: int, issuer_id: int, points: int,
                reference: str | None, details: dict[str, Any] | None,
                vests_at: datetime, expires_at: datetime | None, at: datetime,
                extras: Extras | None = None) -> Receipt:
    """An earn's writes inside the caller's transaction, a member's open debt repaid first.

    `earn` runs it in a transaction of its own; a batch runs it for its members in debt inside the
    batch's one transaction (bulk_earn.book_earns), so the batch is booked whole or not at all.
    The caller has checked the issuer and the vesting (`rules.checked_vesting`, which refuses
    before anything is written, so a batch can report it for the line and go on); the member's
    balance row is locked by the first write (or already, by the batch).

    With `extras`, the member's row is locked first and the extras claimed under it (budgets
    and member limits are exact only there); the entry then books the base and every part, one
    issuance posting and one lot per issuing party, and the parts are recorded against it.
    """
    # In UTC, like `vests`: SQLite would store another offset's wall clock as if it were UTC.
    expiry = as_utc(expires_at) if expires_at is not None else None
    parts: tuple[CreditPart, ...] = ()
    if extras is not None:
        balances.lock(conn, member_id)
        parts = extras.claim(conn, member_id, at)
    row, entry_id, credited = _credit(conn, kind=kind, member_id=member_id, issuer_id=issuer_id,
                                      issued=issued_by(issuer_id, points, parts),
                                      reference=reference, details=details, vests_at=vests_at,
                                      expires_at=expiry, at=at)
    if extras is not None:  # also with no parts: the programme may note more (a tier upgrade)
        extras.record(conn, entry_id, member_id, parts, at)
    debt = row.debt
    if debt:
        debt -= lots.repay_debts(conn, member_id=member_id, entry_id=entry_id, credits=credited,
                                 now=at)
    return Receipt(entry_id=entry_id, kind=kind, member_id=member_id,
                   points=points + sum(p.points for p in parts), booked_at=iso(at),
                   balance=row.balance, held=row.held, lot_id=credited[0].id, debt=debt,
                   breakdown=breakdown(issuer_id, points, parts))


def _credit(conn: Connection, *, kind: str, member_id: int, issuer_id: int,
            issued: Mapping[int, int], reference: str | None, details: dict[str, Any] | None,
            vests_at: datetime, expires_at: datetime | None,
            at: datetime) -> tuple[balances.BalanceRow, int, list[lots.Lot]]:
    """Move the balance, book the entry (an issuance posting per issuing party, the wallet's
    one), and create a lot per issuing party, the earning partner's first (`rules.issued_by`)."""
    points = sum(issued.values())
    row = balances.move(conn, member_id, at, balance=points)
    entry_id = journal.book(
        conn, kind=kind, member_id=member_id, party_id=issuer_id, points=points,
        reference=reference, details=details, booked_at=at,
        lines=[*(accounts.party(AccountKind.ISSUANCE, party, -n) for party, n in issued.items()),
               accounts.wallet(member_id, points)],
    )
    created = [lots.create(conn, member_id=member_id, entry_id=entry_id, issuer_party_id=party,
                           points=n, vests_at=vests_at, expires_at=expires_at, now=at)
               for party, n in issued.items()]
    return row, entry_id, created


def first_answers(
    conn: Connection, *, scope: str, issuer_id: int,
    requests: Mapping[str, tuple[int, dict[str, Any]]],
) -> dict[str, Receipt | LedgerError]:
    """The stored answers of earns booked under these keys (`plan_lines`: for the retries the
    plan now refuses).

    `requests` maps a key to the (member id, `request`) the caller gives `earn`. A key used for a
    different request is IdempotencyKeyReused, as `earn` would say; keys never used are left out.
    """
    found: dict[str, Receipt | LedgerError] = {}
    for key, row in idempotency.stored(conn, scope, list(requests)).items():
        member_id, request = requests[key]
        digest = idempotency.request_hash("earn", request_params(
            issuer_id=issuer_id, member_id=member_id, kind="earn", request=request))
        try:
            found[key] = Receipt.from_dict(
                idempotency.check_replay(row.request_hash, digest, row.response))
        except IdempotencyKeyReused as exc:
            found[key] = exc
    return found


def award_bonus(db: Database, *, scope: str, idempotency_key: str, member_id: int, points: int,
                reason: str, expires_at: datetime | None = None,
                now: datetime | None = None) -> Receipt:
    """A network-funded credit (sign-up, birthday, referral…): the network is the issuer."""
    if not reason or len(reason) > 200:
        raise InvalidInput("a bonus needs a reason of at most 200 characters", field="reason")
    network_id = db.read(parties.network_party_id)
    return earn(db, scope=scope, idempotency_key=idempotency_key, issuer_id=network_id,
                member_id=member_id, points=points, expires_at=expires_at, reference=reason,
                details={"reason": reason}, now=now, kind="bonus")


