"""/signin: ask for a code, then enter it. Also /signout and the language switch."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response

from network import profile
from network.signin.addresses import mask, parse_address
from network.signin.sessions import SESSION_LIFETIME
from network.wallet.contact import ContactChange, update_contact
from network.wallet.errors import WalletError
from network.wallet.pages.site import Site, text
from network.web import cookies, i18n
from network.web.rendering import Page

CODE_FORM_SECONDS = 600
LANGUAGE_SECONDS = 365 * 24 * 3600


def _pack(address: str) -> str:
    return base64.urlsafe_b64encode(address.encode()).decode()


def _unpack(value: str | None) -> str | None:
    """The address the code went to; None if the cookie is missing or was tampered with."""
    try:
        address = base64.urlsafe_b64decode((value or "").encode()).decode()
        return parse_address(address).value
    except (binascii.Error, UnicodeDecodeError, ValueError, WalletError):
        return None


def _status(error: WalletError) -> int:
    return 429 if error.code == "RATE_LIMITED" else 400


async def signin_form(site: Site, request: Request) -> Response:
    session = site.session(request)
    page = site.page(request, session)
    if session is not None:
        return page.redirect("/wallet")
    done = request.query_params.get("done")
    notice = {"signed_out": page.locale.t("notice_signed_out"),
              "erased": page.locale.t("notice_erased")}.get(done or "")
    return page.render("signin.html", address="", notice=notice)


async def signin_submit(site: Site, request: Request) -> Response:
    page = site.page(request)
    form = await site.form(request, page)
    raw = text(form, "address")
    try:
        asked = i18n.preferred(request.headers.get("accept-language"),
                               cookies.get(request, site.settings, cookies.LANGUAGE))
        address = site.signin.request_code(raw, client_ip=site.client_ip(request),
                                           language=asked)
    except WalletError as error:
        return page.render("signin.html", status=_status(error), address=raw, error=error)
    # "Send a new code" posts here too; the code page then confirms that it did something.
    response = page.redirect("/signin/code?resent=1" if text(form, "resend") else "/signin/code")
    cookies.put(response, site.settings, cookies.SIGNIN, _pack(address.value),
                max_age=CODE_FORM_SECONDS)
    site.send_queued()
    return response


async def code_form(site: Site, request: Request) -> Response:
    page = site.page(request)
    address = _unpack(cookies.get(request, site.settings, cookies.SIGNIN))
    if address is None:
        return page.redirect("/signin")
    resent = request.query_params.get("resent") == "1"
    return _code_page(site, page, address,
                      notice=page.locale.t("notice_code_resent") if resent else None)


# Refusals after which no code typed into this form can work: only a new code helps.
_CODE_IS_SPENT = ("TOO_MANY_ATTEMPTS", "CODE_EXPIRED")


def _code_page(site: Site, page: Page, address: str, error: WalletError | None = None,
               notice: str | None = None) -> Response:
    parsed = parse_address(address, country=site.settings.default_country)
    # A phone number is digits, so it takes the page's digits like the other numbers around
    # it; an email address is left exactly as typed (other digits would be another address).
    masked = page.locale.digits(mask(parsed)) if parsed.kind == "phone" else mask(parsed)
    minutes = int(site.signin.policy.ttl.total_seconds() // 60)
    status = 200 if error is None else _status(error)
    spent = error is not None and error.code in _CODE_IS_SPENT
    return page.render("signin_code.html", status=status, address=address, masked=masked,
                       minutes=minutes, error=error, spent=spent, notice=notice)


async def code_submit(site: Site, request: Request) -> Response:
    page = site.page(request)
    form = await site.form(request, page)
    address = _unpack(cookies.get(request, site.settings, cookies.SIGNIN))
    if address is None:
        return page.redirect("/signin")
    try:
        token, session = site.signin.verify(address, text(form, "code"),
                                      client_ip=site.client_ip(request), kind="cookie",
                                      user_agent=request.headers.get("user-agent", ""))
    except WalletError as error:
        return _code_page(site, page, address, error)
    # A session this browser already had (someone else signed in on it, or the same member
    # again) would outlive the cookie it is about to lose: end it server-side, not orphan it.
    previous = site.session(request)
    if previous is not None:
        site.signin.revoke(previous.member_id, previous.id)
    response = page.redirect("/wallet")
    cookies.put(response, site.settings, cookies.SESSION, token,
                max_age=int(SESSION_LIFETIME.total_seconds()))
    cookies.drop(response, site.settings, cookies.SIGNIN)
    # The language the member chose on their profile opens their wallet, on any browser.
    chosen = site.db.read(profile.chosen_language, session.member_id)
    if chosen is not None:
        cookies.put(response, site.settings, cookies.LANGUAGE, chosen, max_age=LANGUAGE_SECONDS)
    return response


async def signout(site: Site, request: Request) -> Response:
    session = site.session(request)
    page = site.page(request, session)
    await site.form(request, page)
    if session is not None:
        site.signin.revoke(session.member_id, session.id)
    response = page.redirect("/signin?done=signed_out")
    cookies.drop(response, site.settings, cookies.SESSION)
    return response


async def switch_language(site: Site, request: Request) -> Response:
    session = site.session(request)
    page = site.page(request, session)
    form = await site.form(request, page)
    language = text(form, "lang")
    target = text(form, "next")
    # Only a path on this site: an absolute or scheme-relative URL would be an open redirect.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/wallet"
    response = page.redirect(target)
    if language in i18n.SUPPORTED:
        cookies.put(response, site.settings, cookies.LANGUAGE, language, max_age=LANGUAGE_SECONDS)
        if session is not None:  # codes and notices then come in this language too
            update_contact(site.db, site.settings.secret_key, session.member_id,
                           ContactChange(locale=language), site.clock())
    return response
