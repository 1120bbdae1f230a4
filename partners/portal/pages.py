"""The partner portal's pages. Every handler asks the back office for the signed-in partner
user with the roles it admits, and reads only rows of that user's partner: the partner id
comes from the account, never from the URL or the form, so another partner's ids in a URL
find nothing (404) rather than something to hide."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from starlette.requests import Request
from starlette.responses import Response

from network import cards
from network.backoffice.roles import Principal
from network.backoffice.site import Backoffice, not_found
from network.db.schema import members
from network.programme.budgets import SPENT
from network.programme.campaigns_schema import campaign_awards, campaigns
from network.web.i18n import ascii_digits
from partners import keys as api_keys
from partners import ledger_view
from partners.portal.page import MANAGERS, READERS, TILL, PortalPage

PAGE_SIZE = 50
CSV_LIMIT = 10_000


@dataclass(frozen=True)
class FilterError:
    code: str
    field: str
    params: dict[str, Any]


def portal_user(bo: Backoffice, request: Request, roles: Collection[str]
                ) -> tuple[Principal, int, PortalPage]:
    """The signed-in partner user if their role is among `roles`, their partner's id (from the
    account, never the request) and their page; every portal handler starts here."""
    who = bo.require(request, roles=roles, kind=PortalPage)
    assert who.partner_id is not None  # partner roles belong to partner users only
    page = bo.page(request, who, PortalPage)
    assert isinstance(page, PortalPage)
    return who, who.partner_id, page


async def home(bo: Backoffice, request: Request) -> Response:
    _, _, page = portal_user(bo, request, TILL)
    return page.redirect("/partner/transactions")


@dataclass(frozen=True)
class TxFilters:
    kind: str
    first: dt.date | None
    last: dt.date | None
    card: str


def _filters(request: Request) -> tuple[TxFilters, FilterError | None]:
    q = request.query_params
    kind = (q.get("kind") or "").strip()
    card = ascii_digits((q.get("card") or "").replace(" ", ""))[:32]
    raw = {"from": q.get("from") or "", "to": q.get("to") or ""}
    dates: dict[str, dt.date | None] = {}
    error = None
    for name, value in raw.items():
        try:
            dates[name] = dt.date.fromisoformat(ascii_digits(value.strip())) if value else None
        except ValueError:
            dates[name], error = None, FilterError("BAD_DATE", name, {})
    if kind and kind not in ledger_view.PARTNER_KINDS:
        kind, error = "", FilterError("BAD_KIND", "kind", {})
    if card and (len(card) != 16 or not card.isdigit()):
        card, error = "", FilterError("BAD_CARD", "card", {})
    return TxFilters(kind, dates["from"], dates["to"], card), error


def _entries(conn: Connection, partner_id: int, f: TxFilters, zone: str, limit: int,
             before: int | None) -> list[Any]:
    member_id = None
    if f.card:
        member_id = conn.execute(select(members.c.id).where(
            members.c.card_number == f.card)).scalar()
        if member_id is None:
            return []
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(f.first, dt.time(), tz) if f.first else None
    end = dt.datetime.combine(f.last + dt.timedelta(days=1), dt.time(), tz) if f.last else None
    rows = ledger_view.entries(conn, partner_id, limit=limit, before_id=before,
                               kinds=[f.kind] if f.kind else [], booked_from=start,
                               booked_before=end, member_id=member_id)
    cards_by_id = dict(conn.execute(select(members.c.id, members.c.card_number).where(
        members.c.id.in_({r.member_id for r in rows}))).tuples().all()) if rows else {}
    return [(r, cards_by_id.get(r.member_id, "")) for r in rows]


async def transactions(bo: Backoffice, request: Request) -> Response:
    _, partner_id, page = portal_user(bo, request, TILL)
    f, error = _filters(request)
    before_raw = ascii_digits(request.query_params.get("before") or "")
    before = int(before_raw) if before_raw.isdigit() else None
    rows = bo.db.read(_entries, partner_id, f, bo.settings.timezone, PAGE_SIZE + 1, before)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = request.url.query
    older = None
    if more:
        params = {k: v for k, v in request.query_params.items() if k != "before"}
        params["before"] = str(rows[-1][0].id)
        older = "/partner/transactions?" + urlencode(params)
    return page.render("portal_transactions.html", status=400 if error else 200, rows=rows,
                       f=f, filter_error=error, kinds=ledger_view.PARTNER_KINDS,
                       csv_href="/partner/transactions.csv" + (f"?{query}" if query else ""),
                       older=older, limit=CSV_LIMIT, grouped=cards.grouped)


async def transactions_csv(bo: Backoffice, request: Request) -> Response:
    _, partner_id, page = portal_user(bo, request, TILL)
    f, error = _filters(request)
    if error is not None:
        return page.finish(Response(f"{error.code} ({error.field})\n", status_code=400,
                                    media_type="text/plain"))
    rows = bo.db.read(_entries, partner_id, f, bo.settings.timezone, CSV_LIMIT, None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "booked_at", "kind", "points", "card_number", "reference",
                     "reverses_entry_id"])
    for r, card in rows:
        writer.writerow([r.id, r.booked_at.isoformat(), r.kind, r.points, card,
                         r.reference or "", r.reverses_entry_id or ""])
    return page.finish(Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="pointsnet-transactions.csv"'}))


def _members(conn: Connection, partner_id: int, before: int | None) -> tuple[int, list[Any]]:
    m = members.c
    count = conn.execute(select(func.count()).select_from(members)
                         .where(m.enrolled_by_party_id == partner_id)).scalar_one()
    query = (select(m.id, m.card_number, m.locale, m.created_at)
             .where(m.enrolled_by_party_id == partner_id).order_by(m.id.desc())
             .limit(PAGE_SIZE + 1))
    if before is not None:
        query = query.where(m.id < before)
    return int(count), list(conn.execute(query))


async def enrolled_members(bo: Backoffice, request: Request) -> Response:
    _, partner_id, page = portal_user(bo, request, READERS)
    before_raw = ascii_digits(request.query_params.get("before") or "")
    count, rows = bo.db.read(_members, partner_id,
                             int(before_raw) if before_raw.isdigit() else None)
    older = f"/partner/members?before={rows[PAGE_SIZE - 1].id}" if len(rows) > PAGE_SIZE \
        else None
    return page.render("portal_members.html", count=count, rows=rows[:PAGE_SIZE], older=older,
                       grouped=cards.grouped)


def _campaigns(conn: Connection, partner_id: int) -> list[Any]:
    a = campaign_awards.c
    performance = (select(a.campaign_id, func.sum(a.points).label("awarded"),
                          func.count(a.member_id.distinct()).label("reached"))
                   .where(a.campaign_id.is_not(None)).group_by(a.campaign_id).subquery())
    c = campaigns.c
    return list(conn.execute(
        select(c.id, c.code, c.status, c.budget_points, SPENT.label("spent_points"),
               func.coalesce(performance.c.awarded, 0).label("awarded"),
               func.coalesce(performance.c.reached, 0).label("reached"))
        .select_from(campaigns.outerjoin(performance, performance.c.campaign_id == c.id))
        .where(c.owner_party_id == partner_id).order_by(c.id.desc())))


async def partner_campaigns(bo: Backoffice, request: Request) -> Response:
    _, partner_id, page = portal_user(bo, request, READERS)
    return page.render("portal_campaigns.html", rows=bo.db.read(_campaigns, partner_id))


async def partner_keys(bo: Backoffice, request: Request) -> Response:
    who, partner_id, page = portal_user(bo, request, READERS)
    rows = bo.db.read(api_keys.list_keys, partner_id)
    revoked = request.query_params.get("revoked")
    notice = None
    if revoked and any(k.key_id == revoked and k.revoked_at for k in rows):
        notice = page.values()["t"]("p_revoked_notice", key=revoked)
    return page.render("portal_keys.html", rows=rows, now=bo.clock(), notice=notice,
                       may_revoke=who.role in MANAGERS)


async def revoke_key(bo: Backoffice, request: Request) -> Response:
    """A manager revokes one of their partner's keys; revoking it again changes nothing and
    writes no second audit entry."""
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    await bo.form(request, page)
    key_id = request.path_params["key_id"]

    def write(conn: Connection) -> bool:
        key = api_keys.find_key(conn, key_id)
        if key is None or key.party_id != partner_id:
            return False
        if key.revoked_at is None:
            api_keys.revoke_key(conn, key_id, bo.clock())
            bo.audit(conn, request, who, action="partner_key.revoke",
                     subject=f"partner_key:{key_id}", before={"revoked": False},
                     after={"revoked": True, "partner_id": partner_id})
        return True

    if not bo.db.write(write):
        return not_found(page)
    return page.redirect(f"/partner/keys?revoked={key_id}")
