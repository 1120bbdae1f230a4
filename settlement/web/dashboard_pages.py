"""/console/dashboards (the network or any partner) and /partner/dashboard (the signed-in
partner user's own partner only), each with a CSV of every table on it.

The period comes from `from` / `to` (YYYY-MM-DD, inclusive, Persian digits accepted), the
last 30 days by default; staff pick a partner by its code with `partner`. A partner user's
partner is their account's and nothing in the URL changes it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.site import Backoffice
from network.clock import utcnow
from network.db.schema import parties
from network.money import Money, currency_exponent
from network.web.i18n import ascii_digits
from settlement.kpis import charts, queries
from settlement.kpis.queries import MAX_DAYS, Dashboard, Period
from settlement.web.page import (
    DASHBOARD_READERS,
    PARTNER_READERS,
    PartnerSettlementPage,
    SettlementPage,
    party_label,
)

DEFAULT_DAYS = 30
TABLES = ("summary", "series", "liability", "tiers", "campaigns", "matrix")


@dataclass(frozen=True)
class InputError:
    code: str
    field: str
    params: dict

    @property
    def message(self) -> str:
        return self.code


def _date(raw: str | None, field: str) -> dt.date | InputError | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(ascii_digits(raw.strip())[:10])
    except ValueError:
        return InputError("BAD_DATE", field, {})


def parse_period(request: Request, today: dt.date) -> Period | InputError:
    first = _date(request.query_params.get("from"), "from")
    last = _date(request.query_params.get("to"), "to")
    for value in (first, last):
        if isinstance(value, InputError):
            return value
    assert not isinstance(first, InputError) and not isinstance(last, InputError)
    last = last or today
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        return InputError("BAD_PERIOD_ORDER", "from", {})
    if (last - first).days + 1 > MAX_DAYS:
        return InputError("PERIOD_TOO_LONG", "to", {"days": MAX_DAYS})
    return Period(first, last)


def _today(bo: Backoffice) -> dt.date:
    return utcnow().astimezone(ZoneInfo(bo.settings.timezone)).date()


def _partner_by_code(bo: Backoffice, code: str) -> int | None:
    return bo.db.read(lambda c: c.execute(select(parties.c.id).where(
        parties.c.code == code, parties.c.kind == "partner")).scalar())


def _partners(bo: Backoffice) -> list:
    return bo.db.read(lambda c: list(c.execute(
        select(parties.c.code, parties.c.name, parties.c.name_fa)
        .where(parties.c.kind == "partner").order_by(parties.c.name))))


def tables(board: Dashboard, language: str, t: Callable[..., str], number: Callable,
           percent: Callable, money: Callable) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every table of the page as (header, rows) in the reader's words: the page shows them
    and the CSV exports them, so the two always agree."""
    name = lambda pid: party_label(language, board.parties.get(pid))  # noqa: E731
    summary = [
        ("k_active_30", number(board.active_30)), ("k_active_90", number(board.active_90)),
        ("k_new_members", number(board.new_members)), ("k_issued", number(board.issued)),
        ("k_redeemed", number(board.redeemed)), ("k_donated", number(board.donated)),
        ("k_expired", number(board.expired)),
        ("k_redemption_rate", percent(board.redemption_rate)),
        ("k_breakage_rate", percent(board.breakage_rate))]
    if board.party is not None:
        summary.insert(5, ("k_redeemed_here", number(board.redeemed_here)))
    issuers = sorted({i for i, _ in board.matrix}, key=name)
    sinks = sorted({s for _, s in board.matrix}, key=name)
    tier_names = {d.code: d.name(language) for d in board.tier_ladder}
    return {
        "summary": ([t("k_measure"), t("k_value")], [[t(k), v] for k, v in summary]),
        "series": ([t("k_day"), t("k_issued"), t("k_redeemed")],
                   [[d.isoformat(), number(i), number(r)] for d, i, r in board.series]),
        "liability": ([t("k_issuer"), t("k_points"), t("k_price"), t("k_money")],
                      [[name(li.issuer.id), number(li.points),
                        money(li.price_per_point, True) if li.price_per_point is not None
                        else t("k_no_contract"),
                        money(li.money_minor) if li.money_minor is not None else "-"]
                       for li in board.liability]),
        "tiers": ([t("k_tier"), t("k_members")],
                  [[tier_names.get(code, code), number(n)] for code, n in board.tiers]),
        "campaigns": ([t("k_campaign"), t("k_funder"), t("k_points"), t("k_money"),
                       t("k_days"), t("k_uplift")],
                      [[c.code, name(c.funder.id), number(c.points),
                        money(c.money_minor) if c.money_minor is not None else "-",
                        number(c.active_days), percent(c.uplift)] for c in board.campaigns]),
        "matrix": ([t("k_earned_at"), *[name(s) for s in sinks]],
                   [[name(i), *[number(board.matrix.get((i, s), 0)) for s in sinks]]
                    for i in issuers]),
    }


def _formatters(page: SettlementPage, currency: str):  # type: ignore[no-untyped-def]
    locale = page.locale

    def number(value: int) -> str:
        return locale.number(value)

    def percent(value) -> str:  # type: ignore[no-untyped-def]
        if value is None:
            return "-"
        text = f"{value * 100:.1f}%"
        return locale.digits(text.replace(".", "٫")) if locale.language == "fa" else text

    def money(value, per_point: bool = False) -> str:  # type: ignore[no-untyped-def]
        if per_point:  # a price per point in minor units: show it as a major-unit rate
            return locale.money(value / (10 ** currency_exponent(currency)), currency)
        return locale.money(Money(value, currency))

    return number, percent, money


def _charts(board: Dashboard, page: SettlementPage) -> dict[str, object]:
    locale, t = page.locale, page.values()["t"]
    name = lambda pid: party_label(locale.language, board.parties.get(pid))  # noqa: E731
    issuers = sorted({i for i, _ in board.matrix}, key=name)
    sinks = sorted({s for _, s in board.matrix}, key=name)
    cells = {(issuers.index(i), sinks.index(s)): v for (i, s), v in board.matrix.items()}
    tier_names = {d.code: d.name(locale.language) for d in board.tier_ladder}
    return {
        "series": charts.columns(t("k_series"), [d for d, _, _ in board.series],
                                 [(t("k_issued"), [i for _, i, _ in board.series]),
                                  (t("k_redeemed"), [r for _, _, r in board.series])], locale),
        "liability": charts.bars(t("k_liability"), [(name(li.issuer.id), li.points)
                                                    for li in board.liability], locale),
        "tiers": charts.bars(t("k_tiers"), [(tier_names.get(c, c), n) for c, n in board.tiers],
                             locale, charts.COLOURS[2]),
        "campaigns": charts.bars(t("k_campaigns"), [(c.code, c.points)
                                                    for c in board.campaigns],
                                 locale, charts.COLOURS[1]),
        "matrix": charts.heatmap(t("k_matrix"), [name(i) for i in issuers],
                                 [name(s) for s in sinks], cells, locale),
    }


def _board(bo: Backoffice, page: SettlementPage, party_id: int | None
           ) -> tuple[Dashboard | None, InputError | None]:
    period = parse_period(page.request, _today(bo))
    if isinstance(period, InputError):
        return None, period
    return bo.reads.read(queries.dashboard, period, party_id, bo.settings.timezone), None


def _render(bo: Backoffice, page: SettlementPage, party_id: int | None, *, base: str,
            error: InputError | None = None, choose_partner: bool) -> Response:
    board, period_error = (None, error) if error else _board(bo, page, party_id)
    error = error or period_error
    t = page.values()["t"]
    query = str(page.request.url.query)
    values: dict[str, object] = {
        "board": board, "error": error, "base": base, "query": query,
        "choose_partner": choose_partner,
        "partners": _partners(bo) if choose_partner else [],
        "params": {k: page.request.query_params.get(k, "") for k in ("from", "to", "partner")},
    }
    if board is not None:
        number, percent, money = _formatters(page, bo.settings.currency)
        values["tables"] = tables(board, page.locale.language, t, number, percent, money)
        values["charts"] = _charts(board, page)
        values["title"] = (t("k_title_partner", name=party_label(page.locale.language,
                                                                 board.party))
                           if board.party is not None else t("k_title"))
    else:
        values["title"] = t("k_title")
    return page.render("kpi_dashboard.html", status=400 if error else 200, **values)


def _csv(bo: Backoffice, page: SettlementPage, party_id: int | None) -> Response:
    board, error = _board(bo, page, party_id)
    which = page.request.query_params.get("table", "summary")
    if error is not None or board is None or which not in TABLES:
        return page.finish(Response("unknown table or bad period\n", status_code=400,
                                    media_type="text/plain"))
    t = page.values()["t"]
    # CSV numbers are plain ASCII digits without grouping, whatever the page's language.
    plain = lambda v: str(v)  # noqa: E731
    percent = lambda v: "" if v is None else str(v)  # noqa: E731

    def money(value, per_point: bool = False) -> str:  # type: ignore[no-untyped-def]
        if per_point:  # minor units per point, written in major units as the page does
            major = value / (10 ** currency_exponent(bo.settings.currency))
            return f"{major.normalize():f}"
        return str(Money(value, bo.settings.currency).to_major())

    header, rows = tables(board, page.locale.language, t, plain, percent, money)[which]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    name = f"pointsnet-{which}-{board.period.first}-{board.period.last}.csv"
    return page.finish(Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": f'attachment; filename="{name}"'}))


def _staff_party(bo: Backoffice, page: SettlementPage) -> tuple[int | None, InputError | None]:
    code = (page.request.query_params.get("partner") or "").strip()
    if not code:
        return None, None
    found = _partner_by_code(bo, code[:64])
    return (found, None) if found is not None else (None, InputError("UNKNOWN_PARTY", "partner",
                                                                     {}))


async def staff_dashboard(bo: Backoffice, request: Request) -> Response:
    who = bo.require(request, roles=DASHBOARD_READERS, kind=SettlementPage)
    page = bo.page(request, who, SettlementPage)
    assert isinstance(page, SettlementPage)
    party_id, error = _staff_party(bo, page)
    return _render(bo, page, party_id, base="/console/dashboards", error=error,
                   choose_partner=True)


async def staff_dashboard_csv(bo: Backoffice, request: Request) -> Response:
    who = bo.require(request, roles=DASHBOARD_READERS, kind=SettlementPage)
    page = bo.page(request, who, SettlementPage)
    assert isinstance(page, SettlementPage)
    party_id, error = _staff_party(bo, page)
    if error is not None:
        return page.finish(Response("unknown partner\n", status_code=400,
                                    media_type="text/plain"))
    return _csv(bo, page, party_id)


def _partner_user(bo: Backoffice, request: Request) -> tuple[int, SettlementPage]:
    who = bo.require(request, roles=PARTNER_READERS, kind=PartnerSettlementPage)
    assert who.partner_id is not None
    page = bo.page(request, who, PartnerSettlementPage)
    assert isinstance(page, SettlementPage)
    return who.partner_id, page


async def partner_dashboard(bo: Backoffice, request: Request) -> Response:
    partner_id, page = _partner_user(bo, request)
    return _render(bo, page, partner_id, base="/partner/dashboard", choose_partner=False)


async def partner_dashboard_csv(bo: Backoffice, request: Request) -> Response:
    partner_id, page = _partner_user(bo, request)
    return _csv(bo, page, partner_id)
