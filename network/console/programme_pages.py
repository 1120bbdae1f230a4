"""/console/campaigns (list, pause, activate, approve or reject a partner's request) and
/console/charities (list, create, edit names): the programme's and the network's own parties,
through the same functions as the API and the CLI, so a refusal here is the same refusal
(codes and fields) as there."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network import parties
from network.backoffice.errors import BackofficeError
from network.backoffice.roles import ANY_STAFF, OPERATORS
from network.backoffice.site import Backoffice, text
from network.console.member_pages import staff
from network.errors import HubError
from network.programme import approval, management, store
from network.programme.segments_store import list_segments

STATUS_ACTIONS = {"pause": "paused", "activate": "active"}


async def campaigns(bo: Backoffice, request: Request, error: HubError | None = None,
                    status: int = 200) -> Response:
    who, page = staff(bo, request, ANY_STAFF)
    managed = bo.db.read(lambda c: management.view(c, store.list_campaigns(c)))
    names = bo.db.read(lambda c: {p.id: p for p in parties.list_parties(c, "partner")})
    segments = bo.db.read(list_segments)
    done = request.query_params.get("done")
    t = page.values()["t"]
    notice = t("c_notice_done") if done else None
    return page.render("console_campaigns.html", status=status, managed=managed, owners=names,
                       segments=segments, may_act=who.role in OPERATORS, error=error,
                       notice=notice)


async def campaign_action(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    form = await bo.form(request, page)
    code, action = request.path_params["code"], request.path_params["action"]
    subject = f"campaign:{code}"[:100]
    try:
        if action in STATUS_ACTIONS:
            def write(conn):  # type: ignore[no-untyped-def]
                stored = store.get(conn, code)
                target = STATUS_ACTIONS[action]
                if target == "active":  # as `pointsnet campaigns activate`: approved first
                    approval.require_approved(conn, stored.campaign, approval.needed(
                        conn, stored.campaign, stored.owner_party_id))
                store.set_status(conn, code, target)  # type: ignore[arg-type]
                bo.audit(conn, request, who, action=f"campaign.{target}", subject=subject,
                         before={"status": stored.campaign.status}, after={"status": target})

            bo.db.write(write)
        elif action in ("approve", "reject"):
            note = text(form, "note").strip() or None
            management.decide(bo.db, code, action, by=f"staff:{who.account_id}", note=note)
            decided = "APPROVED" if action == "approve" else "REJECTED"
            bo.db.write(lambda c: bo.audit(c, request, who, action=f"campaign.{decided.lower()}",
                                           subject=subject,
                                           before={"approval": "PENDING_APPROVAL"},
                                           after={"approval": decided}))
        else:
            raise BackofficeError("NOT_FOUND", "no such action")
    except (store.CampaignError, approval.ApprovalError, management.CampaignRefused,
            BackofficeError) as refused:
        return await campaigns(bo, request, refused, 409)
    return page.redirect("/console/campaigns?done=1")


async def charities(bo: Backoffice, request: Request, error: HubError | None = None,
                    status: int = 200, form: dict[str, str] | None = None) -> Response:
    who, page = staff(bo, request, ANY_STAFF)
    found = bo.db.read(lambda c: parties.list_parties(c, "charity", by_name=True))
    t = page.values()["t"]
    notice = t("c_notice_done") if request.query_params.get("done") else None
    return page.render("console_charities.html", status=status, charities=found,
                       may_act=who.role in OPERATORS, error=error, notice=notice,
                       form={"code": "", "name": "", "name_fa": "", **(form or {})})


async def charity_save(bo: Backoffice, request: Request) -> Response:
    """Create (no code in the path) or edit a charity's names, as `pointsnet charities`."""
    who, page = staff(bo, request, OPERATORS)
    form = await bo.form(request, page)
    code = request.path_params.get("code") or text(form, "code").strip()
    name, name_fa = text(form, "name").strip(), text(form, "name_fa").strip()
    editing = "code" in request.path_params

    def write(conn):  # type: ignore[no-untyped-def]
        if editing:
            parties.edit(conn, code, "charity", name=name or None, name_fa=name_fa)
            action = "charity.edited"
        else:
            parties.create(conn, kind="charity", code=code, name=name, name_fa=name_fa or None)
            action = "charity.created"
        bo.audit(conn, request, who, action=action, subject=f"charity:{code}"[:100],
                 after={"fields": ["name", "name_fa"]})

    try:
        bo.db.write(write)
    except HubError as refused:
        return await charities(bo, request, refused, 400,
                               {"code": code, "name": name, "name_fa": name_fa})
    parties.forget_cache()
    return page.redirect("/console/charities?done=1")
