"""/console/rewards: every partner's rewards with what sold, and (operators) the status moves
the rules allow: put on sale, pause, retire. The move goes through rewards_store.set_status,
the function behind the API's setRewardStatus and `pointsnet rewards status`, so a refused move
is the same refusal (STATUS_CHANGE_NOT_ALLOWED) as there; the audit entry is written in the
move's own transaction, once per form (the form's one-time key)."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from network import parties
from network.backoffice.roles import ANY_STAFF, OPERATORS
from network.backoffice.site import Backoffice, not_found, text
from network.console.editor_words import operator
from network.console.member_pages import staff
from network.errors import HubError
from network.programme import rewards_store
from network.programme.rewards import MOVES, Reward, RewardError

STATUSES = ("draft", "active", "paused", "retired")
LIMIT = 500  # rewards shown; the catalogue is partners' shelves, not a ledger


async def rewards(bo: Backoffice, request: Request, error: HubError | None = None,
                  status: int = 200) -> Response:
    who, page = operator(bo, request, ANY_STAFF)  # with the editor's words (its links)
    wanted = request.query_params.get("status") or ""
    wanted = wanted if wanted in STATUSES else ""
    found = bo.db.read(lambda c: rewards_store.list_rewards(
        c, statuses=[wanted] if wanted else (), limit=LIMIT, sold=True))
    owners = bo.db.read(lambda c: {p.id: p for p in parties.list_parties(c, "partner")})
    t = page.values()["t"]
    notice = t("c_notice_done") if request.query_params.get("done") else None
    return page.render("console_rewards.html", status=status, rewards=found, owners=owners,
                       moves=MOVES, statuses=STATUSES, wanted=wanted,
                       may_act=who.role in OPERATORS, error=error, notice=notice,
                       form_key=secrets.token_urlsafe(16))


async def reward_status(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS)
    form = await bo.form(request, page)
    reward_id = request.path_params["reward_id"]
    target = text(form, "status")
    key = (text(form, "key").strip() or secrets.token_urlsafe(16))[:40]
    before = bo.db.read(rewards_store.get, reward_id)
    if before is None:
        return not_found(page)

    def audit(conn: Connection, after: Reward) -> None:
        bo.audit(conn, request, who, action="reward.status", subject=f"reward:{reward_id}",
                 before={"status": before.status},
                 after={"status": after.status, "partner_id": after.partner_id})

    try:
        rewards_store.set_status(bo.db, partner_id=None, reward_id=reward_id, status=target,
                                 scope=who.scope, idempotency_key=f"reward:{reward_id}:{key}",
                                 now=bo.clock(), then=audit)
    except RewardError as refused:
        return await rewards(bo, request, refused, 409)
    return page.redirect("/console/rewards?done=1")
