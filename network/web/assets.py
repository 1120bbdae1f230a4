"""The shared static files (static/): the stylesheet, the icon, the time-zone script and the
script that labels table cells for phones (tables.js).

A site mounts `static_file` under its own prefix (the wallet's is /wallet/static/{name}) and
names that prefix in its `Page.static`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

STATIC = Path(__file__).resolve().parent / "static"

# The only files served from STATIC, with their types: a fixed list, so no path ever reaches
# the file system from the URL.
STATIC_FILES = {"wallet.css": "text/css", "favicon.svg": "image/svg+xml",
                "zone.js": "text/javascript", "tables.js": "text/javascript"}


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        raise HTTPException(404)
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "public, max-age=3600",
                                 "X-Content-Type-Options": "nosniff"})
