"""Crediting members: the earn seam (replay, else plan, else book), network bonuses.

An earn is one seam whatever asks for it: the stored answer for its idempotency key if there is
one, else the caller's plan step (a pure function: the contract's base points today, campaign and
tier effects next), else the booking. `earn_planned` is that seam for one earn and
`bulk_earn.earn_batch` for a batch; both plan through `plan_lines`, so a partner's award and its
batch share one plan step and one rule for retries: a retry gets its first answer even when the
plan would now refuse it. `earn` books points its caller already decided.

The booking is the database's earn writer, chosen once when it is built (`db.earn_store`,
network/ledger/stores.py): one `book` for a batch and for one earn (a batch of one), and on
PostgreSQL the common single earn as one statement (`pg_writer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from network import idempotency, parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.ledger.errors import IdempotencyKeyReused, InvalidInput, LedgerError
from network.ledger.receipts import Receipt, check_points, check_reference
from network.ledger.rules import (
    BulkLine,
    Credit,
    Extras,
    L,
    Plan,
    checked_vesting,
    iso,
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
    the programme's `extras` on top, each funder's points a lot of its own.

    `request` is what identifies the request for idempotency when the caller derived some of
    these arguments from the clock (vesting and expiry from a contract's periods): a retry must
    be the same request, not the same moment. By default every argument counts.
    """
    check_points(points)
    check_reference(reference)
    return _book(db, scope=scope, issuer_id=issuer_id, now=now, line=BulkLine(
        0, idempotency_key, member_id, points, vests_at, expires_at, reference, details,
        request, extras, kind))


def earn_planned(db: Database, *, scope: str, idempotency_key: str, issuer_id: int, line: L,
                 plan: Plan[L], now: datetime) -> Receipt:
    """The earn seam for one earn: its first answer if its key booked it, else `plan(line)`,
    else the booking (on PostgreSQL usually one statement, which replays a stored key too)."""
    planned = plan_lines(db, scope=scope, issuer_id=issuer_id, lines={idempotency_key: line},
                         plan=plan, now=now)[idempotency_key]
    if isinstance(planned, LedgerError):
        raise planned
    if isinstance(planned, Receipt):
        return planned
    return _book(db, scope=scope, issuer_id=issuer_id, now=now, line=BulkLine(
        0, idempotency_key, line.member_id, planned.points, planned.vests_at,
        planned.expires_at, line.reference, line.details, line.request, planned.extras))


def _book(db: Database, *, scope: str, issuer_id: int, line: BulkLine,
          now: datetime | None) -> Receipt:
    """One earn through the database's writer (`db.earn_store`): its one statement when it has
    one and nothing but the base is booked, else its `book` with this one line, the key claimed
    first (a replay is answered before anything is checked again)."""
    idempotency.validate_key(line.key)
    digest = idempotency.request_hash(line.kind, line.params(issuer_id))
    writer = db.earn_store
    if writer.statement is not None and line.extras is None:
        at = now or utcnow()
        # An expiry already past may still be a replay of the first request, which `book`'s
        # way answers before it refuses anything new.
        vests = vesting(line.vests_at, line.expires_at, at)
        if vests is not None:
            receipt = writer.statement(
                db.pg_statement, scope=scope, key=line.key, digest=digest, kind=line.kind,
                issuer_id=issuer_id, member_id=line.member_id, points=line.points,
                reference=line.reference, details=line.details, vests_at=vests,
                expires_at=line.expires_at, at=at, booked_at=iso(at))
            if receipt is not None:
                return receipt

    def transaction(conn: Connection) -> Receipt:
        stored = idempotency.claim(conn, scope, line.key, digest)
        if stored is not None:
            return Receipt.from_dict(stored)
        # SQLite stores a datetime's wall clock and drops its offset: only UTC compares right.
        at = as_utc(now) if now is not None else utcnow()
        checked_vesting(line.vests_at, line.expires_at, at)
        parties.require(conn, issuer_id, "partner", "network", field="issuerId")
        outcome = writer.book(conn, issuer_id=issuer_id, scope=scope, lines=[line], at=at,
                              look_up_replays=False).results[0]
        if isinstance(outcome, LedgerError):
            raise outcome
        return outcome

    return db.write(transaction)


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


