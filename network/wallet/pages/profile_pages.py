"""/wallet/profile: the member's profile (network/profile.py). Saving a language also makes it
the wallet's language in this browser; completing the profile tells the programme."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from network import profile
from network.ledger.errors import LedgerError
from network.wallet.pages.signin_pages import LANGUAGE_SECONDS
from network.wallet.pages.site import Site, text
from network.wallet.pages.wallet_pages import not_found
from network.web import cookies
from network.web.rendering import Page

FIELDS = ("displayName", "birthDate", "city", "language")


def _render(page: Page, form: dict[str, Any], found: profile.Profile, status: int = 200,
            error: LedgerError | None = None) -> Response:
    return page.render("profile.html", status=status, form=form, profile=found,
                       interests=profile.INTERESTS, error=error)


async def profile_form(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    found = site.db.read(profile.get, session.member_id)
    if found is None:
        return not_found(page)
    form = {"displayName": found.display_name or "",
            "birthDate": found.birth_date.isoformat() if found.birth_date else "",
            "city": found.city or "", "language": found.language,
            "interests": list(found.interests)}
    return _render(page, form, found)


async def profile_submit(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    posted = await site.form(request, page)
    form: dict[str, Any] = {name: text(posted, name) for name in FIELDS}
    form["interests"] = [v for v in posted.getlist("interests") if isinstance(v, str)]
    change = profile.ProfileChange(display_name=form["displayName"], birth_date=form["birthDate"],
                                   city=form["city"], language=form["language"] or None,
                                   interests=form["interests"])
    try:
        saved = profile.update_profile(site.db, session.member_id, change, now=site.clock(),
                                       timezone=site.settings.timezone,
                                       request_id=request.headers.get("x-request-id"))
    except LedgerError as error:
        found = site.db.read(profile.get, session.member_id)
        return _render(page, form, found, status=400, error=error)
    done = "profile_completed" if saved.completed_now else "profile"
    response = page.redirect(f"/wallet?done={done}")
    cookies.put(response, site.settings, cookies.LANGUAGE, saved.profile.language,
                max_age=LANGUAGE_SECONDS)
    return response
