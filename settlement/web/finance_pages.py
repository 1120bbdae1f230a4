"""/console/finance: one month's settlement for finance staff. The obligations matrix as a
heatmap (payer x payee, money), net positions, payments with their Stripe status, and control
totals against the ledger.

A saved run (draft or closed) is shown as stored, so the page reads a few hundred rows; a month
without a run is computed from the ledger as `settle preview` would, but nothing is written
(reading a page never saves a draft).
"""

from __future__ import annotations

from collections import defaultdict
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.site import Backoffice
from network.clock import utcnow
from network.money import Money
from network.web.i18n import ascii_digits
from settlement import store
from settlement.controls import ControlTotals
from settlement.errors import SettlementError
from settlement.kpis import charts
from settlement.payouts import records
from settlement.period import Period
from settlement.run import gather
from settlement.statements.build import party_refs
from settlement.web.page import FINANCE_READERS, SettlementPage, party_label


def _period(request: Request, bo: Backoffice) -> Period | SettlementError:
    raw = request.query_params.get("period")
    if not raw:
        now = utcnow().astimezone(ZoneInfo(bo.settings.timezone))
        return Period(now.year, now.month).previous()
    try:
        return Period.parse(ascii_digits(raw)[:7])
    except SettlementError as error:
        return error


def _load(conn, settings, period: Period):  # type: ignore[no-untyped-def]
    run = store.find_run(conn, str(period))
    if run is not None:
        controls = run.summary.get("controls", {})
        return (run, store.load_lines(conn, run.id), store.load_positions(conn, run.id),
                records.for_run(conn, run.id), controls, party_refs(conn))
    result = gather(conn, settings, period)
    return (None, list(result.lines), list(result.netting.positions), [],
            _controls_dict(result.controls), party_refs(conn))


def _controls_dict(controls: ControlTotals) -> dict:
    return {"points_by_kind": dict(controls.points_by_kind),
            "net_sum_minor": controls.net_sum_minor,
            "discrepancies": list(controls.discrepancies)}


async def finance(bo: Backoffice, request: Request) -> Response:
    who = bo.require(request, roles=FINANCE_READERS, kind=SettlementPage)
    page = bo.page(request, who, SettlementPage)
    assert isinstance(page, SettlementPage)
    t, locale = page.values()["t"], page.locale
    period = _period(request, bo)
    if isinstance(period, SettlementError):
        return page.render("finance.html", status=400, period=None, period_error=period,
                           title=t("nav_finance"))
    run, lines, positions, payments, controls, refs = bo.db.read(_load, bo.settings, period)
    currency = run.currency if run is not None else bo.settings.currency
    name = lambda pid: party_label(locale.language, refs.get(pid))  # noqa: E731
    money = lambda minor: locale.money(Money(minor, currency))  # noqa: E731
    pairs: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        pairs[(line.payer_party_id, line.payee_party_id)] += line.amount_minor
    payers = sorted({p for p, _ in pairs}, key=name)
    payees = sorted({q for _, q in pairs}, key=name)
    cells = {(payers.index(p), payees.index(q)): v for (p, q), v in pairs.items()}
    shown = {(payers.index(p), payees.index(q)): locale.decimal(Money(v, currency).to_major(), 2)
             for (p, q), v in pairs.items()}
    heat = charts.heatmap(t("f_obligations"), [name(p) for p in payers],
                          [name(q) for q in payees], cells, locale, shown)
    return page.render(
        "finance.html", period=period, period_error=None, run=run, heat=heat,
        # "2026-11" is read left to right in a Persian title too
        title=t("f_title", period=f"\u2066{locale.digits(str(period))}\u2069"),
        obligations=[(name(p), name(q), money(v)) for (p, q), v in
                     sorted(pairs.items(), key=lambda kv: (name(kv[0][0]), name(kv[0][1])))],
        positions=[(name(p.party_id), money(p.receivable_minor), money(p.payable_minor),
                    money(p.net_minor), p.net_minor) for p in positions],
        payments=[(name(p.party_id), p.method, money(p.amount_minor), p.status,
                   p.stripe_object_id or "", p.stripe_status or "", p.error_code or "")
                  for p in payments],
        points_by_kind=sorted((controls.get("points_by_kind") or {}).items()),
        net_sum=money(int(controls.get("net_sum_minor") or 0)),
        discrepancies=list(controls.get("discrepancies") or []))


async def finance_csv(bo: Backoffice, request: Request) -> Response:
    """The month's obligations (payer, payee, amount in major units) as CSV."""
    import csv
    import io
    who = bo.require(request, roles=FINANCE_READERS, kind=SettlementPage)
    page = bo.page(request, who, SettlementPage)
    period = _period(request, bo)
    if isinstance(period, SettlementError):
        return page.finish(Response(f"{period.code}\n", status_code=400, media_type="text/plain"))
    run, lines, positions, _, _, refs = bo.db.read(_load, bo.settings, period)
    currency = run.currency if run is not None else bo.settings.currency
    out = io.StringIO()
    writer = csv.writer(out)
    which = request.query_params.get("table", "obligations")
    if which == "positions":
        writer.writerow(["party", "receivable", "payable", "net", "currency"])
        for p in positions:
            writer.writerow([refs[p.party_id].code, *(Money(v, currency).to_major() for v in (
                p.receivable_minor, p.payable_minor, p.net_minor)), currency])
    else:
        pairs: dict[tuple[int, int], int] = defaultdict(int)
        for line in lines:
            pairs[(line.payer_party_id, line.payee_party_id)] += line.amount_minor
        writer.writerow(["payer", "payee", "amount", "currency"])
        for (p, q), v in sorted(pairs.items()):
            writer.writerow([refs[p].code, refs[q].code, Money(v, currency).to_major(), currency])
    return page.finish(Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="pointsnet-{which}-{period}.csv"'}))
