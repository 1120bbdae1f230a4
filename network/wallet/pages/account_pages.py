"""/wallet/contact and /wallet/sessions: the member's own account settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network import members
from network.signin import devices
from network.wallet.contact import ContactChange, update_contact
from network.wallet.errors import WalletError
from network.wallet.pages.site import Site, text
from network.wallet.pages.wallet_pages import not_found
from network.web import cookies


async def contact_form(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    member = site.db.read(members.get, session.member_id, site.settings.secret_key)
    if member is None:
        return not_found(page)
    form = {"displayName": member.display_name, "email": member.email, "phone": member.phone}
    return page.render("contact.html", form=form)


async def contact_submit(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    posted = await site.form(request, page)
    form = {name: text(posted, name) for name in ("displayName", "email", "phone")}
    change = ContactChange(email=form["email"], phone=form["phone"],
                           display_name=form["displayName"])
    try:
        update_contact(site.db, site.settings.secret_key, session.member_id, change, site.clock(),
                       site.settings.default_country)
    except WalletError as error:
        return page.render("contact.html", status=400, form=form, error=error)
    response = page.redirect("/wallet?done=contact")
    site.send_queued()
    return response


async def sessions_list(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    notice = page.locale.t("notice_session_revoked") \
        if request.query_params.get("done") == "revoked" else None
    return page.render("sessions.html", sessions=site.signin.sessions(session.member_id),
                       current_id=session.id, notice=notice,
                       device=lambda agent: devices.label(page.locale, agent))


async def session_revoke(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    await site.form(request, page)
    target = request.path_params["session_id"]
    if not site.signin.revoke(session.member_id, target):
        return not_found(page)  # another member's session, or one already ended: same answer
    if target == session.id:
        response = page.redirect("/signin?done=signed_out")
        cookies.drop(response, site.settings, cookies.SESSION)
        return response
    return page.redirect("/wallet/sessions?done=revoked")
