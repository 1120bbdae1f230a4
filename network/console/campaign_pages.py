"""/console/campaigns/new and /console/campaigns/{code}/edit: an operator writes a campaign in
the browser. The form (network/console/campaign_form.py) becomes the campaign's JSON document,
which goes through the very functions the CLI and the partner API use (management.
resolve_parties, codec.from_document, store.create / store.update with validation.validate
inside), so a refusal is the same codes on the same fields; every problem is shown beside its
input, the form keeps what was typed, and nothing is written.

A staff write is the network's own act: like `pointsnet campaigns create --owner cafe`, it
needs no approval request, and an edit by staff replaces a partner's pending request (the
network wrote that definition). A saved campaign is a draft until it is activated from the list.
Every save is audited with the document before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from network import parties
from network.backoffice.roles import OPERATORS, Principal
from network.backoffice.site import Backoffice, not_found
from network.console import campaign_form
from network.console.member_pages import staff
from network.console.page import ConsolePage
from network.programme import approval, codec, ladder_store, management, store
from network.programme.campaigns import STACKINGS, TRIGGER_KINDS
from network.programme.facts import CHANNELS
from network.programme.segments_store import list_segments
from network.programme.validation import Problem

# The form has many checkboxes: each ticked one is a field of its own.
MAX_FIELDS = 160
WEEKDAYS = range(7)  # 0 Monday .. 6 Sunday, as conditions.weekdays


def problem_words(page: ConsolePage) -> Callable[[Problem], str]:
    """A problem in the page's language when the console has words for its code, else the
    programme's own sentence (which names the field and the value)."""
    own = page.catalogs[page.locale.language]
    return lambda p: own.get(f"cf_err_{p.code}") or p.message


def choices(bo: Backoffice) -> dict[str, Any]:
    """What the form offers to pick from: parties by code, tiers, segments, channels."""
    def read(conn: Connection) -> dict[str, Any]:
        return {"partners": parties.list_parties(conn, "partner"),
                "segments": list_segments(conn), "tiers": ladder_store.ladder(conn)}

    return {**bo.db.read(read), "network_code": parties.NETWORK_CODE,
            "channels": sorted(CHANNELS), "triggers": sorted(TRIGGER_KINDS),
            "effects": campaign_form.EFFECT_KIND_NAMES, "stackings": sorted(STACKINGS),
            "weekdays": WEEKDAYS, "funder_rows": range(campaign_form.FUNDER_ROWS),
            "currency": bo.settings.currency, "zone": bo.settings.timezone}


def funders(conn: Connection) -> dict[int, parties.Party]:
    """The parties that may fund a campaign (the network and the partners), by id."""
    return {p.id: p for kind in ("network", "partner") for p in parties.list_parties(conn, kind)}


def render(bo: Backoffice, request: Request, page: ConsolePage, *, values: dict[str, Any],
           code: str | None, problems: tuple[Problem, ...] = (), rows: list[int] | None = None,
           status: int = 200) -> Response:
    """The form, `code` None for a new campaign; problems beside their inputs."""
    placed = campaign_form.by_input(problems, rows or [])
    return page.render("console_campaign_form.html", status=status, values=values, code=code,
                       problems=placed, first=problems[0] if problems else None,
                       words=problem_words(page), **choices(bo))


async def new(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    values = campaign_form.blank(owner=parties.NETWORK_CODE, funder=parties.NETWORK_CODE,
                                 zone=ZoneInfo(bo.settings.timezone), now=bo.clock())
    return render(bo, request, page, values=values, code=None)


async def edit(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    found = _stored(bo, request.path_params["code"])
    if found is None:
        return not_found(page)
    stored, codes = found
    values = campaign_form.from_document(
        codec.to_document(stored.campaign), zone=ZoneInfo(bo.settings.timezone),
        currency=bo.settings.currency, codes=codes)
    values["owner"] = codes.get(stored.owner_party_id, "")
    return render(bo, request, page, values=values, code=stored.campaign.code)


def _stored(bo: Backoffice, code: str) -> tuple[store.StoredCampaign, dict[int, str]] | None:
    def read(conn: Connection) -> tuple[store.StoredCampaign, dict[int, str]] | None:
        try:
            stored = store.get(conn, code)
        except store.CampaignError:
            return None
        return stored, {p.id: p.code for p in funders(conn).values()}

    return bo.db.read(read)


async def save(bo: Backoffice, request: Request) -> Response:
    """Create (POST /console/campaigns/new) or edit (POST /console/campaigns/{code}/edit)."""
    who, page = staff(bo, request, OPERATORS)
    form = await bo.form(request, page, fields=MAX_FIELDS)
    code = request.path_params.get("code")
    values = campaign_form.posted(form.get, form.getlist)
    doc, rows = campaign_form.document(values, zone=ZoneInfo(bo.settings.timezone),
                                       currency=bo.settings.currency)
    try:
        bo.db.write(lambda conn: _write(conn, bo, request, who, code, values["owner"], doc))
    except (store.CampaignError, codec.CampaignDocumentError,
            management.CampaignRefused) as refused:
        return render(bo, request, page, values=values, code=code, problems=refused.problems,
                      rows=rows, status=400)
    saved = code or str(doc.get("code"))
    return page.redirect(f"/console/campaigns?done=1#campaign-{saved}")


def _write(conn: Connection, bo: Backoffice, request: Request, who: Principal,
           code: str | None, owner: str, doc: dict[str, Any]) -> None:
    campaign = codec.from_document(management.resolve_parties(conn, doc))
    if code is None:
        owner_id = parties.by_code(conn, owner.strip() or parties.NETWORK_CODE)
        if owner_id is None:
            raise management.CampaignRefused((Problem(
                "owner", "PARTY_UNKNOWN", f"no party with code {owner!r}"),))
        stored = store.create(conn, campaign, owner_party_id=owner_id)
        before = None
    else:
        previous = store.get(conn, code)
        stored = store.update(conn, code, campaign)
        before = _audited(previous)
    approval.ask(conn, stored.campaign, False)  # the network's own write: nothing to ask
    bo.audit(conn, request, who, action="campaign.edited" if code else "campaign.created",
             subject=f"campaign:{stored.campaign.code}"[:100], before=before,
             after=_audited(stored))


def _audited(stored: store.StoredCampaign) -> dict[str, Any]:
    """The definition as the audit log keeps it: the code is the entry's subject (and `code`
    is a key the log refuses, as it names one-time codes elsewhere), the status its own
    entries'."""
    doc = codec.to_document(stored.campaign)
    for key in ("code", "status"):
        doc.pop(key, None)
    return doc
