"""Crediting members: earn at a partner, network bonuses, and taking an earn back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from network import idempotency, parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.db.schema import journal_entries
from network.db.schema import lots as lots_table
from network.ledger import accounts, balances, journal, lots, pg_earn
from network.ledger.accounts import AccountKind
from network.ledger.errors import (
    AlreadyReversed,
    EntryNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    ReversalExceedsOriginal,
)
from network.ledger.receipts import Receipt, check_points, check_reference, run


def _iso(at: datetime) -> str:
    return as_utc(at).isoformat()


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
) -> Receipt:
    """Credit `points` issued by `issuer_id` as a new lot (the caller computed the points).

    `request` is what identifies the request for idempotency when the caller derived some of
    these arguments from the clock (vesting and expiry from a contract's periods): a retry must
    be the same request, not the same moment. By default every argument counts.
    """
    check_points(points)
    check_reference(reference)
    params = request_params(issuer_id=issuer_id, member_id=member_id, kind=kind, points=points,
                            vests_at=vests_at, expires_at=expires_at, reference=reference,
                            details=details, request=request)

    if db.dialect == "postgresql":
        idempotency.validate_key(idempotency_key)
        at = now or utcnow()
        vests = _vesting(vests_at, expires_at, at)
        # An expiry already past may still be a replay of the first request, which the general
        # path answers before it refuses anything new.
        if vests is not None:
            receipt = pg_earn.try_earn(
                db, scope=scope, key=idempotency_key,
                digest=idempotency.request_hash(kind, params), kind=kind, issuer_id=issuer_id,
                member_id=member_id, points=points, reference=reference, details=details,
                vests_at=vests, expires_at=expires_at, at=at, booked_at=_iso(at))
            if receipt is not None:
                return receipt

    def body(conn: Connection, at: datetime) -> Receipt:
        checked_vesting(vests_at, expires_at, at)
        parties.require(conn, issuer_id, "partner", "network", field="issuerId")
        return book_credit(conn, kind=kind, member_id=member_id, issuer_id=issuer_id,
                           points=points, reference=reference, details=details,
                           vests_at=vests_at, expires_at=expires_at, at=at)

    return run(db, scope=scope, key=idempotency_key, operation=kind, params=params, body=body,
               now=now)


def _vesting(vests_at: datetime | None, expires_at: datetime | None,
             at: datetime) -> datetime | None:
    """When the new lot vests (now by default); None if it would expire before it could."""
    vests = as_utc(vests_at) if vests_at is not None else at
    if expires_at is not None and as_utc(expires_at) <= max(vests, at):
        return None
    return vests


def checked_vesting(vests_at: datetime | None, expires_at: datetime | None,
                    at: datetime) -> datetime:
    """When a new lot vests; refuses one that would expire before it could (nothing written)."""
    vests = _vesting(vests_at, expires_at, at)
    if vests is None:
        raise InvalidInput("expiresAt must be later than now and than vestsAt",
                           field="expiresAt")
    return vests


def book_credit(conn: Connection, *, kind: str, member_id: int, issuer_id: int, points: int,
                reference: str | None, details: dict[str, Any] | None,
                vests_at: datetime | None, expires_at: datetime | None,
                at: datetime) -> Receipt:
    """An earn's writes inside the caller's transaction, a member's open debt repaid first.

    `earn` runs it in a transaction of its own; a batch runs it for its members in debt inside the
    batch's one transaction (bulk_earn.book_earns), so the batch is booked whole or not at all.
    The caller has checked the issuer. A refusal (`checked_vesting`) comes before any write, so
    a batch can report it for the line and go on; the member's balance row is locked by the
    first write (or already, by the batch).
    """
    vests = checked_vesting(vests_at, expires_at, at)
    # In UTC, like `vests`: SQLite would store another offset's wall clock as if it were UTC.
    expiry = as_utc(expires_at) if expires_at is not None else None
    row, entry_id, lot = _credit(conn, kind=kind, member_id=member_id, issuer_id=issuer_id,
                                 points=points, reference=reference, details=details,
                                 vests_at=vests, expires_at=expiry, at=at)
    debt = row.debt
    if debt:
        debt -= lots.repay_debts(conn, member_id=member_id, entry_id=entry_id, credits=[lot],
                                 now=at)
    return Receipt(entry_id=entry_id, kind=kind, member_id=member_id, points=points,
                   booked_at=_iso(at), balance=row.balance, held=row.held, lot_id=lot.id,
                   debt=debt)


def _credit(conn: Connection, *, kind: str, member_id: int, issuer_id: int, points: int,
            reference: str | None, details: dict[str, Any] | None, vests_at: datetime,
            expires_at: datetime | None, at: datetime) -> tuple[balances.BalanceRow, int, lots.Lot]:
    """Move the balance, book the entry with its two postings, and create the lot."""
    row = balances.move(conn, member_id, at, balance=points)
    entry_id = journal.book(
        conn, kind=kind, member_id=member_id, party_id=issuer_id, points=points,
        reference=reference, details=details, booked_at=at,
        lines=[accounts.party(AccountKind.ISSUANCE, issuer_id, -points),
               accounts.wallet(member_id, points)],
    )
    lot = lots.create(conn, member_id=member_id, entry_id=entry_id, issuer_party_id=issuer_id,
                      points=points, vests_at=vests_at, expires_at=expires_at, now=at)
    return row, entry_id, lot


def request_params(*, issuer_id: int, member_id: int, kind: str,
                   request: dict[str, Any] | None = None, points: int | None = None,
                   vests_at: datetime | None = None, expires_at: datetime | None = None,
                   reference: str | None = None,
                   details: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an earn's idempotency hash covers (the bulk path hashes the very same)."""
    if request is not None:
        return {"issuer": issuer_id, "member": member_id, "kind": kind, "request": request}
    return {"issuer": issuer_id, "member": member_id, "points": points, "kind": kind,
            "vests_at": vests_at, "expires_at": expires_at, "reference": reference,
            "details": details}


def first_answers(
    conn: Connection, *, scope: str, issuer_id: int,
    requests: Mapping[str, tuple[int, dict[str, Any]]],
) -> dict[str, Receipt | LedgerError]:
    """The stored answers of earns booked under these keys, for retries their caller now refuses.

    `requests` maps a key to the (member id, `request`) the caller gives `earn`. A partner's
    contract turns a purchase into points, and it may have changed since the first request was
    booked (explicit points no longer allowed, a rate at which the amount earns nothing, no
    contract in force): the retry of a booked request must still get its first answer, or a till
    that lost it would award the purchase again under a new key. A key used for a different
    request is IdempotencyKeyReused, as `earn` would say; keys never used are left out.
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


def reversed_so_far(conn: Connection, entry_id: int, kind: str) -> int:
    # int(): PostgreSQL's SUM over bigint is numeric, and points are never Decimals.
    return int(conn.execute(
        select(func.coalesce(func.sum(journal_entries.c.points), 0))
        .where(journal_entries.c.reverses_entry_id == entry_id, journal_entries.c.kind == kind)
    ).scalar_one())


def load_original(conn: Connection, entry_id: int, partner_id: int, kinds: tuple[str, ...],
                  noun: str) -> Any:
    """The entry to reverse, only if it is the caller's: another partner's looks like no entry."""
    original = conn.execute(select(journal_entries).where(journal_entries.c.id == entry_id)).first()
    if original is None or original.party_id != partner_id or original.kind not in kinds:
        raise EntryNotFound(f"no {noun} with this id for this partner", field="entryId")
    return original


def reverse_earn(
    db: Database,
    *,
    scope: str,
    idempotency_key: str,
    partner_id: int,
    entry_id: int,
    points: int | None = None,
    reference: str | None = None,
    now: datetime | None = None,
) -> Receipt:
    """Claw back an earn, fully or partly (a refund of the purchase that earned the points).

    Points come first from the earn's own lot, then from the member's other spendable lots
    (earliest expiry first, recorded as `clawback` consumptions owed to this partner). What is
    still missing becomes a debt lot: this is the only way a member's balance can go negative,
    and later credits repay it first.
    """
    if points is not None:
        check_points(points)
    check_reference(reference)
    params = {"partner": partner_id, "entry": entry_id, "points": points, "reference": reference}

    def body(conn: Connection, at: datetime) -> Receipt:
        original = load_original(conn, entry_id, partner_id, ("earn",), "earn")
        member_id = original.member_id
        balances.lock(conn, member_id)
        left = original.points - reversed_so_far(conn, entry_id, "reverse_earn")
        if left == 0:
            raise AlreadyReversed("this earn is already fully reversed", field="entryId")
        amount = left if points is None else points
        if amount > left:
            raise ReversalExceedsOriginal(
                f"only {left} points of this earn are left to reverse, not {amount}",
                field="points")
        new_id = journal.book(
            conn, kind="reverse_earn", member_id=member_id, party_id=partner_id, points=amount,
            reference=reference, reverses_entry_id=entry_id, booked_at=at,
            lines=[accounts.wallet(member_id, -amount),
                   accounts.party(AccountKind.ISSUANCE, partner_id, amount)],
        )
        own = conn.execute(
            select(lots_table.c.id, lots_table.c.issuer_party_id, lots_table.c.remaining,
                   lots_table.c.vests_at, lots_table.c.expires_at)
            .where(lots_table.c.entry_id == entry_id)
        ).first()
        from_own = min(own.remaining, amount)
        if from_own:
            take = lots.Take(lots.Lot(*own), from_own)
            lots.take(conn, [take])
            lots.consume(conn, entry_id=new_id, member_id=member_id, takes=[take],
                         kind="reversal", sink_party_id=partner_id, booked_at=at)
        short = amount - from_own
        others = [lot for lot in lots.spendable(conn, member_id, at) if lot.id != own.id]
        covered = min(short, sum(lot.remaining for lot in others))
        if covered:
            takes = lots.fifo(others, covered)
            lots.take(conn, takes)
            lots.consume(conn, entry_id=new_id, member_id=member_id, takes=takes,
                         kind="clawback", sink_party_id=partner_id, booked_at=at)
        debt = short - covered
        if debt:
            lots.create(conn, member_id=member_id, entry_id=new_id, issuer_party_id=partner_id,
                        points=-debt, vests_at=at, expires_at=None, now=at)
        row = balances.move(conn, member_id, at, balance=-amount, debt=debt)
        return Receipt(entry_id=new_id, kind="reverse_earn", member_id=member_id, points=amount,
                       booked_at=_iso(at), balance=row.balance, held=row.held, debt=row.debt)

    return run(db, scope=scope, key=idempotency_key, operation="reverse_earn", params=params,
               body=body, now=now)
