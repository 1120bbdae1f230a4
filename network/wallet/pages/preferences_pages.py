"""/wallet/preferences (which messages the member gets, quiet hours, time zone) and the
one-click /unsubscribe/{token} link of every email about points or offers.

The unsubscribe link needs no sign-in: its token proves which member and which kind of email
(network/notifications/unsubscribe.py). A GET only asks (mail scanners open links); the POST,
from the page's button or from a mail provider's RFC 8058 one-click, switches the email off.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from network import members
from network.notifications import preferences, unsubscribe
from network.notifications.preferences import Change, PreferencesError
from network.wallet.pages.site import Site, text
from network.wallet.pages.wallet_pages import not_found

# Offered in the zone list besides the network's and the member's own.
ZONES = ("Asia/Tehran", "Asia/Dubai", "Europe/Istanbul", "Europe/Berlin", "Europe/London",
         "America/New_York", "America/Los_Angeles", "UTC")


def _form_of(prefs: preferences.Preferences) -> dict[str, Any]:
    quiet = prefs.quiet or preferences.DEFAULT_QUIET
    return {"programme_sms": prefs.programme_sms, "programme_email": prefs.programme_email,
            "marketing_sms": prefs.marketing_sms, "marketing_email": prefs.marketing_email,
            "quiet": prefs.quiet is not None, "quiet_start": preferences.clock_text(quiet[0]),
            "quiet_end": preferences.clock_text(quiet[1]), "time_zone": prefs.time_zone or ""}


def _render(site: Site, request: Request, page: Any, member_id: int, form: dict[str, Any],
            *, status: int = 200, error: PreferencesError | None = None,
            notice: str | None = None) -> Response:
    member = site.db.read(members.get, member_id, site.settings.secret_key)
    if member is None:
        return not_found(page)
    zones = list(dict.fromkeys([*ZONES, *( [form["time_zone"]] if form["time_zone"] else [])]))
    wording = preferences.WORDINGS[preferences.WORDING_VERSION]
    return page.render("preferences.html", status=status, form=form, error=error, notice=notice,
                       has_phone=bool(member.phone), has_email=bool(member.email), zones=zones,
                       network_zone=site.settings.timezone,
                       wording=wording.get(page.locale.language, wording["en"]),
                       wording_version=preferences.WORDING_VERSION)


async def preferences_form(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    prefs = site.db.read(preferences.load, session.member_id, site.settings.timezone)
    notice = page.locale.t("prefs_saved") if request.query_params.get("done") == "saved" else None
    return _render(site, request, page, session.member_id, _form_of(prefs), notice=notice)


def change_from_form(posted: FormData, language: str) -> Change:
    """The posted form as a Change: unticked boxes are off, quiet hours off without the box."""
    def ticked(name: str) -> bool:
        return text(posted, name) == "on"

    quiet: tuple[int, int] | None = None
    if ticked("quiet"):
        quiet = (preferences.parse_clock(text(posted, "quiet_start"), "quiet_start"),
                 preferences.parse_clock(text(posted, "quiet_end"), "quiet_end"))
    return Change(programme_sms=ticked("programme_sms"),
                  programme_email=ticked("programme_email"),
                  marketing_sms=ticked("marketing_sms"),
                  marketing_email=ticked("marketing_email"), quiet=quiet,
                  time_zone=preferences.check_zone(text(posted, "time_zone"), "time_zone"),
                  wording_version=text(posted, "wording_version") or None, language=language)


async def preferences_submit(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    posted = await site.form(request, page)
    try:
        change = change_from_form(posted, page.locale.language)
        site.db.write(preferences.change, session.member_id, change, source="web",
                      now=site.clock(), network_zone=site.settings.timezone)
    except PreferencesError as error:
        form = {name: text(posted, name) == "on" for name in (
            "programme_sms", "programme_email", "marketing_sms", "marketing_email", "quiet")}
        form |= {name: text(posted, name) for name in ("quiet_start", "quiet_end", "time_zone")}
        return _render(site, request, page, session.member_id, form, status=400, error=error)
    return page.redirect("/wallet/preferences?done=saved")


async def unsubscribe_ask(site: Site, request: Request) -> Response:
    page = site.page(request)
    found = unsubscribe.read(site.settings.secret_key, request.path_params["token"])
    if found is None:
        return page.render("unsubscribe.html", status=404, state="invalid", category=None)
    return page.render("unsubscribe.html", state="ask", category=found[1],
                       token=request.path_params["token"])


async def unsubscribe_confirm(site: Site, request: Request) -> Response:
    """RFC 8058 one-click: a POST with `List-Unsubscribe=One-Click`, no cookie, no CSRF token;
    the signed token is the authority, and all it can do is switch email off."""
    page = site.page(request)
    found = unsubscribe.read(site.settings.secret_key, request.path_params["token"])
    if found is None:
        return page.render("unsubscribe.html", status=404, state="invalid", category=None)
    member_id, category = found
    if site.db.read(members.get, member_id, site.settings.secret_key) is None:
        return page.render("unsubscribe.html", status=404, state="invalid", category=None)
    site.db.write(preferences.opt_out, member_id, (category,), "email", source="unsubscribe",
                  now=site.clock())
    return page.render("unsubscribe.html", state="done", category=category)
