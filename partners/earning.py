"""Awarding points for a purchase, one line or a batch: the contract decides the points (the plan
step, `contract_plan`, the same for both), the ledger's earn seam replays or books them
(`earning.earn_planned`, `bulk_earn.earn_batch`).

A batch's lines are judged one by one: a till uploading 1,000 receipts wants the 997 good ones
booked and the 3 bad ones named. Its booking is all or nothing: every good line is booked in ONE
transaction (members in debt included), so an error from the database books none of them and the
batch's answer is that error, never a partial booking behind it. Each line gets the idempotency
key `<key>#<index>` (in a scope of its own, `bulk_earn.lines_scope`), so retrying the whole batch
books nothing twice and re-tries only the lines that were refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from network.auth import DeferredClaim
from network.db.engine import Database
from network.ledger.bulk_earn import earn_batch
from network.ledger.earning import earn_planned
from network.ledger.errors import InvalidInput, LedgerError
from network.ledger.receipts import Receipt
from network.ledger.rules import Credit, Plan
from network.member_ids import ByCard
from network.programme import conversions, reward_grants
from network.programme.earn import prepare, with_programme
from network.programme.facts import BasketLine
from partners.contracts import TermsLoader, in_force
from partners.terms import NoContract, Terms, lot_dates, plan_earn

# The earn gives the catalog items campaigns give through this desk (earn.CatalogDesk).
reward_grants.install()

MAX_BATCH_LINES = 1000


@dataclass(frozen=True)
class AwardLine:
    """One purchase a partner awards points for (`rules.EarnLine` to the ledger's seam)."""

    member_id: int | ByCard  # ByCard: a single earn's card, looked up as late as can be
    amount_minor: int
    currency: str
    points: int | None = None
    reference: str | None = None
    channel: str = "in_store"  # facts.CHANNELS; campaigns may ask for one
    basket: tuple[BasketLine, ...] = ()  # optional lines, for category and sku campaigns

    @property
    def details(self) -> dict[str, Any]:
        """Recorded on the entry: the purchase and the points the partner asked for, if any
        (channel and basket only when sent, so plain earns record what they always did)."""
        details: dict[str, Any] = {"amount_minor": self.amount_minor, "currency": self.currency,
                                   "points_given": self.points}
        if self.channel != "in_store":
            details["channel"] = self.channel
        if self.basket:
            details["basket"] = [[b.sku, b.category, b.quantity, b.amount_minor]
                                 for b in self.basket]
        return details

    @property
    def request(self) -> dict[str, Any]:
        """What the partner sent: a retry of the same purchase is the same request, even though
        the contract's vesting and expiry dates computed from it move with the clock."""
        return {"member": self.member_id, "reference": self.reference, **self.details}


@dataclass(frozen=True)
class LineResult:
    index: int
    receipt: Receipt | None = None
    error: LedgerError | None = None


def contract_plan(terms: Terms | NoContract, *, network_currency: str,
                  at: datetime) -> Plan[AwardLine]:
    """The plan step of an award, one or a batch: the contract's points for the purchase, or the
    contract's refusal (no contract in force is a refusal like any other: a retry of a line booked
    earlier still gets its first answer)."""
    dates = None if isinstance(terms, NoContract) else lot_dates(terms, at)

    def plan(line: AwardLine) -> Credit:
        if isinstance(terms, NoContract):
            raise terms
        return plan_earn(terms, amount_minor=line.amount_minor, currency=line.currency,
                         network_currency=network_currency, explicit_points=line.points, at=at,
                         dates=dates)

    return plan


def _terms(db: Database, partner_id: int, at: datetime,
           load_terms: TermsLoader) -> Terms | NoContract:
    try:
        return db.read(load_terms, partner_id, at)
    except NoContract as refusal:
        return refusal


def programme_plan(db: Database, contract: Plan[AwardLine], *, partner_id: int,
                   lines: list[AwardLine], now: datetime, timezone: str,
                   single: bool = False) -> Plan[AwardLine]:
    """The contract's plan step with the programme's campaigns and tiers on top
    (network/programme/earn.py); the contract's own when nothing could apply."""
    prepared = prepare(db, partner_id=partner_id, member_ids=[line.member_id for line in lines],
                       at=now, timezone=timezone, single=single)
    return with_programme(contract, prepared, now)


def award_points(db: Database, *, partner_id: int, line: AwardLine, network_currency: str,
                 scope: str, idempotency_key: str, now: datetime, terms: Terms | None = None,
                 load_terms: TermsLoader = in_force, timezone: str = "UTC",
                 claim: DeferredClaim | None = None,
                 holder: Callable[[ByCard], int] | None = None) -> Receipt:
    """`terms` when the caller has them at hand, else `load_terms` reads them. `timezone` is
    the network's (settings), where campaigns' weekdays, hours and limit periods are read.
    `claim`: the request's nonce claim, which the earn makes in its own statement when it can
    (network.auth.DeferredClaim), and in any case before anything is written.
    A line naming its member `ByCard` leaves the card to the ledger's one statement when the
    programme's plan needs no member (`Prepared.needs_no_member`); else `holder` finds the
    member first."""
    in_effect = terms or _terms(db, partner_id, now, load_terms)
    contract = contract_plan(in_effect, network_currency=network_currency, at=now)
    card = line.member_id if isinstance(line.member_id, ByCard) else None
    prepared = prepare(db, partner_id=partner_id, member_ids=[line.member_id], at=now,
                       timezone=timezone, single=True)
    if card is not None and not prepared.needs_no_member:
        assert holder is not None, "a line by card needs its holder's lookup"
        line = dataclasses.replace(line, member_id=holder(card))
        prepared = prepare(db, partner_id=partner_id, member_ids=[line.member_id], at=now,
                           timezone=timezone, single=True)
    receipt = earn_planned(db, scope=scope, idempotency_key=idempotency_key,
                           issuer_id=partner_id, line=line, now=now,
                           plan=with_programme(contract, prepared, now), claim=claim)
    if claim is not None:
        claim.claim()  # made by the earn unless it replayed a first answer without writing
    # A referred member's first earn converts their referral (after booking, its own
    # transaction; nothing read for a member whose referral is surely not pending).
    conversions.after_earn(db, receipt.member_id, partner_id=partner_id, at=now,
                           timezone=timezone)
    return receipt


def check_batch_size(count: int) -> None:
    if count == 0:
        raise InvalidInput("a batch needs at least one line", field="lines", code="BATCH_EMPTY")
    if count > MAX_BATCH_LINES:
        raise InvalidInput(f"a batch has at most {MAX_BATCH_LINES} lines, got {count}",
                           field="lines", code="BATCH_TOO_LARGE")


def award_batch(db: Database, *, partner_id: int, lines: list[AwardLine | LedgerError],
                network_currency: str, scope: str, idempotency_key: str,
                now: datetime, timezone: str = "UTC") -> list[LineResult]:
    """Lines that failed to parse arrive as the LedgerError to report for them.

    Valid lines are booked together in one transaction (network/ledger/bulk_earn.py), those of
    members in debt too (their debt repaid first, as `ledger.earn` does): a database error
    propagates with nothing booked.
    """
    check_batch_size(len(lines))
    terms = _terms(db, partner_id, now, in_force)
    plan = programme_plan(db, contract_plan(terms, network_currency=network_currency, at=now),
                          partner_id=partner_id, now=now, timezone=timezone,
                          lines=[line for line in lines if isinstance(line, AwardLine)])
    maybe = set(conversions.may_be_pending(
        db, [line.member_id for line in lines if isinstance(line, AwardLine)]))

    converted: list[int] = []

    def convert(conn: Connection, booked: list[int]) -> None:
        # Inside the booking transaction: the conversions commit with the earns.
        converted[:] = [m for m in booked if m in maybe]
        conversions.in_batch(conn, converted, partner_id=partner_id, at=now, timezone=timezone)

    results = earn_batch(db, scope=scope, batch_key=idempotency_key, issuer_id=partner_id,
                         lines=lines, plan=plan, now=now, on_booked=convert if maybe else None)
    conversions.settled(db, converted)
    if isinstance(terms, NoContract) and not any(isinstance(r, Receipt)
                                                 for r in results.values()):
        raise terms  # nothing to replay: one error for the batch, not one per line
    return [LineResult(i, receipt=r) if isinstance(r, Receipt) else LineResult(i, error=r)
            for i, r in sorted(results.items())]
