"""Assemble one party's statement from the stored (frozen) run: lines by counterparty, kind
and rate, section totals, net position, payment status, and the particulars an accountant files
it by (number, period dates, issuer and recipient). Reads only; renders nothing.

Everything here comes from the stored run and its payment, never from the clock, so a closed
run rendered again gives the same bytes (and the same signature).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from network.db.schema import parties
from network.money import Money
from settlement import store
from settlement.clearing import LINE_KINDS, ObligationLine
from settlement.errors import SettlementError
from settlement.payouts import records
from settlement.sections import Section, sections, statement_lines
from settlement.statements.wording import wants_persian


@dataclass(frozen=True)
class PartyRef:
    id: int
    code: str
    name: str
    kind: str
    name_fa: str | None = None
    stripe_account_id: str | None = None  # where the hub pays the party
    stripe_customer_id: str | None = None  # where the hub collects from it

    @property
    def reads_persian(self) -> bool:
        return wants_persian(self.name, self.name_fa)

    def display_name(self, language: str) -> str:
        return self.name_fa if language == "fa" and self.name_fa else self.name


@dataclass(frozen=True, slots=True)
class RatedLine:
    """The party's lines with one counterparty, kind and rate, summed (over contract segments
    with the same price), so quantity x rate = amount can be checked on every line.

    `rate` is minor units per point, except for a fee on cleared value, where it is basis
    points of `base` (minor units); otherwise `base` equals `points`. Amounts are the party's:
    positive = owed to it. Direction: receivable | payable | own (the party's own points)."""

    counterparty_id: int
    kind: str
    source_kind: str
    direction: str
    points: int
    rate: Decimal
    base: int
    amount_minor: int

    @property
    def rate_is_percentage(self) -> bool:
        return self.kind == "fee" and self.source_kind == "cleared_value"


@dataclass(frozen=True)
class Statement:
    run: store.StoredRun
    party: PartyRef
    counterparties: dict[int, PartyRef]
    issuer: PartyRef  # the network party: the hub, which nets and pays
    lines: list[RatedLine]
    sections: list[Section]
    receivable_minor: int
    payable_minor: int
    net_minor: int
    payment: records.Payment | None
    generated_at: datetime  # when it was built; never rendered, so re-renders are identical

    def money(self, minor: int) -> Money:
        return Money(minor, self.run.currency)

    @property
    def owed_to_minor(self) -> int:
        """Sum of the lines in the party's favour. Unlike `receivable_minor` (lines where it is
        the payee, as the run's positions count them), a reversal it pays back as the payer
        counts here, so the page never shows a positive amount 'owed by you'."""
        return sum(ln.amount_minor for ln in self.lines if ln.amount_minor > 0)

    @property
    def owed_by_minor(self) -> int:
        """Sum of the lines against the party (negative or zero)."""
        return sum(ln.amount_minor for ln in self.lines if ln.amount_minor < 0)

    @property
    def number(self) -> str:
        """Unique per run and party, and the same every time it is rendered."""
        return f"PN-{self.run.period}-R{self.run.id}-P{self.party.id}"

    @property
    def period_dates(self) -> tuple[date, date]:
        """First and last day (inclusive) of the period in the run's time zone."""
        zone = ZoneInfo(self.run.time_zone)
        return (self.run.period_start.astimezone(zone).date(),
                (self.run.period_end.astimezone(zone) - timedelta(days=1)).date())

    @property
    def issued_on(self) -> date:
        """The day the run was closed (its figures froze), or computed for a draft."""
        moment = self.run.closed_at or self.run.computed_at
        return moment.astimezone(ZoneInfo(self.run.time_zone)).date()

    @property
    def paid_on(self) -> date | None:
        """The day the payment succeeded; None while nothing has been paid."""
        if self.payment is None or self.payment.status != "succeeded":
            return None
        return self.payment.updated_at.astimezone(ZoneInfo(self.run.time_zone)).date()

    @property
    def languages(self) -> tuple[str, ...]:
        """English always; Persian too for a Persian-named party (wording.wants_persian)."""
        return ("en", "fa") if self.party.reads_persian else ("en",)

    @property
    def payment_status(self) -> str:
        if self.net_minor == 0 or self.party.kind == "network":
            return "nothing to pay"
        if self.payment is None:
            return "not paid yet" if self.run.status != "draft" else "draft: not payable"
        if self.payment.error_code in records.NEEDS_STAFF:  # e.g. a transfer since reversed
            return (f"{self.payment.status}, flagged {self.payment.error_code}: "
                    f"{self.payment.error_message}")
        return self.payment.status


def party_refs(conn: Connection) -> dict[int, PartyRef]:
    c = parties.c
    rows = conn.execute(select(c.id, c.code, c.name, c.kind, c.name_fa, c.stripe_account_id,
                               c.stripe_customer_id))
    return {r.id: PartyRef(r.id, r.code, r.name, r.kind, r.name_fa, r.stripe_account_id,
                           r.stripe_customer_id) for r in rows}


def rated_lines(lines: Iterable[ObligationLine], party_id: int) -> list[RatedLine]:
    """The party's side of the lines, one per counterparty, kind, source and rate. Lines at
    the same rate in different contract segments are summed (each was rounded once already);
    a rate that changed inside the month gives two lines, so each still multiplies out."""
    acc: dict[tuple[int, str, str, str, Decimal], list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in lines:
        if line.payer_party_id == line.payee_party_id == party_id:
            cp, direction, sign = party_id, "own", 1
        elif line.payee_party_id == party_id:
            cp, direction, sign = line.payer_party_id, "receivable", 1
        elif line.payer_party_id == party_id:
            cp, direction, sign = line.payee_party_id, "payable", -1
        else:
            continue
        total = acc[(cp, line.kind, line.source_kind, direction, line.unit_price.normalize())]
        total[0] += line.points
        total[1] += line.basis
        total[2] += sign * line.amount_minor
    order = {"receivable": 0, "payable": 1, "own": 2}
    return [RatedLine(cp, kind, src, direction, pts, rate, base, amount)
            for (cp, kind, src, direction, rate), (pts, base, amount) in sorted(
                acc.items(), key=lambda kv: (order[kv[0][3]], LINE_KINDS.index(kv[0][1]),
                                             kv[0][0], kv[0][2], kv[0][4]))]


def statement_parties(conn: Connection, run: store.StoredRun) -> list[int]:
    """Every party that appears in the run (with lines), in id order."""
    return [p.party_id for p in store.load_positions(conn, run.id)]


def build_statement(conn: Connection, run: store.StoredRun, party_id: int,
                    generated_at: datetime) -> Statement:
    refs = party_refs(conn)
    if party_id not in refs:
        raise SettlementError("NO_PARTY", f"no party with id {party_id}", field="partyId")
    stored = store.load_lines(conn, run.id)
    lines = rated_lines(stored, party_id)
    receivable = sum(ln.amount_minor for ln in lines if ln.direction == "receivable")
    payable = -sum(ln.amount_minor for ln in lines if ln.direction == "payable")
    [issuer] = [ref for ref in refs.values() if ref.kind == "network"]
    return Statement(run, refs[party_id], refs, issuer, lines,
                     sections(statement_lines(stored, party_id)), receivable, payable,
                     receivable - payable, records.find(conn, run.id, party_id), generated_at)
