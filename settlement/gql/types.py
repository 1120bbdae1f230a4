"""GraphQL types of the settlement slice. Amounts are `SettlementMoney` (minor units as BigInt,
the exact major-unit decimal as a string, the ISO code), never floats."""

from __future__ import annotations

import base64
from typing import Any

import graphene
from graphene import relay

from network import parties
from network.gql.context import RequestContext
from network.money import Money
from settlement import netting, store
from settlement.errors import SettlementError
from settlement.payouts import records
from settlement.statements.build import (
    PartyRef,
    RatedLine,
    Statement,
    build_statement,
    party_refs,
)
from settlement.statements.export import render_signed
from settlement.statements.render import rate_columns
from settlement.statements.signing import public_pem, statement_key
from settlement.statements.wording import line_words


def ctx(info: graphene.ResolveInfo) -> RequestContext:
    return info.context  # type: ignore[no-any-return]


class SettlementMoney(graphene.ObjectType):
    amount_minor = graphene.BigInt(required=True, description="Integer minor units (cents).")
    amount = graphene.String(required=True, description="Exact decimal in major units.")
    currency_code = graphene.String(required=True)
    formatted = graphene.String(required=True)

    @staticmethod
    def of(minor: int, currency: str) -> SettlementMoney:
        money = Money(int(minor), currency)
        return SettlementMoney(amount_minor=money.amount_minor, amount=str(money.to_major()),
                               currency_code=currency, formatted=money.format())


class SettlementParty(graphene.ObjectType):
    party_id = graphene.Int(required=True)
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    kind = graphene.String(required=True, description="partner | charity | network")

    @staticmethod
    def of(ref: PartyRef) -> SettlementParty:
        return SettlementParty(party_id=ref.id, code=ref.code, name=ref.name, kind=ref.kind)


class SettlementPayment(graphene.ObjectType):
    party_id = graphene.Int(required=True)
    method = graphene.String(required=True, description="transfer | invoice | payment_intent")
    status = graphene.String(required=True, description="pending | submitted | succeeded | failed")
    amount = graphene.Field(SettlementMoney, required=True)
    attempt = graphene.Int(required=True)
    stripe_object_id = graphene.String()
    stripe_status = graphene.String()
    error_code = graphene.String()
    error_message = graphene.String()
    updated_at = graphene.DateTime(required=True)

    @staticmethod
    def of(p: records.Payment) -> SettlementPayment:
        return SettlementPayment(
            party_id=p.party_id, method=p.method, status=p.status,
            amount=SettlementMoney.of(p.amount_minor, p.currency), attempt=p.attempt,
            stripe_object_id=p.stripe_object_id, stripe_status=p.stripe_status,
            error_code=p.error_code, error_message=p.error_message, updated_at=p.updated_at)


class SettlementStatementLine(graphene.ObjectType):
    counterparty = graphene.Field(SettlementParty, required=True)
    kind = graphene.String(required=True)
    source_kind = graphene.String(required=True)
    direction = graphene.String(required=True, description="receivable | payable | own")
    points = graphene.BigInt(required=True)
    amount = graphene.Field(SettlementMoney, required=True,
                            description="Positive: owed to the party; negative: owed by it.")
    rate = graphene.String(required=True, description="Exact decimal: minor units per point, "
                           "or basis points of `base` for a fee on cleared value (rateUnit).")
    rate_unit = graphene.String(required=True, description="minor_units_per_point | "
                                "basis_points")
    base = graphene.BigInt(required=True, description="What the rate applies to: points, or "
                           "minor units for a basis-point fee (baseUnit). base x rate = amount "
                           "before the line's one rounding.")
    base_unit = graphene.String(required=True, description="points | minor_units")
    description = graphene.String(required=True, description="The line in plain English.")

    @staticmethod
    def of(st: Statement, line: RatedLine) -> SettlementStatementLine:
        rate, rate_unit, base, base_unit = rate_columns(line)
        return SettlementStatementLine(
            counterparty=SettlementParty.of(st.counterparties[line.counterparty_id]),
            kind=line.kind, source_kind=line.source_kind, direction=line.direction,
            points=line.points, amount=SettlementMoney.of(line.amount_minor, st.run.currency),
            rate=rate, rate_unit=rate_unit, base=base, base_unit=base_unit,
            description=line_words("en", line.kind, line.source_kind, line.direction))


class SettlementSection(graphene.ObjectType):
    title = graphene.String(required=True)
    kind = graphene.String(required=True)
    direction = graphene.String(required=True)
    points = graphene.BigInt(required=True)
    amount = graphene.Field(SettlementMoney, required=True)


class SettlementStatement(graphene.ObjectType):
    period = graphene.String(required=True)
    run_status = graphene.String(required=True)
    party = graphene.Field(SettlementParty, required=True)
    issuer = graphene.Field(SettlementParty, required=True,
                            description="The network party (the hub) issuing the statement.")
    statement_number = graphene.String(required=True,
                                       description="Unique per run and party, e.g. "
                                       "PN-2026-10-R1-P2.")
    period_start = graphene.Date(required=True, description="First day, in the run's zone.")
    period_end = graphene.Date(required=True, description="Last day (inclusive).")
    statement_date = graphene.Date(required=True, description="The day the run was closed.")
    payment_date = graphene.Date(description="The day the payment succeeded; null until then "
                                 "or when there is nothing to pay.")
    lines = graphene.List(graphene.NonNull(SettlementStatementLine), required=True)
    sections = graphene.List(graphene.NonNull(SettlementSection), required=True)
    receivable = graphene.Field(SettlementMoney, required=True)
    payable = graphene.Field(SettlementMoney, required=True)
    net = graphene.Field(SettlementMoney, required=True)
    payment_status = graphene.String(required=True)
    content_hash = graphene.String(required=True)
    csv = graphene.String(required=True, description="The signed CSV statement, verbatim.")
    csv_signature = graphene.String(required=True, description="Base64 Ed25519 signature.")
    html = graphene.String(required=True, description="The signed printable statement.")
    html_signature = graphene.String(required=True, description="Base64 Ed25519 signature.")
    html_fa = graphene.String(description="The signed statement in Persian, for a party with "
                              "a Persian name (name_fa, or a name in Arabic script); else null.")
    html_fa_signature = graphene.String(description="Base64 Ed25519 signature of htmlFa.")
    public_key_pem = graphene.String(required=True, description="The hub's statement key.")

    @staticmethod
    def of(info: graphene.ResolveInfo, st: Statement) -> SettlementStatement:
        cur = st.run.currency
        signed = render_signed(st, ctx(info).settings)
        b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
        start, end = st.period_dates
        return SettlementStatement(
            period=st.run.period, run_status=st.run.status,
            party=SettlementParty.of(st.party), issuer=SettlementParty.of(st.issuer),
            statement_number=st.number, period_start=start, period_end=end,
            statement_date=st.issued_on, payment_date=st.paid_on,
            lines=[SettlementStatementLine.of(st, ln) for ln in st.lines],
            sections=[SettlementSection(title=s.title, kind=s.kind, direction=s.direction,
                                        points=s.points,
                                        amount=SettlementMoney.of(s.amount_minor, cur))
                      for s in st.sections],
            receivable=SettlementMoney.of(st.receivable_minor, cur),
            payable=SettlementMoney.of(-st.payable_minor, cur),
            net=SettlementMoney.of(st.net_minor, cur), payment_status=st.payment_status,
            content_hash=st.run.content_hash, csv=signed.csv.decode(),
            csv_signature=b64(signed.csv_signature), html=signed.html.decode(),
            html_signature=b64(signed.html_signature),
            html_fa=signed.html_fa.decode() if signed.html_fa is not None else None,
            html_fa_signature=b64(signed.html_fa_signature)
            if signed.html_fa_signature is not None else None,
            public_key_pem=public_pem(statement_key(ctx(info).settings)).decode())


class SettlementMatrixCell(graphene.ObjectType):
    payer = graphene.Field(SettlementParty, required=True)
    payee = graphene.Field(SettlementParty, required=True)
    kind = graphene.String(required=True)
    points = graphene.BigInt(required=True)
    amount = graphene.Field(SettlementMoney, required=True)


class SettlementPosition(graphene.ObjectType):
    party = graphene.Field(SettlementParty, required=True)
    receivable = graphene.Field(SettlementMoney, required=True)
    payable = graphene.Field(SettlementMoney, required=True)
    net = graphene.Field(SettlementMoney, required=True)
    payment = graphene.Field(SettlementPayment)


class SettlementKindPoints(graphene.ObjectType):
    kind = graphene.String(required=True)
    points = graphene.BigInt(required=True)


class SettlementRun(graphene.ObjectType):
    """One month's settlement. Staff only (a finance staff bearer token)."""

    class Meta:
        interfaces = (relay.Node,)

    period = graphene.String(required=True)
    status = graphene.String(required=True, description="draft | closed | paying | paid")
    currency_code = graphene.String(required=True)
    time_zone = graphene.String(required=True)
    content_hash = graphene.String(required=True)
    computed_at = graphene.DateTime(required=True)
    closed_at = graphene.DateTime()
    paid_at = graphene.DateTime()
    gross_obligations = graphene.Field(SettlementMoney, required=True)
    bilateral_payments = graphene.Int(required=True)
    netted_payments = graphene.Int(required=True)
    netting_ratio = graphene.String(required=True, description="Share of gross value netted "
                                    "away: 1 - (sum of positive nets / gross obligations).")
    netting_explanation = graphene.String(
        required=True, description="The netting figures in words: how many payments the hub "
        "makes instead of bilateral ones (possibly more), and what value cancels out.")
    consumption_rows = graphene.BigInt(required=True)
    points_by_kind = graphene.List(graphene.NonNull(SettlementKindPoints), required=True)
    discrepancies = graphene.List(graphene.NonNull(graphene.String), required=True)
    matrix = graphene.List(graphene.NonNull(SettlementMatrixCell), required=True,
                           description="Obligations issuer x sink by kind (summed over lines).")
    positions = graphene.List(graphene.NonNull(SettlementPosition), required=True)
    payments = graphene.List(graphene.NonNull(SettlementPayment), required=True)
    statement = graphene.Field(SettlementStatement, party_code=graphene.String(required=True))

    @classmethod
    def get_node(cls, info: graphene.ResolveInfo, id: str) -> SettlementRun | None:
        ctx(info).staff()
        run = ctx(info).db.read(store.get_run, int(id)) if id.isdigit() else None
        return SettlementRun.of(run) if run else None

    @staticmethod
    def of(run: store.StoredRun) -> SettlementRun:
        n, c = run.summary["netting"], run.summary["controls"]
        obj = SettlementRun(
            id=str(run.id), period=run.period, status=run.status, currency_code=run.currency,
            time_zone=run.time_zone, content_hash=run.content_hash, computed_at=run.computed_at,
            closed_at=run.closed_at, paid_at=run.paid_at,
            gross_obligations=SettlementMoney.of(n["gross_obligations_minor"], run.currency),
            bilateral_payments=n["bilateral_payments"], netted_payments=n["netted_payments"],
            netting_ratio=n["netting_ratio"], consumption_rows=c["consumption_rows"],
            netting_explanation=netting.explain(
                n["bilateral_payments"], n["netted_payments"], int(n["gross_obligations_minor"]),
                int(n["netted_value_minor"]), lambda m: Money(m, run.currency).format()),
            points_by_kind=[SettlementKindPoints(kind=k, points=v)
                            for k, v in c["points_by_kind"].items()],
            discrepancies=c["discrepancies"])
        obj._run = run
        return obj

    def resolve_matrix(self, info: graphene.ResolveInfo) -> list[SettlementMatrixCell]:
        def load(conn: Any) -> list[SettlementMatrixCell]:
            refs = party_refs(conn)
            cells: dict[tuple[int, int, str], list[int]] = {}
            for ln in store.load_lines(conn, self._run.id):
                acc = cells.setdefault((ln.payer_party_id, ln.payee_party_id, ln.kind), [0, 0])
                acc[0] += ln.points
                acc[1] += ln.amount_minor
            return [SettlementMatrixCell(payer=SettlementParty.of(refs[a]),
                                         payee=SettlementParty.of(refs[b]), kind=k, points=p,
                                         amount=SettlementMoney.of(m, self._run.currency))
                    for (a, b, k), (p, m) in sorted(cells.items())]
        return ctx(info).db.read(load)

    def resolve_positions(self, info: graphene.ResolveInfo) -> list[SettlementPosition]:
        def load(conn: Any) -> list[SettlementPosition]:
            refs, cur = party_refs(conn), self._run.currency
            payments = {p.party_id: p for p in records.for_run(conn, self._run.id)}
            return [SettlementPosition(
                party=SettlementParty.of(refs[p.party_id]),
                receivable=SettlementMoney.of(p.receivable_minor, cur),
                payable=SettlementMoney.of(-p.payable_minor, cur),
                net=SettlementMoney.of(p.net_minor, cur),
                payment=SettlementPayment.of(payments[p.party_id])
                if p.party_id in payments else None)
                for p in store.load_positions(conn, self._run.id)]
        return ctx(info).db.read(load)

    def resolve_payments(self, info: graphene.ResolveInfo) -> list[SettlementPayment]:
        return [SettlementPayment.of(p) for p in ctx(info).db.read(records.for_run, self._run.id)]

    def resolve_statement(self, info: graphene.ResolveInfo,
                          party_code: str) -> SettlementStatement | None:
        party_id = ctx(info).db.read(parties.by_code, party_code)
        if party_id is None:
            raise SettlementError("NO_PARTY", f"no party with code {party_code!r}",
                                  field="partyCode")
        if self._run.is_open:  # as on the CLI: a signed statement is the hub's word
            raise SettlementError(
                "PERIOD_NOT_CLOSED", f"{self._run.period} is still a draft; statements are "
                "signed for closed periods (closeSettlement)", field="partyCode")
        st = ctx(info).db.read(build_statement, self._run, party_id, ctx(info).now)
        return SettlementStatement.of(info, st)


class SettlementRunConnection(relay.Connection):
    class Meta:
        node = SettlementRun
