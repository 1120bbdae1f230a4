"""Assemble one party's statement from the stored (frozen) run: lines by counterparty and
kind, section totals, net position and payment status. Reads only; renders nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from network.db.schema import parties
from network.money import Money
from settlement import store
from settlement.errors import SettlementError
from settlement.payouts import records
from settlement.sections import Section, StatementLine, sections, statement_lines


@dataclass(frozen=True)
class PartyRef:
    id: int
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Statement:
    run: store.StoredRun
    party: PartyRef
    counterparties: dict[int, PartyRef]
    lines: list[StatementLine]
    sections: list[Section]
    receivable_minor: int
    payable_minor: int
    net_minor: int
    payment: records.Payment | None
    generated_at: datetime

    def money(self, minor: int) -> Money:
        return Money(minor, self.run.currency)

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
    rows = conn.execute(select(parties.c.id, parties.c.code, parties.c.name, parties.c.kind))
    return {r.id: PartyRef(r.id, r.code, r.name, r.kind) for r in rows}


def statement_parties(conn: Connection, run: store.StoredRun) -> list[int]:
    """Every party that appears in the run (with lines), in id order."""
    return [p.party_id for p in store.load_positions(conn, run.id)]


def build_statement(conn: Connection, run: store.StoredRun, party_id: int,
                    generated_at: datetime) -> Statement:
    refs = party_refs(conn)
    if party_id not in refs:
        raise SettlementError("NO_PARTY", f"no party with id {party_id}", field="partyId")
    lines = statement_lines(store.load_lines(conn, run.id), party_id)
    receivable = sum(ln.amount_minor for ln in lines if ln.direction == "receivable")
    payable = -sum(ln.amount_minor for ln in lines if ln.direction == "payable")
    return Statement(run, refs[party_id], refs, lines, sections(lines), receivable, payable,
                     receivable - payable, records.find(conn, run.id, party_id), generated_at)
