"""Settlement's back-office routes; the composition root mounts them beside the console's."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from network.backoffice.site import Backoffice, bind
from settlement.web import dashboard_pages, finance_pages, statement_pages


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [
        ("/console/dashboards", dashboard_pages.staff_dashboard),
        ("/console/dashboards.csv", dashboard_pages.staff_dashboard_csv),
        ("/console/finance", finance_pages.finance),
        ("/console/finance.csv", finance_pages.finance_csv),
        ("/partner/dashboard", dashboard_pages.partner_dashboard),
        ("/partner/dashboard.csv", dashboard_pages.partner_dashboard_csv),
        ("/partner/statements", statement_pages.statements),
        ("/partner/statements/{name}", statement_pages.statement_file),
    ]
    return [Route(path, bind(bo, handler), methods=["GET"]) for path, handler in table]
