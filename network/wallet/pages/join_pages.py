"""/join: self-enrolment on the web (network/wallet/join.py), linked from the sign-in page.

Ask for a code, type it, and the wallet opens with the new card and its QR. The referral link
a member shares (`/join?ref=CODE`) fills in the referral code.
"""

from __future__ import annotations

import base64
import binascii
import json

from starlette.requests import Request
from starlette.responses import Response

from network.members import ReferrerNotFound
from network.signin.addresses import mask, parse_address
from network.signin.sessions import SESSION_LIFETIME
from network.wallet.errors import WalletError
from network.wallet.join import Join
from network.wallet.pages.signin_pages import CODE_FORM_SECONDS, LANGUAGE_SECONDS
from network.wallet.pages.site import Site, text
from network.web import cookies
from network.web.rendering import Page

MAX_REFERRER = 40


def _pack(address: str, referrer: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([address, referrer]).encode()).decode()


def _unpack(value: str | None) -> tuple[str, str] | None:
    """The address the code went to and the referral code typed; None if missing or forged."""
    try:
        address, referrer = json.loads(base64.urlsafe_b64decode((value or "").encode()))
        if not isinstance(referrer, str) or len(referrer) > MAX_REFERRER:
            return None
        return parse_address(address).value, referrer
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, WalletError):
        return None


def _status(error: Exception) -> int:
    return 429 if getattr(error, "code", "") == "RATE_LIMITED" else 400


async def join_form(site: Site, request: Request) -> Response:
    session = site.session(request)
    page = site.page(request, session)
    if session is not None:
        return page.redirect("/wallet")
    referrer = request.query_params.get("ref", "")[:MAX_REFERRER]
    return page.render("join.html", address="", referrer=referrer)


async def join_submit(site: Site, request: Request) -> Response:
    page = site.page(request)
    form = await site.form(request, page)
    raw, referrer = text(form, "address"), text(form, "referrer")[:MAX_REFERRER]
    try:
        address = Join(site.signin).request_code(
            raw, client_ip=site.client_ip(request), language=page.locale.language,
            raw_referrer=referrer)
    except (WalletError, ReferrerNotFound) as error:
        return page.render("join.html", status=_status(error), address=raw, referrer=referrer,
                           error=error)
    response = page.redirect("/join/code")
    cookies.put(response, site.settings, cookies.JOIN, _pack(address.value, referrer),
                max_age=CODE_FORM_SECONDS)
    site.send_queued()
    return response


def _code_page(site: Site, page: Page, address: str, referrer: str,
               error: Exception | None = None) -> Response:
    parsed = parse_address(address, country=site.settings.default_country)
    masked = page.locale.digits(mask(parsed)) if parsed.kind == "phone" else mask(parsed)
    minutes = int(site.signin.policy.ttl.total_seconds() // 60)
    spent = error is not None and getattr(error, "code", "") in ("TOO_MANY_ATTEMPTS",
                                                                 "CODE_EXPIRED")
    return page.render("join_code.html", status=200 if error is None else _status(error),
                       address=address, referrer=referrer, masked=masked, minutes=minutes,
                       error=error, spent=spent)


async def join_code_form(site: Site, request: Request) -> Response:
    page = site.page(request)
    packed = _unpack(cookies.get(request, site.settings, cookies.JOIN))
    if packed is None:
        return page.redirect("/join")
    return _code_page(site, page, *packed)


async def join_code_submit(site: Site, request: Request) -> Response:
    page = site.page(request)
    form = await site.form(request, page)
    packed = _unpack(cookies.get(request, site.settings, cookies.JOIN))
    if packed is None:
        return page.redirect("/join")
    address, referrer = packed
    try:
        done = Join(site.signin).verify(
            address, text(form, "code"), client_ip=site.client_ip(request), kind="cookie",
            user_agent=request.headers.get("user-agent", ""), language=page.locale.language,
            raw_referrer=referrer)
    except WalletError as error:
        return _code_page(site, page, address, referrer, error)
    except ReferrerNotFound as error:  # the referrer's membership ended since the code was sent
        return page.render("join.html", status=400, address=address, referrer=referrer,
                           error=error)
    previous = site.session(request)
    if previous is not None:
        site.signin.revoke(previous.member_id, previous.id)
    response = page.redirect("/wallet?done=" + ("joined" if done.joined else "already_member"))
    cookies.put(response, site.settings, cookies.SESSION, done.token,
                max_age=int(SESSION_LIFETIME.total_seconds()))
    cookies.put(response, site.settings, cookies.LANGUAGE, done.member.locale,
                max_age=LANGUAGE_SECONDS)
    cookies.drop(response, site.settings, cookies.JOIN)
    site.send_queued()
    return response
