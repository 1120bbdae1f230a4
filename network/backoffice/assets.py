"""Static files of the back office, under /backoffice/static/{name}: its own stylesheet plus
the shared ones (network/web/static). A fixed list, so no URL reaches the file system."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from network.web import assets

OWN = Path(__file__).resolve().parent / "static"
OWN_FILES = {"backoffice.css": "text/css", "campaign_form.js": "text/javascript"}


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name in OWN_FILES:
        return FileResponse(OWN / name, media_type=OWN_FILES[name],
                            headers={"Cache-Control": "public, max-age=3600",
                                     "X-Content-Type-Options": "nosniff"})
    if name in assets.STATIC_FILES:
        return await assets.static_file(request)
    raise HTTPException(404)
