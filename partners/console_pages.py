"""The partners' pages of the operator's console, owned here because they read partners'
registry, contracts and keys (network cannot import partners): /console/partners lists them
with the terms in force, /console/partners/{code} shows contract versions and API keys, where an
operator adds a new rate from a future date (the same plan_version as `pointsnet partners
contract add`) or revokes a key (effective on the partner's next request). The composition
root mounts `routes(backoffice)`, as it mounts the GraphQL slices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from network import parties
from network.backoffice.errors import BackofficeError
from network.backoffice.page import NavItem, register_nav
from network.backoffice.roles import ANY_STAFF, OPERATORS
from network.backoffice.site import Backoffice, bind, not_found, text
from network.console.member_pages import staff
from network.errors import HubError
from network.web.i18n import ascii_digits
from partners import contracts, keys, registry
from partners import terms as contract_terms

register_nav(NavItem("/console/partners", "nav_partners", "staff", ANY_STAFF))


async def partner_list(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, ANY_STAFF)
    now = bo.clock()

    def read(conn):  # type: ignore[no-untyped-def]
        return [(p, contract_terms.pick(contracts.versions(conn, p.id), now))
                for p in parties.list_parties(conn, "partner")]

    return page.render("console_partners.html", rows=bo.db.read(read),
                       currency=bo.settings.currency, zone=bo.settings.timezone)


def _partner_page(bo: Backoffice, request: Request, who, page, code: str,  # type: ignore[no-untyped-def]
                  error: HubError | None = None, status: int = 200) -> Response:
    now = bo.clock()

    def read(conn):  # type: ignore[no-untyped-def]
        partner = registry.find_partner(conn, code)
        if partner is None or partner.code != code:
            return None
        return (parties.get(conn, partner.id, "partner"), contracts.versions(conn, partner.id),
                keys.list_keys(conn, partner.id))

    found = bo.db.read(read)
    if found is None:
        return not_found(page)
    partner, versions, api_keys = found
    in_force = contract_terms.pick(versions, now)
    t = page.values()["t"]
    return page.render("console_partner.html", status=status, partner=partner,
                       versions=versions, in_force=in_force, keys=api_keys, now=now,
                       may_act=who.role in OPERATORS, error=error,
                       notice=t("c_notice_done") if request.query_params.get("done") else None)


async def partner_detail(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, ANY_STAFF)
    return _partner_page(bo, request, who, page, request.path_params["code"])


async def revoke_key(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    await bo.form(request, page)
    code, key_id = request.path_params["code"], request.path_params["key_id"]
    now = bo.clock()

    def write(conn):  # type: ignore[no-untyped-def]
        partner = registry.find_partner(conn, code)
        key = keys.find_key(conn, key_id)
        if partner is None or key is None or key.party_id != partner.id:
            raise BackofficeError("NOT_FOUND", "no such key for this partner")
        before = key.status(now)
        keys.revoke_key(conn, key_id, now)
        bo.audit(conn, request, who, action="partner.key_revoked",
                 subject=f"partner:{partner.id}", before={"key": key_id, "status": before},
                 after={"key": key_id, "status": "revoked"})

    try:
        bo.db.write(write)
    except HubError as refused:
        return _partner_page(bo, request, who, page, code, refused, 404)
    return page.redirect(f"/console/partners/{code}?done=1")


def _decimal(raw: str, field: str) -> Decimal | None:
    raw = ascii_digits(raw.strip()).replace("٫", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BackofficeError("BAD_NUMBER", f"{field} must be a decimal number",
                              field=field) from None
    if not value.is_finite():
        raise BackofficeError("BAD_NUMBER", f"{field} must be a decimal number", field=field)
    return value


async def add_version(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    form = await bo.form(request, page)
    code = request.path_params["code"]
    now = bo.clock()
    try:
        day = dt.date.fromisoformat(ascii_digits(text(form, "from").strip()))
    except ValueError:
        return _partner_page(bo, request, who, page, code,
                             BackofficeError("BAD_DATE", "the start is a date, YYYY-MM-DD",
                                             field="from"), 400)
    # Midnight in the network's zone, as `pointsnet partners contract add --from`.
    start = dt.datetime.combine(day, dt.time(), ZoneInfo(bo.settings.timezone)).astimezone(dt.UTC)
    try:
        changes = {name: value for name, value in (
            ("earn_points_per_unit", _decimal(text(form, "earn_rate"), "earnRate")),
            ("clearing_price_per_point", _decimal(text(form, "clearing"), "clearingPrice")),
        ) if value is not None}
        if not changes:
            raise BackofficeError("NOTHING_TO_CHANGE", "give at least one term to change",
                                  field="earnRate")

        def write(conn):  # type: ignore[no-untyped-def]
            partner = registry.find_partner(conn, code)
            if partner is None:
                raise BackofficeError("NOT_FOUND", "no such partner")
            terms = contract_terms.plan_version(contracts.versions(conn, partner.id), changes,
                                                effective_from=start, now=now)
            contracts.add_contract(conn, partner.id, terms, effective_from=start, now=now)
            bo.audit(conn, request, who, action="partner.contract_added",
                     subject=f"partner:{partner.id}",
                     after={"from": start.isoformat(),
                            **{k: str(v) for k, v in changes.items()}})

        bo.db.write(write)
    except HubError as refused:
        return _partner_page(bo, request, who, page, code, refused, 400)
    return page.redirect(f"/console/partners/{code}?done=1")


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [
        ("/console/partners", partner_list, "GET"),
        ("/console/partners/{code}", partner_detail, "GET"),
        ("/console/partners/{code}/contracts", add_version, "POST"),
        ("/console/partners/{code}/keys/{key_id}/revoke", revoke_key, "POST"),
    ]
    return [Route(path, bind(bo, handler), methods=[method]) for path, handler, method in table]
