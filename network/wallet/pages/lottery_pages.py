"""/wallet/lottery (the draws) and /wallet/lottery/{code} (one draw: enter it, find your entry
hashes, the commitment, and once drawn the seed, the winners and whether you won).

Entering mints its idempotency key with the page, so a double-pressed button enters once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response

from network.errors import HubError
from network.ledger import balances
from network.programme import lottery_store as store
from network.programme.lottery_store import LotteryError
from network.signin.sessions import Session
from network.wallet.pages.site import Site, text
from network.wallet.pages.wallet_pages import not_found
from network.web.rendering import Page


def _prizes(draw: store.Draw) -> list[dict[str, Any]]:
    """Each prize with its winning positions, e.g. 2nd-3rd: the page and winners.txt agree."""
    shown, position = [], 1
    for prize in draw.prizes:
        shown.append({"first": position, "last": position + prize.count - 1, "prize": prize})
        position += prize.count
    return shown


async def lotteries(site: Site, request: Request) -> Response:
    session, page = site.member(request)

    def read(conn: Connection) -> list[tuple[store.Draw, int]]:
        return [(d, len(store.entries_of(conn, session.member_id, d.id)))
                for d in store.listed(conn)]

    return page.render("lotteries.html", draws=site.db.read(read), now=site.clock())


def _draw_page(site: Site, page: Page, session: Session, code: str, *,
               error: HubError | None = None, entered: str | None = None) -> Response:
    def read(conn: Connection) -> Any:
        draw = _find(conn, code)
        if draw is None:
            return None
        return (draw, store.entries_of(conn, session.member_id, draw.id),
                store.winners_of(conn, draw.id) if draw.status == "drawn" else [],
                balances.summary(conn, session.member_id, site.clock()).spendable)

    found = site.db.read(read)
    if found is None:
        return not_found(page)
    draw, entries, winners, spendable = found
    status = 200 if error is None else (409 if error.code.startswith("IDEMPOTENCY") else 400)
    return page.render(
        "lottery.html", status=status, draw=draw, entries=entries, winners=winners,
        prizes=_prizes(draw), spendable=spendable, error=error, entered=entered,
        can_enter=draw.accepts_entries(site.clock()) and draw.entry_price > 0
        and len(entries) < draw.max_entries_per_member,
        won=[e for e in entries if e.won_position], idempotency_key=f"web-{uuid.uuid4().hex}")


async def lottery_page(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    entered = request.query_params.get("entered", "")
    return _draw_page(site, page, session, request.path_params["code"],
                      entered=entered if len(entered) == 64 and entered.isalnum() else None)


def _find(conn: Connection, code: str) -> store.Draw | None:
    try:
        return store.get(conn, code)
    except LotteryError:
        return None


async def lottery_enter(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    form = await site.form(request, page)
    code = request.path_params["code"]
    draw = site.db.read(_find, code)
    if draw is None:
        return not_found(page)
    try:
        entered = store.enter(site.db, member_id=session.member_id, draw_id=draw.id,
                              idempotency_key=text(form, "idempotency_key"), now=site.clock())
    except HubError as error:  # the ledger's (points) and the draw's refusals alike
        return _draw_page(site, page, session, code, error=error)
    return page.redirect(f"/wallet/lottery/{code}?entered={entered.entry_hash}")
