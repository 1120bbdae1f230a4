"""/console/goodwill: requests above the limit, waiting for a second operator."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network.backoffice import accounts
from network.backoffice.roles import OPERATORS
from network.backoffice.site import Backoffice
from network.console import goodwill
from network.console.member_pages import staff
from network.errors import HubError


def _names(conn, ids: set[int]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {i: a.name for i in ids if (a := accounts.get(conn, i)) is not None}


async def waiting(bo: Backoffice, request: Request, error: HubError | None = None,
                  status: int = 200) -> Response:
    who, page = staff(bo, request, OPERATORS)
    items = bo.db.read(goodwill.waiting)
    names = bo.db.read(_names, {r.requested_by for r in items})
    done = request.query_params.get("done")
    t = page.values()["t"]
    notice = t(f"c_notice_{done}") if done in ("approved", "rejected") else None
    return page.render("console_goodwill.html", status=status, items=items, names=names,
                       error=error, notice=notice)


async def _decide(bo: Backoffice, request: Request, approve: bool) -> Response:
    who, page = staff(bo, request, OPERATORS)
    await bo.form(request, page)
    act = goodwill.approve if approve else goodwill.reject
    try:
        act(bo.db, who, request.path_params["goodwill_id"], bo.clock(),
            request.headers.get("x-request-id"))
    except HubError as error:  # IDEMPOTENCY_IN_PROGRESS: another operator is booking it now
        return await waiting(bo, request, error, 404 if error.code == "NOT_FOUND" else 409)
    return page.redirect(f"/console/goodwill?done={'approved' if approve else 'rejected'}")


async def approve(bo: Backoffice, request: Request) -> Response:
    return await _decide(bo, request, True)


async def reject(bo: Backoffice, request: Request) -> Response:
    return await _decide(bo, request, False)
