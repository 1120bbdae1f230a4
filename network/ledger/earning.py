"""Crediting members: the earn seam (replay, else plan, else book), network bonuses.

An earn is one seam whatever asks for it: the stored answer for its idempotency key if there is
one, else the caller's plan step (a pure function: the contract's base points, campaign and tier
effects), else the booking. `earn_planned` is that seam for one earn and `bulk_earn.earn_batch`
for a batch; both plan through `plan_lines`, so a partner's award and its batch share one plan
step and one rule for retries: a retry gets its first answer even when the plan would now refuse
it. `earn` books points its caller already decided.

The seam is one pass over three values: the plan step (the caller's), the pure checks of what it
planned (`rules.planned_line`), and the database's earn writer, chosen once when the database is
built (`db.earn_store`, network/ledger/stores.py), which answers a refused line's retry from its
stored answers and books the rest: on PostgreSQL the common single earn as one statement, every
other earn, one or a batch, through its one `book`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from network import parties
from network.auth import DeferredClaim
from network.db.engine import Database
from network.ledger.errors import InvalidInput, LedgerError
from network.ledger.receipts import Receipt, check_points, check_reference
from network.ledger.rules import BulkLine, Extras, L, Plan, planned_line


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
    return db.earn_store.earn(db, scope=scope, issuer_id=issuer_id, now=now, line=BulkLine(
        0, idempotency_key, member_id, points, vests_at, expires_at, reference, details,
        request, extras, kind))


def earn_planned(db: Database, *, scope: str, idempotency_key: str, issuer_id: int, line: L,
                 plan: Plan[L], now: datetime, claim: DeferredClaim | None = None) -> Receipt:
    """The earn seam for one earn: its first answer if its key booked it, else `plan(line)`,
    else the booking (on PostgreSQL usually one statement, which replays a stored key too,
    and makes the request's nonce `claim` if there is one: `EarnWriter.earn`)."""
    planned = plan_lines(db, scope=scope, issuer_id=issuer_id, lines={idempotency_key: (0, line)},
                         plan=plan, now=now)[idempotency_key]
    if isinstance(planned, LedgerError):
        raise planned
    if isinstance(planned, Receipt):
        return planned
    return db.earn_store.earn(db, scope=scope, issuer_id=issuer_id, line=planned, now=now,
                              claim=claim)


def plan_lines(db: Database, *, scope: str, issuer_id: int, lines: Mapping[str, tuple[int, L]],
               plan: Plan[L], now: datetime) -> dict[str, BulkLine | Receipt | LedgerError]:
    """key -> the line to book, or the first answer of a line the plan now refuses, or why;
    `lines` maps each key to the line's index (its place in a batch) and the line.

    The plan runs first (`rules.planned_line`), and the stored answers are read only for the
    lines it refuses (`EarnWriter.first_answers`), since that costs a read and the booking
    replays a stored key anyway; the outcome is the seam's rule all the same: a partner's
    contract may have changed since the first request was booked (explicit points no longer
    allowed, a rate at which the amount earns nothing, no contract in force), and the retry of a
    booked request must still get its first answer, or a till that lost it would award the
    purchase again under a new key.
    """
    planned = {key: planned_line(plan, line, index=index, key=key, at=now)
               for key, (index, line) in lines.items()}
    refused = {key: lines[key][1] for key, outcome in planned.items()
               if isinstance(outcome, LedgerError)}
    if refused:
        planned.update(db.earn_store.first_answers(
            db, scope=scope, issuer_id=issuer_id,
            requests={key: (line.member_id, line.request) for key, line in refused.items()}))
    return planned


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


