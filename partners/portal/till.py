"""/partner/till: the cashier checks a coupon a member shows, then uses it.

Checking (a POST, so codes stay out of URLs and logs) reads only: `rewards_buy.find_coupon` and
`rewards.check_redeemable`, the very rules redeemCoupon applies. Using calls
`rewards_buy.redeem_coupon`, the function behind the API's redeemCoupon, with the partner taken
from the signed-in account, so a refusal here is the same refusal (same code) as there. The
form carries a one-time key: pressing "use" twice, or the browser resending the form, uses the
coupon once and writes one audit entry (written in the redemption's own transaction).

Guessing codes at the till is throttled: each refused code (unknown, mistyped, another
partner's, used, expired) counts against the signed-in account, and after `TRIES` refusals in a
minute every check and use answers TOO_MANY_TRIES (429) until the minute is over. Only refusals
count, so a busy honest till is never slowed; a guesser, who is refused nearly every time, is.
The counter is the sign-in limiter's table (network/signin/ratelimit.py), so every process
shares it, and each refusal is committed on its own (the check is a read).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.errors import BackofficeError
from network.backoffice.roles import Principal
from network.backoffice.site import Backoffice, text
from network.errors import HubError
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardError, check_redeemable
from network.programme.rewards_buy import Purchase
from network.signin import ratelimit
from network.web.errors import WalletError
from network.web.i18n import ascii_digits
from partners.portal.page import CASHIERS, PortalPage
from partners.portal.pages import portal_user

MAX_CODE = 64
TRIES = 10  # refused codes a minute per account before the till says TOO_MANY_TRIES
REFUSALS = ratelimit.Limit("till", TRIES, dt.timedelta(minutes=1))


@dataclass(frozen=True)
class Coupon:
    purchase: Purchase
    name_en: str
    name_fa: str


def _named(conn: Connection, found: Purchase) -> Coupon:
    reward = rewards_store.get(conn, found.reward_id)
    spec = reward.spec if reward is not None else None
    return Coupon(found, spec.name_en if spec else "", (spec.name_fa or spec.name_en)
                  if spec else "")


def check(conn: Connection, partner_id: int, code: str, at: object) -> Coupon:
    """The coupon behind `code` if this partner may use it now, else the RewardError saying
    why (unknown, mistyped, another partner's, already used, refunded, expired)."""
    found = rewards_buy.find_coupon(conn, partner_id, code)
    check_redeemable(found.status, found.expires_at, at)  # type: ignore[arg-type]
    return _named(conn, found)


def _used(conn: Connection, partner_id: int, purchase_id: int) -> Coupon | None:
    found = rewards_buy.purchase(conn, purchase_id)
    if found is None or found.partner_id != partner_id or found.status != "used":
        return None
    return _named(conn, found)


def _typed(value: str) -> str:
    """The code as typed, Persian or Arabic digits read as ASCII (a Persian keyboard's)."""
    return ascii_digits(value.strip())[:MAX_CODE]


def _throttled(bo: Backoffice, who: Principal) -> BackofficeError | None:
    """TOO_MANY_TRIES when this account had `TRIES` codes refused this minute, else None."""
    wait = bo.db.read(ratelimit.retry_after, REFUSALS, str(who.account_id), bo.clock())
    if wait is None:
        return None
    refused = BackofficeError("TOO_MANY_TRIES", f"{TRIES} codes were refused in a minute; "
                              f"try again in {wait} seconds", field="code", retry_after=wait)
    refused.params = {"tries": TRIES, "seconds": wait}
    return refused


def _count_refusal(bo: Backoffice, who: Principal) -> None:
    try:
        bo.db.write(ratelimit.hit, REFUSALS, str(who.account_id), bo.clock())
    except WalletError:
        pass  # already over: _throttled refuses the next try


def _refusal(page: PortalPage, code: str, error: HubError, status: int) -> Response:
    response = page.render("portal_till.html", status=status, code=code, coupon=None,
                           used=None, error=error, form_key=secrets.token_urlsafe(16))
    if isinstance(error, BackofficeError) and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def till(bo: Backoffice, request: Request) -> Response:
    """The code form; with ?used= the coupon just used (only this partner's)."""
    _, partner_id, page = portal_user(bo, request, CASHIERS)
    used_raw = request.query_params.get("used") or ""
    used = bo.db.read(_used, partner_id, int(used_raw)) if used_raw.isdigit() else None
    return page.render("portal_till.html", code="", coupon=None, used=used,
                       form_key=secrets.token_urlsafe(16))


async def check_code(bo: Backoffice, request: Request) -> Response:
    """The coupon checked, read only. A POST, so codes stay out of URLs, history and logs."""
    who, partner_id, page = portal_user(bo, request, CASHIERS)
    form = await bo.form(request, page)
    code = _typed(text(form, "code"))
    throttled = _throttled(bo, who)
    if throttled is not None:
        return _refusal(page, code, throttled, 429)
    try:
        coupon = bo.db.read(check, partner_id, code, bo.clock())
    except RewardError as refused:
        _count_refusal(bo, who)
        return _refusal(page, code, refused, 400)
    return page.render("portal_till.html", code=code, coupon=coupon, used=None,
                       form_key=secrets.token_urlsafe(16))


async def use(bo: Backoffice, request: Request) -> Response:
    who, partner_id, page = portal_user(bo, request, CASHIERS)
    form = await bo.form(request, page)
    code = _typed(text(form, "code"))
    key = text(form, "key").strip()[:64] or secrets.token_urlsafe(16)
    throttled = _throttled(bo, who)
    if throttled is not None:
        return _refusal(page, code, throttled, 429)

    def audit(conn: Connection, found: Purchase) -> None:
        bo.audit(conn, request, who, action="coupon.redeem", subject=f"coupon:{found.id}",
                 before={"status": found.status},
                 after={"status": "used", "partner_id": partner_id, "reward_id": found.reward_id,
                        "points": found.points})

    try:
        found = rewards_buy.redeem_coupon(bo.db, partner_id=partner_id, code=code,
                                          scope=who.scope, idempotency_key=f"till:{key}",
                                          now=bo.clock(), then=audit)
    except RewardError as refused:
        _count_refusal(bo, who)
        return _refusal(page, code, refused, 409)
    return page.redirect(f"/partner/till?used={found.id}")
