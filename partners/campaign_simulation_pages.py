"""/console/campaigns/simulation: a campaign replayed over a past month in the operator's console,
a stored one (picked from the list) or the campaign form's unsaved draft (its "Simulate this
draft" button posts the form here). Owned by partners because the replay prices each funder's
points at its contract (partners/campaign_simulation.py, the function behind `pointsnet
campaigns simulate` and staff `simulateCampaign`), which the console cannot import. Any staff
role may simulate: it reads and writes nothing. A draft with problems goes back to the form,
each problem beside its input, as a save would."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from network.backoffice.roles import ANY_STAFF
from network.backoffice.site import Backoffice, bind, text
from network.console import campaign_form, campaign_pages
from network.console.member_pages import staff
from network.console.page import ConsolePage
from network.errors import HubError
from network.programme import codec, lottery_store, management, rewards_store, store
from network.programme.simulation import Simulation, SimulationError
from partners import campaign_simulation

DEFAULT_PERIOD = "last-month"


def _page(bo: Backoffice, request: Request, page: ConsolePage, *, picked: str, period: str,
          result: Simulation | None = None, name: str = "", error: HubError | None = None,
          status: int = 200) -> Response:
    def read(conn):  # type: ignore[no-untyped-def]
        found = [s.campaign for s in store.list_campaigns(conn)
                 if s.campaign.trigger.kind == "purchase"]
        # The names of the reward or the draw the result counts, in the page's language.
        rewards = {r.reward_id: rewards_store.get(conn, r.reward_id)
                   for r in (result.rewards if result else ())}
        draws = {d.draw_code: lottery_store.get(conn, d.draw_code)
                 for d in (result.draws if result else ())}
        return found, campaign_pages.funders(conn), rewards, draws

    campaigns, by_id, rewards, draws = bo.db.read(read)
    return page.render("console_simulation.html", status=status, campaigns=campaigns,
                       picked=picked, period=period, result=result, name=name, error=error,
                       parties=by_id, rewards=rewards, draws=draws,
                       currency=bo.settings.currency, one_second=dt.timedelta(seconds=1))


async def simulate_stored(bo: Backoffice, request: Request) -> Response:
    """GET: the picker; with ?campaign=CODE&period=… the stored campaign's replay."""
    who, page = staff(bo, request, ANY_STAFF)
    code = request.query_params.get("campaign", "")
    period = request.query_params.get("period", "").strip() or DEFAULT_PERIOD
    if not code:
        return _page(bo, request, page, picked="", period=period)
    try:
        stored = bo.db.read(store.get, code)
        result = campaign_simulation.run(bo.db, codec.to_document(stored.campaign), period,
                                         timezone=bo.settings.timezone, now=bo.clock())
    except (store.CampaignError, management.CampaignRefused, SimulationError) as refused:
        return _page(bo, request, page, picked=code, period=period, error=refused,
                     status=400)
    return _page(bo, request, page, picked=code, period=period, result=result,
                 name=stored.campaign.name(page.locale.language))


async def simulate_draft(bo: Backoffice, request: Request) -> Response:
    """POST: the campaign form's values, replayed as they stand (nothing saved)."""
    who, page = staff(bo, request, ANY_STAFF)
    form = await bo.form(request, page, fields=campaign_pages.MAX_FIELDS)
    values = campaign_form.posted(form.get, form.getlist)
    period = text(form, "period").strip() or DEFAULT_PERIOD
    doc, rows = campaign_form.document(values, zone=ZoneInfo(bo.settings.timezone),
                                       currency=bo.settings.currency)
    editing = request.query_params.get("code") or None
    try:
        result = campaign_simulation.run(bo.db, doc, period, timezone=bo.settings.timezone,
                                         now=bo.clock())
    except management.CampaignRefused as refused:
        return campaign_pages.render(bo, request, page, values=values, code=editing,
                                     problems=refused.problems, rows=rows, status=400)
    except SimulationError as refused:
        return _page(bo, request, page, picked="", period=period, error=refused, status=400)
    name = page.values()["t"]("sim_draft", code=str(doc.get("code", "")))
    return _page(bo, request, page, picked="", period=period, result=result, name=name)


def routes(bo: Backoffice) -> list[BaseRoute]:
    return [Route("/console/campaigns/simulation", bind(bo, simulate_stored), methods=["GET"]),
            Route("/console/campaigns/simulation", bind(bo, simulate_draft), methods=["POST"])]
