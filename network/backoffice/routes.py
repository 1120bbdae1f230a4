"""The back office's own routes: sign-in at both doors, sign-out, static files. The console's
pages are in network/console; the composition root (infra/app.py) mounts both."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from network.backoffice import assets, signin_pages
from network.backoffice.site import Backoffice, bind


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [
        ("/console/signin", signin_pages.signin_form, "GET"),
        ("/console/signin", signin_pages.signin_submit, "POST"),
        ("/partner/signin", signin_pages.signin_form, "GET"),
        ("/partner/signin", signin_pages.signin_submit, "POST"),
        ("/backoffice/signout", signin_pages.signout, "POST"),
    ]
    return [*(Route(path, bind(bo, handler), methods=[method])
              for path, handler, method in table),
            Route("/backoffice/static/{name}", assets.static_file, methods=["GET"])]
