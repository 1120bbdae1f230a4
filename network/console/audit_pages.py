"""/console/audit: the audit log for operators, filtered by action family or subject, and its
CSV export (network/audit.as_csv, the same columns as `pointsnet audit export --csv`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network import audit
from network.backoffice.roles import OPERATORS
from network.backoffice.site import Backoffice
from network.console.member_pages import staff

PAGE_SIZE = 200


def _filters(request: Request) -> dict[str, str | None]:
    action = (request.query_params.get("action") or "").strip()[:64] or None
    subject = (request.query_params.get("subject") or "").strip()[:100] or None
    return {"action": action, "subject": subject}


async def audit_log(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    filters = _filters(request)
    rows = bo.db.read(lambda c: audit.entries(c, **filters))
    newest = list(reversed(rows))[:PAGE_SIZE]
    query = str(request.url.query)
    return page.render("console_audit.html", rows=newest, filters=filters,
                       csv_href="/console/audit.csv" + (f"?{query}" if query else ""))


async def audit_csv(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    filters = _filters(request)
    rows = bo.db.read(lambda c: audit.entries(c, **filters))
    response = Response(audit.as_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 'attachment; filename="pointsnet-audit.csv"'})
    return page.finish(response)
