"""/wallet/gifts: send points to another member (card number or phone), see what was sent and
received, and accept or decline a gift that waits for your consent.

The send form carries its idempotency key, minted with the page, so a double-pressed send gives
once.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from network.errors import HubError
from network.ledger import balances
from network.signin.sessions import Session
from network.wallet import donations, gifts
from network.wallet.pages.site import Site, text
from network.wallet.pages.wallet_pages import not_found
from network.web.rendering import Page

# The domain names inputs as the API does; the form names them after its own fields.
_FORM_FIELDS = {"cardNumber": "receiver", "phone": "receiver", "points": "points",
                "giftId": "gift", "idempotencyKey": "points"}
NOTICES = {"sent": "gift_notice_sent", "pending": "gift_notice_pending",
           "accepted": "gift_notice_accepted", "declined": "gift_notice_declined"}


def _page(site: Site, page: Page, session: Session, *, receiver: str = "", points: str = "",
          error: HubError | None = None, notice: str | None = None) -> Response:
    at = site.clock()
    listed = site.db.read(gifts.of_member, session.member_id, at)
    spendable = site.db.read(balances.summary, session.member_id, at).spendable
    rules = gifts.GiftRules.of(site.settings)
    left = max(rules.daily_limit - site.db.read(gifts.sent_today, session.member_id, at), 0)
    if error is not None:
        error.field = _FORM_FIELDS.get(error.field or "", "receiver")
    status = 200 if error is None else (409 if error.code.startswith("IDEMPOTENCY") else 400)
    return page.render("gifts.html", status=status, gifts=listed, member_id=session.member_id,
                       spendable=spendable, left=left, rules=rules, receiver=receiver,
                       points=points, error=error, idempotency_key=f"web-{uuid.uuid4().hex}",
                       notice=page.locale.t(NOTICES[notice]) if notice in NOTICES else None)


async def gifts_page(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    return _page(site, page, session, notice=request.query_params.get("done"))


def _receiver(raw: str) -> dict[str, str]:
    """A card number is 16 digits (spaces allowed); anything else is read as a phone."""
    digits = "".join(raw.split())
    if len(digits) == 16 and digits.isdigit() and digits.isascii():
        return {"card_number": digits}
    return {"phone": raw.strip()} if raw.strip() else {}


async def gift_send(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    form = await site.form(request, page)
    receiver, points_raw = text(form, "receiver"), text(form, "points")
    try:
        points = donations.parse_points(points_raw)
        gift = gifts.send(site.db, gifts.GiftRules.of(site.settings), sender_id=session.member_id,
                          points=points, idempotency_key=text(form, "idempotency_key"),
                          now=site.clock(), **_receiver(receiver))
    except HubError as error:
        return _page(site, page, session, receiver=receiver, points=points_raw, error=error)
    site.send_queued()  # the receiver's note
    return page.redirect(f"/wallet/gifts?done={gift.status}")


async def gift_answer(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    await site.form(request, page)
    gift_id, verb = request.path_params["gift_id"], request.path_params["verb"]
    if verb not in ("accept", "decline", "block"):
        return not_found(page)
    try:
        if verb == "accept":
            gift = gifts.accept(site.db, receiver_id=session.member_id, gift_id=gift_id,
                                now=site.clock())
        else:
            gift = gifts.decline(site.db, receiver_id=session.member_id, gift_id=gift_id,
                                 block=verb == "block", now=site.clock())
    except HubError as error:
        return _page(site, page, session, error=error)
    return page.redirect(f"/wallet/gifts?done={gift.status}")
