"""/console/members: find a member, their 360 page, and the actions on it (block, unblock,
replace the card, goodwill). Every handler names the roles it admits; the server checks them
before reading or writing anything."""

from __future__ import annotations

import secrets
from collections.abc import Collection

from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.errors import BackofficeError
from network.backoffice.roles import MEMBER_CARE, MEMBER_READERS, OPERATORS, Principal
from network.backoffice.site import Backoffice, not_found, text
from network.console import care, goodwill
from network.console.page import ConsolePage
from network.errors import HubError
from network.programme import ladder_store, tiers
from network.wallet import reads

NOTICES = {"blocked": "c_notice_blocked", "unblocked": "c_notice_unblocked",
           "merged": "c_notice_merged",
           "card": "c_notice_card", "booked": "c_notice_booked", "pending": "c_notice_pending"}


def staff(bo: Backoffice, request: Request, roles: Collection[str],
          kind: type[ConsolePage] = ConsolePage) -> tuple[Principal, ConsolePage]:
    """The signed-in staff account if its role is among `roles`, and its page (of `kind`: a
    console page with more words layered on)."""
    who = bo.require(request, roles=roles, kind=kind)
    page = bo.page(request, who, kind)
    assert isinstance(page, kind)
    return who, page


async def search(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, MEMBER_READERS)
    query = request.query_params.get("q")
    if query is None:
        return page.render("console_members.html", q="", missing=False)
    try:
        found = bo.db.read(care.find, bo.settings.secret_key, query,
                           bo.settings.default_country)
    except BackofficeError as error:
        return page.render("console_members.html", status=400, q=query, missing=False,
                           error=error)
    if found is None:
        return page.render("console_members.html", status=404, q=query, missing=True)
    return page.redirect(f"/console/members/{found.id}")


def _member_page(bo: Backoffice, request: Request, who: Principal, page: ConsolePage,
                 member_id: int, status: int = 200, error: HubError | None = None,
                 form: dict[str, str] | None = None) -> Response:
    loaded = reads.snapshot(bo.db, care.load, member_id, bo.settings.secret_key, bo.clock())
    if loaded is None:
        return not_found(page)
    done = request.query_params.get("done", "")
    t = page.values()["t"]
    ladder = bo.db.read(ladder_store.ladder)
    return page.render(
        "console_member.html", status=status, m=loaded, member=loaded.wallet.member,
        tier_name=lambda code: tiers.name_of(ladder, code, page.locale.language),
        may_act=who.role in MEMBER_CARE, may_merge=who.role in OPERATORS,
        limit=bo.settings.goodwill_approval_above,
        form_key=secrets.token_urlsafe(16), error=error,
        form={"action": "", "reason": "", "points": "", "duplicate": "", **(form or {})},
        notice=t(NOTICES[done]) if done in NOTICES else None)


async def member(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, MEMBER_READERS)
    return _member_page(bo, request, who, page, request.path_params["member_id"])


async def _act(bo: Backoffice, request: Request, action: str) -> Response:
    who, page = staff(bo, request, OPERATORS if action == "merge" else MEMBER_CARE)
    form = await bo.form(request, page)
    member_id = request.path_params["member_id"]
    now, request_id = bo.clock(), request.headers.get("x-request-id")
    reason = text(form, "reason")
    try:
        if action in ("block", "unblock"):
            care.set_blocked(bo.db, who, member_id, blocked=action == "block", reason=reason,
                             now=now, request_id=request_id)
            done = "blocked" if action == "block" else "unblocked"
        elif action == "merge" and care.already_done(bo.db, who, text(form, "key")):
            done = "merged"
        elif action == "merge":
            duplicate = bo.db.read(care.find, bo.settings.secret_key, text(form, "duplicate"),
                                   bo.settings.default_country)
            if duplicate is None:
                raise BackofficeError("MEMBER_NOT_FOUND", "no member has this card, phone or "
                                      "email", field="duplicate")
            care.merge(bo.db, who, survivor_id=member_id, merged_id=duplicate.id,
                       reason=reason, key=text(form, "key"), now=now, request_id=request_id)
            done = "merged"
        elif action == "card":
            care.replace_card(bo.db, who, member_id, reason=reason, key=text(form, "key"),
                              now=now, request_id=request_id)
            done = "card"
        else:
            points, reason = goodwill.parse(text(form, "points"), reason)
            made = goodwill.request(bo.db, who, member_id=member_id, points=points,
                                    reason=reason, key=text(form, "key"),
                                    threshold=bo.settings.goodwill_approval_above, now=now,
                                    request_id=request_id)
            done = "booked" if made.status == "booked" else "pending"
    except HubError as error:  # the ledger's own refusals too (IDEMPOTENCY_IN_PROGRESS, ...)
        if error.code == "BAD_QUERY" or error.code == "EMPTY_QUERY":
            error.field = "duplicate"
        if error.code == "MEMBER_NOT_FOUND" and error.field is None:
            return not_found(page)
        return _member_page(bo, request, who, page, member_id, 400, error,
                            {"action": action, "reason": reason,
                             "points": text(form, "points"),
                             "duplicate": text(form, "duplicate")})
    return page.redirect(f"/console/members/{member_id}?done={done}")


async def block(bo: Backoffice, request: Request) -> Response:
    return await _act(bo, request, "block")


async def unblock(bo: Backoffice, request: Request) -> Response:
    return await _act(bo, request, "unblock")


async def replace_card(bo: Backoffice, request: Request) -> Response:
    return await _act(bo, request, "card")


async def give_goodwill(bo: Backoffice, request: Request) -> Response:
    return await _act(bo, request, "goodwill")


async def merge(bo: Backoffice, request: Request) -> Response:
    return await _act(bo, request, "merge")
