"""Awarding points for a purchase, one line or a batch: the contract decides the points, the
ledger books them.

A batch's lines are judged one by one: a till uploading 1,000 receipts wants the 997 good ones
booked and the 3 bad ones named. Its booking is all or nothing: every good line is booked in ONE
transaction (members in debt included), so an error from the database books none of them and the
batch's answer is that error, never a partial booking behind it. Each line gets the idempotency
key `<key>#<index>` (in a scope of its own, `bulk_earn.lines_scope`), so retrying the whole batch
books nothing twice and re-tries only the lines that were refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from network import ledger
from network.db.engine import Database
from network.ledger.bulk_earn import BulkLine, book_earns, lines_scope
from network.ledger.earning import first_answers
from network.ledger.errors import InvalidInput, LedgerError
from network.ledger.receipts import Receipt, check_points, check_reference
from partners.contracts import TermsLoader, in_force
from partners.terms import NoContract, Terms, plan_earn

MAX_BATCH_LINES = 1000


@dataclass(frozen=True)
class AwardLine:
    member_id: int
    amount_minor: int
    currency: str
    points: int | None = None
    reference: str | None = None


@dataclass(frozen=True)
class LineResult:
    index: int
    receipt: Receipt | None = None
    error: LedgerError | None = None


def award_points(db: Database, *, partner_id: int, line: AwardLine, network_currency: str,
                 scope: str, idempotency_key: str, now: datetime, terms: Terms | None = None,
                 load_terms: TermsLoader = in_force) -> Receipt:
    """`terms` when the caller has them at hand, else `load_terms` reads them."""
    try:
        terms = terms or db.read(load_terms, partner_id, now)
        plan = plan_earn(terms, amount_minor=line.amount_minor, currency=line.currency,
                         network_currency=network_currency, explicit_points=line.points, at=now)
    except LedgerError as refusal:
        first = _first_answers(db, partner_id, scope, {idempotency_key: line})
        if idempotency_key not in first:
            raise
        answer = first[idempotency_key]
        if isinstance(answer, LedgerError):
            raise answer from refusal
        return answer
    return ledger.earn(
        db, scope=scope, idempotency_key=idempotency_key, issuer_id=partner_id,
        member_id=line.member_id, points=plan.points, vests_at=plan.vests_at,
        expires_at=plan.expires_at, reference=line.reference, details=_details(line),
        now=now, request=_request(line),
    )


def _details(line: AwardLine) -> dict[str, object]:
    return {"amount_minor": line.amount_minor, "currency": line.currency,
            "points_given": line.points}


def _request(line: AwardLine) -> dict[str, object]:
    """What the partner sent: a retry of the same purchase is the same request, even though the
    contract's vesting and expiry dates computed from it move with the clock."""
    return {"member": line.member_id, "reference": line.reference, **_details(line)}


def _first_answers(db: Database, partner_id: int, scope: str,
                   lines: dict[str, AwardLine]) -> dict[str, Receipt | LedgerError]:
    """What keys already booked answered (`ledger.first_answers`): asked only once the contract
    refuses a line, since a retry of a booked award must get its first answer whatever the
    contract says now."""
    return db.read(lambda conn: first_answers(
        conn, scope=scope, issuer_id=partner_id,
        requests={key: (line.member_id, _request(line)) for key, line in lines.items()}))


def line_key(idempotency_key: str, index: int) -> str:
    return f"{idempotency_key}#{index}"


def check_batch_size(count: int) -> None:
    if count == 0:
        raise InvalidInput("a batch needs at least one line", field="lines", code="BATCH_EMPTY")
    if count > MAX_BATCH_LINES:
        raise InvalidInput(f"a batch has at most {MAX_BATCH_LINES} lines, got {count}",
                           field="lines", code="BATCH_TOO_LARGE")


def award_batch(db: Database, *, partner_id: int, lines: list[AwardLine | LedgerError],
                network_currency: str, scope: str, idempotency_key: str,
                now: datetime) -> list[LineResult]:
    """Lines that failed to parse arrive as the LedgerError to report for them.

    Valid lines are booked together in one transaction (network/ledger/bulk_earn.py), those of
    members in debt too (their debt repaid first, as `ledger.earn` does): a database error
    propagates with nothing booked.
    """
    check_batch_size(len(lines))
    try:
        terms: Terms | None = db.read(in_force, partner_id, now)
    except NoContract as exc:
        terms, no_contract = None, exc
    results: dict[int, Receipt | LedgerError] = {}
    refused: dict[int, AwardLine] = {}  # the lines the contract refuses now
    bulk: list[BulkLine] = []
    for index, line in enumerate(lines):
        if isinstance(line, LedgerError):
            results[index] = line
            continue
        try:
            if terms is None:
                raise no_contract
            plan = plan_earn(terms, amount_minor=line.amount_minor, currency=line.currency,
                             network_currency=network_currency, explicit_points=line.points,
                             at=now)
            check_points(plan.points)
            check_reference(line.reference)
        except LedgerError as exc:
            results[index] = exc
            refused[index] = line
            continue
        bulk.append(BulkLine(index, line_key(idempotency_key, index), line.member_id,
                             plan.points, plan.vests_at, plan.expires_at, line.reference,
                             _details(line), _request(line)))
    if refused:  # a retried batch: lines booked under earlier terms answer as they did then
        first = _first_answers(db, partner_id, lines_scope(scope), {
            line_key(idempotency_key, index): line for index, line in refused.items()})
        for index in refused:
            results[index] = first.get(line_key(idempotency_key, index), results[index])
    if terms is None and not any(isinstance(r, Receipt) for r in results.values()):
        raise no_contract  # nothing to replay: one error for the batch, not one per line
    if bulk:
        booked = db.write(lambda conn: book_earns(conn, issuer_id=partner_id, scope=scope,
                                                  batch_key=idempotency_key, lines=bulk, at=now))
        results.update(booked)
    return [LineResult(i, receipt=r) if isinstance(r, Receipt) else LineResult(i, error=r)
            for i, r in sorted(results.items())]
