"""The console's routes; the composition root mounts them beside the back office's sign-in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from network.backoffice.roles import ANY_STAFF
from network.backoffice.site import Backoffice, bind


async def home(bo: Backoffice, request: Request) -> Response:
    who = bo.require(request, roles=ANY_STAFF)
    return bo.page(request, who).redirect("/console/members")


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [("/console", home, "GET")]
    return [Route(path, bind(bo, handler), methods=[method]) for path, handler, method in table]
