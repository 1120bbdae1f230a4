"""/wallet/privacy: what the network holds about the member (readable, and as a JSON download)
and /wallet/privacy/erase: erasure, after an explicit confirmation (network/privacy.py)."""

from __future__ import annotations

import datetime as dt
import json

from starlette.requests import Request
from starlette.responses import Response

from network import cards, privacy
from network.wallet.errors import WalletError
from network.wallet.pages.site import Site, text
from network.web import cookies

FILENAME = "pointsnet-my-data.json"


async def privacy_page(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    data = site.db.read(privacy.export, session.member_id, site.settings.secret_key, site.clock())
    counts = {"privacy_ledger_entries": len(data["ledgerEntries"]),
              "privacy_lots": len(data["lots"]), "privacy_holds": len(data["holds"]),
              "privacy_events": len(data["events"]), "privacy_sessions": len(data["sessions"]),
              "privacy_notifications": len(data["notifications"]),
              "privacy_audit": len(data["auditLog"])}
    member = data["member"]
    birth = dt.date.fromisoformat(member["birthDate"]) if member["birthDate"] else None
    return page.render("privacy.html", data=data, member=member, counts=counts, birth=birth,
                       card=cards.grouped(member["cardNumber"]))


async def privacy_download(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    data = site.db.read(privacy.export, session.member_id, site.settings.secret_key, site.clock())
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    response = Response(body, media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{FILENAME}"'})
    return page.finish(response)


async def erase_form(site: Site, request: Request) -> Response:
    _, page = site.member(request)
    return page.render("erase.html")


async def erase_submit(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    form = await site.form(request, page)
    if text(form, "confirm") != "yes":
        error = WalletError("ERASURE_NOT_CONFIRMED", "Tick the box to confirm.", field="confirm")
        return page.render("erase.html", status=400, error=error)
    privacy.erase(site.db, secret=site.settings.secret_key, member_id=session.member_id,
                  now=site.clock(), request_id=request.headers.get("x-request-id"))
    response = page.redirect("/signin?done=erased")
    cookies.drop(response, site.settings, cookies.SESSION)
    return response
