"""/wallet/donate: pick a charity and an amount, confirm, donate once.

The idempotency key is minted when the form is first shown and rides along in a hidden field,
so pressing confirm twice, or refreshing the confirmation, books one donation.
"""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response

from network.ledger import balances
from network.ledger.errors import LedgerError
from network.signin.sessions import Session
from network.wallet import donations, parties_view
from network.wallet.errors import WalletError
from network.wallet.pages.site import Site, text
from network.wallet.parties_view import PartyName
from network.web.rendering import Page

# The ledger names inputs as the API does; the form names them after its own fields.
_FORM_FIELDS = {"charityId": "charity", "points": "points"}


def _as_form_error(error: LedgerError) -> LedgerError:
    field = _FORM_FIELDS.get(error.field or "")
    error.field = field
    return error


def _form(site: Site, page: Page, session: Session, *, charity: str, points: str, key: str,
          error: LedgerError | None = None) -> Response:
    def read(conn: Connection) -> tuple[list[PartyName], int]:
        return (parties_view.charities(conn),
                balances.summary(conn, session.member_id, site.clock()).spendable)

    charities, spendable = site.db.read(read)
    status = 200 if error is None else (409 if error.code.startswith("IDEMPOTENCY") else 400)
    return page.render("donate.html", status=status, charities=charities, spendable=spendable,
                       charity=charity, points=points, idempotency_key=key, error=error)


async def donate_form(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    return _form(site, page, session, charity=request.query_params.get("charity", ""),
                 points=request.query_params.get("points", ""), key=f"web-{uuid.uuid4().hex}")


async def donate_review(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    form = await site.form(request, page)
    charity_raw, points_raw = text(form, "charity"), text(form, "points")
    key = text(form, "idempotency_key") or f"web-{uuid.uuid4().hex}"
    try:
        charity_id = donations.parse_charity_id(charity_raw)
        points = donations.parse_points(points_raw)
        charity = donations.check(site.db, session.member_id, charity_id, points,
                                  now=site.clock())
        spendable = site.db.read(balances.summary, session.member_id, site.clock()).spendable
    except WalletError as error:
        return _form(site, page, session, charity=charity_raw, points=points_raw, key=key,
                     error=error)
    return page.render("donate_confirm.html", charity=charity, points=points,
                       spendable=spendable, idempotency_key=key)


async def donate_confirm(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    form = await site.form(request, page)
    charity_raw, points_raw = text(form, "charity"), text(form, "points")
    key = text(form, "idempotency_key")
    try:
        charity_id = donations.parse_charity_id(charity_raw)
        points = donations.parse_points(points_raw)
        receipt = donations.donate(site.db, session.member_id, charity_id, points, key,
                                   now=site.clock(), settings=site.settings)
    except LedgerError as error:
        return _form(site, page, session, charity=charity_raw, points=points_raw,
                     key=key or f"web-{uuid.uuid4().hex}", error=_as_form_error(error))
    site.send_queued()  # the receipt
    return page.redirect(f"/wallet?donated={receipt.entry_id}")
