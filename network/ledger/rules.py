"""The ledger's rules as pure functions: plain values in, a plan of what to book out.

Like settlement's `compute`, nothing here touches a connection: the operations read their inputs
(lots, balances, stored answers), ask these rules what to book, and hand the result to a writer
(`lots`, `journal`, `balances`, or one statement on PostgreSQL: `pg_earn`, `pg_bulk`). So the
arithmetic of vesting, a batch's running balances, FIFO takes, a reversal's clawback and a debt's
repayment can be tested with no database (tests/network/test_ledger_rules.py), and every writer
books the same plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from network.clock import as_utc
from network.ledger.errors import (
    AlreadyReversed,
    InvalidInput,
    LedgerError,
    MemberNotFound,
    ReversalExceedsOriginal,
)
from network.ledger.receipts import Receipt


@dataclass
class Lot:
    """A member's lot as the rules see it (`remaining` is negative for a debt lot)."""

    id: int
    issuer_party_id: int
    remaining: int
    vests_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class Take:
    """Points taken from one lot by one debit."""

    lot: Lot
    points: int


def iso(at: datetime) -> str:
    """A receipt's `booked_at`: a string, so a replay returns exactly the first answer."""
    return as_utc(at).isoformat()


# --- Earning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    """What a plan step decides for one earn: the points and the new lot's dates (None: vests
    now, never expires). Today the contract's base points; campaign and tier effects join here."""

    points: int
    vests_at: datetime | None = None
    expires_at: datetime | None = None


class EarnLine(Protocol):
    """One earn as its caller asked for it. `request` is what a retry must repeat to be the same
    request (the purchase, not the dates the clock derived from it); `details` is recorded on the
    entry."""

    @property
    def member_id(self) -> int: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def request(self) -> dict[str, Any]: ...


L = TypeVar("L", bound=EarnLine)
# The plan step: pure, raises a LedgerError to refuse the line.
Plan = Callable[[L], Credit]


def request_params(*, issuer_id: int, member_id: int, kind: str,
                   request: dict[str, Any] | None = None, points: int | None = None,
                   vests_at: datetime | None = None, expires_at: datetime | None = None,
                   reference: str | None = None,
                   details: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an earn's idempotency hash covers (every path hashes the very same)."""
    if request is not None:
        return {"issuer": issuer_id, "member": member_id, "kind": kind, "request": request}
    return {"issuer": issuer_id, "member": member_id, "points": points, "kind": kind,
            "vests_at": vests_at, "expires_at": expires_at, "reference": reference,
            "details": details}


def vesting(vests_at: datetime | None, expires_at: datetime | None,
            at: datetime) -> datetime | None:
    """When the new lot vests (now by default); None if it would expire before it could."""
    vests = as_utc(vests_at) if vests_at is not None else at
    if expires_at is not None and as_utc(expires_at) <= max(vests, at):
        return None
    return vests


def checked_vesting(vests_at: datetime | None, expires_at: datetime | None,
                    at: datetime) -> datetime:
    """When a new lot vests; refuses one that would expire before it could (nothing written)."""
    vests = vesting(vests_at, expires_at, at)
    if vests is None:
        raise InvalidInput("expiresAt must be later than now and than vestsAt",
                           field="expiresAt")
    return vests


@dataclass(frozen=True)
class BulkLine:
    """One line of a batch, planned: its key, member, credit and what identifies its request."""

    index: int
    key: str
    member_id: int
    points: int
    vests_at: datetime
    expires_at: datetime | None
    reference: str | None
    details: dict[str, Any]
    request: dict[str, Any] | None = None  # as `ledger.earn`'s `request`

    def params(self, issuer_id: int) -> dict[str, Any]:
        """Exactly the parameters `ledger.earn` hashes, so both paths agree on a key's request."""
        return request_params(issuer_id=issuer_id, member_id=self.member_id, kind="earn",
                              points=self.points, vests_at=self.vests_at,
                              expires_at=self.expires_at, reference=self.reference,
                              details=self.details, request=self.request)


@dataclass(frozen=True)
class Booking:
    """A line the batch books, with what its receipt and idempotency record add to it."""

    line: BulkLine
    digest: str  # the idempotency request hash, as `ledger.earn` computes it
    balance: int  # the member's balance after this line (a member's lines book in input order)
    held: int


def receipt_of(booking: Booking, entry_id: int, lot_id: int, booked_at: str) -> Receipt:
    """The receipt of a batch line booked without debt, exactly as `ledger.earn` answers it."""
    return Receipt(entry_id=entry_id, kind="earn", member_id=booking.line.member_id,
                   points=booking.line.points, booked_at=booked_at, balance=booking.balance,
                   held=booking.held, lot_id=lot_id, debt=0)


class Balance(Protocol):
    @property
    def balance(self) -> int: ...
    @property
    def held(self) -> int: ...
    @property
    def debt(self) -> int: ...


@dataclass(frozen=True)
class BatchPlan:
    bookings: list[Booking]  # members without debt: booked together, set-based
    in_debt: list[BulkLine]  # members in debt: each booked as `ledger.earn` books it
    refused: dict[int, LedgerError]  # line index -> why


def plan_batch(lines: Iterable[BulkLine], balances: Mapping[int, Balance],
               digest: Callable[[BulkLine], str]) -> BatchPlan:
    """Sort a batch's fresh lines by what their member's (locked) balance row says, in input
    order: the running balance after each line of a member without debt, every line of a member
    in debt (the debt is read once, here, and repaid by the general path), unknown members
    refused."""
    running = {member_id: row.balance for member_id, row in balances.items()}
    plan = BatchPlan([], [], {})
    for line in lines:
        row = balances.get(line.member_id)
        if row is None:
            plan.refused[line.index] = MemberNotFound("no member with this id", field="memberId")
        elif row.debt:
            plan.in_debt.append(line)
        else:
            running[line.member_id] += line.points
            plan.bookings.append(Booking(line, digest(line), balance=running[line.member_id],
                                         held=row.held))
    return plan


# --- Spending -------------------------------------------------------------------------------


def fifo(available: Sequence[Lot], points: int) -> list[Take]:
    """Earliest expiry first (the order of `available`); the caller has checked they cover
    `points`."""
    takes: list[Take] = []
    left = points
    for lot in available:
        if left == 0:
            break
        taken = min(lot.remaining, left)
        takes.append(Take(lot, taken))
        left -= taken
    if left:
        raise AssertionError(f"lots short by {left} points")
    return takes


@dataclass(frozen=True)
class Repayment:
    debt_lot_id: int
    creditor_party_id: int
    take: Take  # from a freshly credited lot


def plan_repayment(debts: Sequence[tuple[int, int, int]],
                   credits: Sequence[Lot]) -> list[Repayment]:
    """Let fresh credits pay open debt lots, oldest debt first, each credit in the order given.

    `debts` are (debt lot id, creditor party id, remaining: negative); `credits` are the lots that
    may pay (the caller leaves out the expired ones: their points repay nothing).
    """
    left = [lot.remaining for lot in credits]  # by position: two credits may name one lot
    plan: list[Repayment] = []
    for debt_id, creditor, remaining in debts:
        owed = -remaining
        for i, lot in enumerate(credits):
            if owed == 0:
                break
            n = min(owed, left[i])
            if n <= 0:
                continue
            plan.append(Repayment(debt_id, creditor, Take(lot, n)))
            left[i] -= n
            owed -= n
    return plan


# --- Reversals ------------------------------------------------------------------------------


def left_to_reverse(original_points: int, reversed_points: int, asked: int | None, *,
                    noun: str, verb: str) -> int:
    """How many points a reversal takes: all that is left by default, never more than that."""
    left = original_points - reversed_points
    if left == 0:
        raise AlreadyReversed(f"this {noun} is already fully reversed", field="entryId")
    amount = left if asked is None else asked
    if amount > left:
        raise ReversalExceedsOriginal(
            f"only {left} points of this {noun} are left to {verb}, not {amount}",
            field="points")
    return amount


@dataclass(frozen=True)
class Clawback:
    """What reversing an earn takes: from the earn's own lot, then from the member's other
    spendable lots, and what is still missing becomes debt."""

    from_own: list[Take]
    from_others: list[Take]
    debt: int


def plan_clawback(own: Lot, others: Sequence[Lot], amount: int) -> Clawback:
    """`others` are the member's spendable lots, earliest expiry first, `own` left out."""
    from_own = min(own.remaining, amount)
    short = amount - from_own
    covered = min(short, sum(lot.remaining for lot in others))
    return Clawback(from_own=[Take(own, from_own)] if from_own else [],
                    from_others=fifo(others, covered) if covered else [],
                    debt=short - covered)


@dataclass(frozen=True)
class GiveBack:
    """Points of one redemption consumption returned to the lot they came from."""

    consumption_id: int
    lot_id: int
    issuer_party_id: int
    points: int


def plan_give_back(consumed: Iterable[tuple[int, int, int, int]], amount: int) -> list[GiveBack]:
    """`consumed` are a redemption's consumptions (id, lot id, issuer, points not yet given
    back), last taken first: they come back first, until `amount` is given back."""
    plan: list[GiveBack] = []
    need = amount
    for consumption_id, lot_id, issuer, open_points in consumed:
        if need == 0:
            break
        n = min(need, int(open_points))
        if n <= 0:
            continue
        need -= n
        plan.append(GiveBack(consumption_id, lot_id, issuer, n))
    if need:
        raise AssertionError(f"redemption consumptions short by {need}")
    return plan
