"""/console/tiers: the tier ladder (thresholds, earn multipliers, retention, names) and how many
members hold each tier today (stored tiers, as earns and the daily job decided them). Every
staff role reads it.

The ladder is data in network/programme/tiers.py (tiers.DEFINITIONS, checked by tiers.check at
import); every tier rule, the earn's multiplier, the daily job, the wallet and the dashboards read
that one tuple, so it is shown here as it is in force."""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.page import NavItem, register_nav
from network.backoffice.roles import ANY_STAFF
from network.backoffice.site import Backoffice
from network.console.member_pages import staff
from network.programme import tiers, tiers_store

register_nav(NavItem("/console/tiers", "nav_tiers", "staff", ANY_STAFF))


async def ladder(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, ANY_STAFF)
    counts = bo.db.read(tiers_store.held_counts)
    total = sum(counts.values())
    shares = {code: (Decimal(100 * n) / total).quantize(Decimal("0.1")) if total else Decimal(0)
              for code, n in counts.items()}
    return page.render("console_tiers.html", ladder=tiers.DEFINITIONS, counts=counts,
                       shares=shares, days=tiers.window().days)
