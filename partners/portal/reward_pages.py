"""/partner/rewards: the rewards the signed-in user's partner honours (names, price, stock left,
status) and how they did: the purchases bought in a chosen month (or all time), counted and in
points, by what became of them (used, expired, refunded). Readers only, and nothing to edit:
partners create and change rewards over the API (createReward, updateReward, setRewardStatus,
uploadRewardCodes), and the page says so."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.page import NavItem, register_nav
from network.backoffice.site import Backoffice
from network.programme import rewards_store
from network.programme.rewards import Reward
from network.programme.simulation import Period, SimulationError, parse_period
from network.web.i18n import ascii_digits
from partners.portal.page import READERS
from partners.portal.pages import portal_user

register_nav(NavItem("/partner/rewards", "nav_p_rewards", "partner_user", READERS))

PAGE = 500  # rewards read per query; a partner's catalog is read whole


def _catalog(conn: Connection, partner_id: int, period: Period | None
             ) -> tuple[list[Reward], dict[int, rewards_store.Sales]]:
    found: list[Reward] = []
    while True:
        batch = rewards_store.list_rewards(conn, partner_id=partner_id, limit=PAGE,
                                           after_id=found[-1].id if found else 0)
        found.extend(batch)
        if len(batch) < PAGE:
            break
    sold = rewards_store.sales(conn, partner_id,
                               bought_from=period.start if period else None,
                               bought_before=period.end if period else None)
    return found, sold


def _total(sales: list[rewards_store.Sales]) -> rewards_store.Sales:
    fields = rewards_store.Sales.__dataclass_fields__
    return rewards_store.Sales(**{f: sum(getattr(s, f) for s in sales) for f in fields})


async def rewards(bo: Backoffice, request: Request) -> Response:
    _, partner_id, page = portal_user(bo, request, READERS)
    month = ascii_digits((request.query_params.get("month") or "").strip())[:16]
    period: Period | None = None
    error: SimulationError | None = None
    if month:
        try:
            period = parse_period(month, ZoneInfo(bo.settings.timezone), bo.clock())
        except SimulationError as refused:
            error = refused
    found, sold = bo.db.read(_catalog, partner_id, period)
    none = rewards_store.Sales()
    rows: list[tuple[Reward, rewards_store.Sales]] = [(r, sold.get(r.id, none)) for r in found]
    shown: dict[str, Any] = {"month": month, "period": period,
                             "last": period.end - dt.timedelta(seconds=1) if period else None}
    return page.render("portal_rewards.html", status=400 if error else 200, rows=rows,
                       total=_total([s for _, s in rows]), error=error, **shown)
