"""The ledger's rules as pure functions: plain values in, a plan of what to book out.

Like settlement's `compute`, nothing here touches a connection: the operations read their inputs
(lots, balances, stored answers), ask these rules what to book, and hand the result to a writer
(`lots`, `journal`, `balances`, or one statement on PostgreSQL: `pg_writer`). So the
arithmetic of vesting, a batch's running balances, FIFO takes, a reversal's clawback and a debt's
repayment can be tested with no database (tests/network/test_ledger_rules.py), and every writer
books the same plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from network.clock import as_utc
from network.ledger.errors import (
    AlreadyReversed,
    InvalidInput,
    LedgerError,
    MemberNotFound,
    ReversalExceedsOriginal,
)
from network.ledger.receipts import Receipt, check_points, check_reference

if TYPE_CHECKING:
    from sqlalchemy import Connection


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


class CreditPart(NamedTuple):
    """Points an earn adds on top of its base, issued by `issuer_id` (the funder: the lot's
    issuer, so settlement bills it), and why: a campaign (its id and code) or a tier (its code).
    """

    issuer_id: int
    points: int
    source: str  # "campaign" | "tier"
    code: str
    campaign_id: int | None = None


class Extras(Protocol):
    """What a plan adds to the base points, settled inside the booking transaction once the
    member's balance row is locked: `claim` re-checks what only the lock makes exact (budgets,
    member limits) and answers the parts to book; `record` notes them against the entry and,
    when it spent some of the new points at once (a campaign's reward), answers the member's
    balance row after that spend (else None)."""

    def claim(self, conn: Connection, member_id: int,
              at: datetime) -> tuple[CreditPart, ...]: ...

    def record(self, conn: Connection, entry_id: int, member_id: int,
               parts: tuple[CreditPart, ...], at: datetime) -> Any: ...

    @property
    def one_statement(self) -> TieredCredit | None:
        """The parts for the one-statement earn, when they need nothing the lock makes exact
        beyond the budgets the statement takes itself; None: `claim` under the lock."""
        ...

    @property
    def batch_parts(self) -> tuple[CreditPart, ...] | None:
        """The parts as planned, when a batch may book them with its other lines in one set of
        writes (`record_batch` then takes the budgets); None: `claim` under the lock."""
        ...

    def record_batch(self, conn: Connection,
                     booked: Sequence[tuple[Extras, int, int, tuple[CreditPart, ...]]],
                     at: datetime, *, awards_written: bool = False) -> None:
        """After a batch's set of writes: note every (extras, entry id, member id, parts) it
        booked with `batch_parts` (unless the writes did, `awards_written`), and take their
        budgets; a budget short raises RetryableConflict after making those extras answer
        `batch_parts` None."""
        ...


@dataclass(frozen=True)
class TieredCredit:
    """The programme's parts of one earn for each tier the member may turn out to hold, so the
    one-statement earn on PostgreSQL (pg_writer) reads the member's tier itself and books the
    parts of the tier in force, with no read before it. `parts[k]` are the parts for the tier of
    rank k (`codes[k]`, lowest first, reached at `thresholds[k]` points earned since `since`);
    with tiers off, `codes` is empty and `parts` has one entry."""

    codes: tuple[str, ...]
    thresholds: tuple[int, ...]
    since: datetime
    parts: tuple[tuple[CreditPart, ...], ...]
    # Per rank, the member limits of the campaigns in its parts: (campaign id, per day, week,
    # month, ever; None: no such limit). The statement books nothing if one is reached, counting
    # awards since the starts of the day, week and month (`periods`) as the programme counts
    # them, an earn reversed in `limited`'s campaigns not counted.
    limits: tuple[tuple[tuple[int, int | None, int | None, int | None, int | None], ...], ...]
    periods: tuple[datetime, datetime, datetime]
    limited: tuple[int, ...]
    # Which slot of each campaign's budget the statement takes the points from (the member's,
    # network/programme/budgets.py; if it is short the general way takes them from all slots).
    budget_slot: int = 0
    # When the plans hold exactly one campaign with member limits: the parts per rank for a
    # member who has reached its limit (the campaign skipped, as the rules skip it), which the
    # statement books when it counts the limit reached; None: it hands such an earn over.
    parts_if_reached: tuple[tuple[CreditPart, ...], ...] | None = None


@dataclass(frozen=True)
class Credit:
    """What a plan step decides for one earn: the base points (issued by the earning partner),
    the new lots' dates (None: vests now, never expires), and the programme's `extras`
    (campaign and tier effects, each funded by its own party), None when nothing applies."""

    points: int
    vests_at: datetime | None = None
    expires_at: datetime | None = None
    extras: Extras | None = None


def breakdown(issuer_id: int, base: int, parts: Sequence[CreditPart]) -> tuple[dict[str, Any], ...]:
    """Why an earn gave its points, line by line, as its receipt stores it: the base, then each
    part. Empty when there are no parts (the receipt's points are then all base)."""
    if not parts:
        return ()
    return ({"source": "base", "code": None, "campaign_id": None, "funder_id": issuer_id,
             "points": base},
            *({"source": p.source, "code": p.code, "campaign_id": p.campaign_id,
               "funder_id": p.issuer_id, "points": p.points} for p in parts))


def issued_by(issuer_id: int, base: int, parts: Sequence[CreditPart]) -> dict[int, int]:
    """Points per issuing party, the earning partner first: one lot (and one issuance posting)
    each."""
    amounts = {issuer_id: base}
    for part in parts:
        amounts[part.issuer_id] = amounts.get(part.issuer_id, 0) + part.points
    return {party: points for party, points in amounts.items() if points}


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
    """One earn to book, planned (a single earn is a batch of one): its key, member, credit and
    what identifies its request. The dates are as asked (None: vests when booked); the writer's
    plan (`plan_batch`) checks them and fixes the lot's own."""

    index: int
    key: str
    member_id: int
    points: int
    vests_at: datetime | None
    expires_at: datetime | None
    reference: str | None
    details: dict[str, Any] | None
    request: dict[str, Any] | None = None  # as `ledger.earn`'s `request`
    extras: Extras | None = None  # booked line by line, like a member in debt
    kind: str = "earn"  # or "bonus" (`earning.award_bonus`)

    def params(self, issuer_id: int) -> dict[str, Any]:
        """Exactly the parameters `ledger.earn` hashes, so both paths agree on a key's request."""
        return request_params(issuer_id=issuer_id, member_id=self.member_id, kind=self.kind,
                              points=self.points, vests_at=self.vests_at,
                              expires_at=self.expires_at, reference=self.reference,
                              details=self.details, request=self.request)


def planned_line(plan: Plan[L], line: L, *, index: int, key: str,
                 at: datetime) -> BulkLine | LedgerError:
    """What the plan step decides for one line, checked (points, dates, reference) and ready for
    the writer, or why it is refused (the seam then looks for the key's first answer)."""
    try:
        credit = plan(line)
        check_points(credit.points)
        checked_vesting(credit.vests_at, credit.expires_at, as_utc(at))
        check_reference(line.reference)
    except LedgerError as refusal:
        return refusal
    return BulkLine(index, key, line.member_id, credit.points, credit.vests_at, credit.expires_at,
                    line.reference, line.details, line.request, credit.extras)


@dataclass(frozen=True)
class Booking:
    """A line booked with the others in one set of writes (no debt, no programme parts), with
    what its lot, receipt and idempotency record add to it."""

    line: BulkLine
    digest: str  # the idempotency request hash, as `ledger.earn` computes it
    balance: int  # the member's balance after this line (a member's lines book in input order)
    held: int
    vests_at: datetime  # the lot's, in UTC (`checked_vesting`)
    expires_at: datetime | None  # the lot's, in UTC: SQLite would keep another offset's wall clock
    parts: tuple[CreditPart, ...] = ()  # the programme's, as planned (`Extras.batch_parts`)

    @property
    def points(self) -> int:
        """The entry's points: the base and every part."""
        return _points(self.line.points, self.parts)


def _points(base: int, parts: tuple[CreditPart, ...]) -> int:
    return base + sum(p.points for p in parts) if parts else base


def receipt_of(booking: Booking, entry_id: int, lot_id: int, booked_at: str,
               issuer_id: int) -> Receipt:
    """The receipt of a line booked without debt, exactly as `ledger.earn` answers it; `lot_id`
    is the earning partner's lot."""
    return Receipt(entry_id=entry_id, kind=booking.line.kind, member_id=booking.line.member_id,
                   points=booking.points, booked_at=booked_at, balance=booking.balance,
                   held=booking.held, lot_id=lot_id, debt=0,
                   breakdown=breakdown(issuer_id, booking.line.points, booking.parts))


class Balance(Protocol):
    @property
    def balance(self) -> int: ...
    @property
    def held(self) -> int: ...
    @property
    def debt(self) -> int: ...


@dataclass(frozen=True)
class BatchPlan:
    bookings: list[Booking]  # members without debt or programme parts: one set of writes
    general: list[BulkLine]  # members in debt or with programme parts: line by line, in order
    refused: dict[int, LedgerError]  # line index -> why


def plan_batch(lines: Iterable[BulkLine], balances: Mapping[int, Balance],
               digest: Callable[[BulkLine], str], at: datetime) -> BatchPlan:
    """Sort fresh lines by what their member's (locked) balance row says, in input order.

    A line whose lot would expire before it vests (at `at`, the booking's time) is refused,
    and so is a line of an unknown member. A member in debt, or with a line whose programme
    parts must be claimed under the member's lock (`Extras.batch_parts` None), has all their
    lines booked the general way, line by line (the debt is repaid first, the parts are claimed
    under the lock, and each receipt's balance stays true). Everyone else's lines, with their
    planned parts, get their running balance and book together.
    """
    fresh = list(lines)
    parts = {line.index: (() if line.extras is None else line.extras.batch_parts)
             for line in fresh}
    general_members = {line.member_id for line in fresh if parts[line.index] is None}
    running = {member_id: row.balance for member_id, row in balances.items()}
    plan = BatchPlan([], [], {})
    for line in fresh:
        try:
            vests = checked_vesting(line.vests_at, line.expires_at, at)
        except InvalidInput as refusal:
            plan.refused[line.index] = refusal
            continue
        row = balances.get(line.member_id)
        if row is None:
            plan.refused[line.index] = MemberNotFound("no member with this id", field="memberId")
        elif row.debt or line.member_id in general_members:
            plan.general.append(line)
        else:
            line_parts = parts[line.index] or ()
            running[line.member_id] += _points(line.points, line_parts)
            plan.bookings.append(Booking(
                line, digest(line), balance=running[line.member_id], held=row.held,
                vests_at=vests, expires_at=as_utc(line.expires_at) if line.expires_at else None,
                parts=line_parts))
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


def split_by(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` shared in proportion to `weights` (each >= 0, their sum >= amount > 0 or all
    zero): the floor of each exact share, then the points left over one each to the largest
    remainders, ties to the first listed (funding.split's rule). No share exceeds its weight
    when the weights sum to at least `amount`, and the shares sum to `amount` exactly."""
    total = sum(weights)
    if total <= 0:
        raise ValueError(f"cannot share {amount} over weights {list(weights)}")
    floors, remainders = [], []
    for weight in weights:
        floor, remainder = divmod(amount * weight, total)
        floors.append(floor)
        remainders.append(remainder)
    for i in sorted(range(len(weights)), key=remainders.__getitem__,
                    reverse=True)[:amount - sum(floors)]:
        floors[i] += 1
    return floors


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
