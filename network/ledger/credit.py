"""A credit booked line by line, with what the set-based writes leave out: a member's open debt
repaid first (`lots.repay_debts`, which plans with the pure `rules.plan_repayment`) and the
programme's parts (campaign and tier points, one issuance posting and one lot per funder).

The earn writer (network/ledger/stores.py) books every line of a member in debt or with
programme parts this way, on every database; everything else it books in one set of writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from network.clock import as_utc
from network.ledger import accounts, balances, journal, lots
from network.ledger.accounts import AccountKind
from network.ledger.receipts import Receipt
from network.ledger.rules import CreditPart, Extras, breakdown, iso, issued_by


def book_credit(conn: Connection, *, kind: str, member_id: int, issuer_id: int, points: int,
                reference: str | None, details: dict[str, Any] | None,
                vests_at: datetime, expires_at: datetime | None, at: datetime,
                extras: Extras | None = None) -> Receipt:
    """An earn's writes inside the caller's transaction, a member's open debt repaid first.

    The earn writer (`stores.EarnWriter.book`) runs it for each line of a member in debt or with
    programme parts, inside the caller's one transaction (a batch is booked whole or not at all);
    the programme's fact awards run it for the points a fact gives. The caller has checked the
    issuer and the vesting (`rules.checked_vesting`, which refuses before anything is written, so
    a batch can report it for the line and go on); the member's balance row is locked by the
    first write (or already, by the writer).

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
        spent = extras.record(conn, entry_id, member_id, parts, at)
        if isinstance(spent, balances.BalanceRow):  # a reward took new points: what is left
            row, credited = spent, lots.of_entry(conn, entry_id)
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
