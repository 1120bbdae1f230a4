"""/wallet/rewards: the catalog (by partner, or only what the member can afford), a reward's
page with its buy button, and "my rewards" with each code as text and as a QR for the till.

The buy form carries an idempotency key minted when the reward's page is shown, so a double tap
or a refreshed POST buys once. Partners' pictures are their own https addresses, so these pages
(and only these) let images come from https: besides the hub.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response

from network import parties
from network.db.engine import Database
from network.errors import HubError
from network.programme import rewards_buy, rewards_catalog, rewards_store
from network.programme.rewards_buy import Purchase
from network.programme.rewards_store import get
from network.wallet import parties_view
from network.wallet.pages.site import Site, text
from network.wallet.qr import card_svg
from network.web.rendering import SECURITY_HEADERS, Page

IMAGES_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "img-src 'self' data:", "img-src 'self' data: https:")


def _with_images(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = IMAGES_CSP
    return response


def _names(conn: Connection, ids: set[int]) -> dict[int, parties_view.PartyName]:
    return parties_view.load(conn, ids)


def _not_found(page: Page) -> Response:
    words = page.locale.t("error_REWARD_NOT_FOUND")
    return page.render("error.html", status=404, title=page.locale.t("rewards_title"),
                       message=words)


PER_PAGE = 48  # tiles a page shows: a catalog of hundreds is read whole but shown in pages


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and raw.isascii() and 0 < len(raw) < 6 else 1


async def catalog(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    partner_code = request.query_params.get("partner", "").strip()
    affordable = request.query_params.get("affordable") == "1"
    number = max(1, _page_number(request.query_params.get("page", "1")))

    def read(conn: Connection) -> dict[str, Any]:
        partner_id = parties.by_code(conn, partner_code) if partner_code else None
        everything, spendable = rewards_catalog.offers(conn, session.member_id, site.clock())
        partner_ids = {o.reward.partner_id for o in everything}
        shown = [o for o in everything
                 if (partner_id is None or o.reward.partner_id == partner_id)
                 and (not affordable or (o.affordable and not o.sold_out))]
        if partner_code and partner_id is None:
            shown = []
        names = _names(conn, partner_ids)
        start = (number - 1) * PER_PAGE
        return {"offers": shown[start:start + PER_PAGE], "spendable": spendable, "names": names,
                "previous_page": number - 1 if number > 1 else None,
                "next_page": number + 1 if len(shown) > start + PER_PAGE else None,
                "partners": sorted((names[i] for i in partner_ids if i in names),
                                   key=lambda p: p.display(page.locale.language))}

    found = site.db.read(read)
    return _with_images(page.render("rewards.html", partner=partner_code, affordable=affordable,
                                    **found))


def _reward_page(site: Site, page: Page, member_id: int, reward_id: int, *, key: str,
                 error: HubError | None = None) -> Response:
    def read(conn: Connection) -> dict[str, Any] | None:
        offer = rewards_catalog.offer(conn, member_id, reward_id, site.clock())
        if offer is None:
            return None
        spendable = rewards_catalog.offers(conn, member_id, site.clock())[1]
        return {"offer": offer, "spendable": spendable,
                "partner": _names(conn, {offer.reward.partner_id}).get(offer.reward.partner_id)}

    found = site.db.read(read)
    if found is None:
        return _not_found(page)
    status = 200 if error is None else (409 if error.code.startswith("IDEMPOTENCY") else 400)
    return _with_images(page.render("reward.html", status=status, idempotency_key=key,
                                    error=error, **found))


async def reward(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    return _reward_page(site, page, session.member_id, int(request.path_params["reward_id"]),
                        key=f"web-{uuid.uuid4().hex}")


async def buy(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    form = await site.form(request, page)
    reward_id = int(request.path_params["reward_id"])
    key = text(form, "idempotency_key")
    try:
        bought = rewards_buy.buy(site.db, member_id=session.member_id, reward_id=reward_id,
                                 idempotency_key=key, secret=site.settings.secret_key,
                                 now=site.clock())
    except HubError as error:
        error.field = None  # the page's one message, not a field's
        return _reward_page(site, page, session.member_id, reward_id,
                            key=key or f"web-{uuid.uuid4().hex}", error=error)
    site.send_queued()  # the code's notification goes out now, not at the next drain
    return page.redirect(f"/wallet/my-rewards/{bought.id}?bought=1")


def _mine(conn: Connection, member_id: int) -> list[tuple[Purchase, Any]]:
    bought = rewards_buy.member_purchases(conn, member_id)
    found = {rid: get(conn, rid) for rid in {p.reward_id for p in bought}}
    return [(p, found.get(p.reward_id)) for p in bought]


async def picture(site: Site, request: Request) -> Response:
    """A reward's uploaded picture (its bytes were checked to be PNG, JPEG or WebP on upload)."""
    site.member(request)
    return picture_response(site.db, int(request.path_params["reward_id"]))


def picture_response(db: Database, reward_id: int) -> Response:
    """A reward's uploaded picture as a response of its own checked type (404: none)."""
    found = db.read(rewards_store.image, reward_id)
    if found is None:
        return Response(status_code=404)
    media, data = found
    return Response(data, media_type=media, headers={
        "Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'"})


async def my_rewards(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    mine = site.db.read(_mine, session.member_id)
    return page.render("my_rewards.html", mine=mine)


async def my_reward(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    purchase_id = int(request.path_params["purchase_id"])

    def read(conn: Connection) -> dict[str, Any] | None:
        found = rewards_buy.purchase(conn, purchase_id)
        if found is None or found.member_id != session.member_id:
            return None  # another member's looks like none
        return {"p": found, "reward": get(conn, found.reward_id),
                "partner": _names(conn, {found.partner_id}).get(found.partner_id)}

    found = site.db.read(read)
    if found is None:
        return _not_found(page)
    code = found["p"].code
    return page.render("my_reward.html", bought=request.query_params.get("bought") == "1",
                       qr_svg=card_svg(code, page.locale.t("coupon_code")) if code else None,
                       **found)
