"""GET /graphql outside production: the GraphiQL explorer, served whole by the hub.

Its scripts and stylesheet are vendored under infra/static/explorer/ (rebuilt from the npm
registry by infra/scripts/vendor-explorer.sh, pinned there), so the explorer works on a machine
with no internet: an operator's laptop on a closed network, a demo on a train. The page's
Content-Security-Policy lets the browser load scripts, styles and connections from this hub
alone (GraphiQL's fonts are inside its stylesheet as data: URLs), so a later edit that brings a
CDN back fails in the browser, and in tests/infra/test_explorer_offline.py, at once.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

ASSETS = Path(__file__).resolve().parent / "static" / "explorer"
# Where the page asks for its files; under /graphql so the explorer is one prefix to route.
ASSETS_PATH = "/graphql/explorer"
# The only files served, with their types: a fixed list, so no URL reaches the file system.
ASSET_TYPES = {"graphiql.min.js": "text/javascript", "graphiql.min.css": "text/css",
               "react.production.min.js": "text/javascript",
               "react-dom.production.min.js": "text/javascript",
               "explorer.js": "text/javascript"}

# 'unsafe-inline' for styles only: GraphiQL's editor sets style attributes as it lays out.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Points network · GraphiQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css">
<style>body{{margin:0;height:100vh}}#graphiql{{height:100vh}}
/* A phone: the query above its answer, not two columns a few letters wide each. */
@media (max-width:700px){{.graphiql-session{{flex-direction:column!important}}
.graphiql-session>div{{flex:1 1 0!important;min-height:0;width:auto!important}}
.graphiql-horizontal-drag-bar{{display:none!important}}}}</style></head>
<body><div id="graphiql">Loading GraphiQL… (partner calls must be signed: see the README)</div>
<script src="{ASSETS_PATH}/react.production.min.js"></script>
<script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
<script src="{ASSETS_PATH}/graphiql.min.js"></script>
<script src="{ASSETS_PATH}/explorer.js"></script>
</body></html>"""


async def explorer(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": CSP,
                                       "X-Content-Type-Options": "nosniff"})


async def explorer_asset(request: Request) -> Response:
    """One vendored file; 404 outside production too for any name not in ASSET_TYPES."""
    name = request.path_params["name"]
    if name not in ASSET_TYPES:
        raise HTTPException(404)
    return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name],
                        headers={"Cache-Control": "public, max-age=3600",
                                 "X-Content-Type-Options": "nosniff"})
