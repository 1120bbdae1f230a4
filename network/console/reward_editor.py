"""/console/rewards/new and /console/rewards/{id}: operators create and edit a reward (kind,
names and descriptions in both languages, picture, price, stock, sale window, per-member limit,
visibility, honouring partner) and load a pool reward's codes from a CSV file.

Every write is the API's and the CLI's own function (rewards_store.create, update_reward,
upload_codes), so a refusal is the same refusal, each problem named by its field and code
(`pricePoints`, `csv.line7`), and a refused form or file writes nothing. Each form carries a
one-time key: a resent form writes once, and the audit entry is written in the write's own
transaction, once.
"""

from __future__ import annotations

import secrets
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from network import parties
from network.backoffice.roles import Principal
from network.backoffice.site import Backoffice, not_found, text
from network.console import reward_form
from network.console.editor_words import EditorPage, operator
from network.errors import HubError
from network.programme import ladder_store, reward_codes, rewards_store, tiers
from network.programme.rewards import (
    CODE_SOURCES,
    KINDS,
    MAX_IMAGE_BYTES,
    Reward,
    RewardError,
    RewardRefused,
)
from network.programme.segments_store import list_segments
from network.programme.validation import Problem
from network.wallet.pages.reward_pages import picture_response

MAX_FIELDS = 60  # the reward's fields plus a box for each tier and segment
MAX_CSV_BYTES = reward_codes.MAX_CODES_PER_UPLOAD * (reward_codes.MAX_LENGTH + 2)


def _zone(bo: Backoffice) -> ZoneInfo:
    return ZoneInfo(bo.settings.timezone)


def _choices(conn: Connection) -> dict[str, Any]:
    return {"partners": parties.list_parties(conn, "partner"),
            "charities": parties.list_parties(conn, "charity", by_name=True),
            "segments": [s.code for s in list_segments(conn)],
            "tier_codes": [t.code for t in ladder_store.ladder(conn)]}


def _render(bo: Backoffice, page: EditorPage, *, reward: Reward | None, values: dict[str, Any],
            partner: str = "", status: int = 200, error: HubError | None = None,
            notice: str | None = None, free: int | None = None) -> Response:
    problems = getattr(error, "problems", ()) if error is not None else ()
    ladder = bo.db.read(ladder_store.ladder)
    return page.render("console_reward_edit.html", status=status, reward=reward, v=values,
                       partner=partner, kinds=KINDS, code_sources=CODE_SOURCES, error=error,
                       problems=problems, notice=notice, free=free,
                       max_image_kib=MAX_IMAGE_BYTES // 1024, zone=bo.settings.timezone,
                       form_key=secrets.token_urlsafe(16), **bo.db.read(_choices),
                       tier_name=lambda code: tiers.name_of(ladder, code, page.locale.language))


def _sent(form: FormData) -> reward_form.Sent:
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return reward_form.Sent(values, [t for t in form.getlist("tiers") if isinstance(t, str)],
                            [s for s in form.getlist("segments") if isinstance(s, str)])


async def _file(form: FormData, name: str, most: int) -> bytes | None:
    """An uploaded file's bytes (None when none was chosen); reads at most `most` + 1 bytes,
    so an oversized file is known as such without holding it all."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(most + 1)


def _key(form: FormData, action: str) -> str:
    return f"reward-{action}:{(text(form, 'key').strip() or secrets.token_urlsafe(16))[:40]}"


def _charity_code(conn: Connection, reward: Reward) -> str | None:
    if reward.spec.charity_id is None:
        return None
    found = parties.get(conn, reward.spec.charity_id, "charity")
    return found.code if found else None


def _audit(bo: Backoffice, request: Request, who: Principal, action: str,
           before: dict[str, Any] | None) -> Any:
    def write(conn: Connection, saved: Reward) -> None:
        bo.audit(conn, request, who, action=action, subject=f"reward:{saved.id}", before=before,
                 after=_facts(saved))
    return write


def _facts(r: Reward) -> dict[str, Any]:
    """What the audit keeps of a reward: its terms, not its words."""
    s = r.spec
    return {"partner_id": r.partner_id, "kind": s.kind, "price_points": s.price_points,
            "stock": s.stock, "per_member_limit": s.per_member_limit,
            "coupon_days": s.coupon_days, "visibility": s.visibility.as_json(),
            "valid_from": s.valid_from.isoformat() if s.valid_from else None,
            "valid_until": s.valid_until.isoformat() if s.valid_until else None,
            "has_image": s.has_image, "code_source": s.code_source}


async def new_form(bo: Backoffice, request: Request) -> Response:
    _, page = operator(bo, request)
    return _render(bo, page, reward=None, values=reward_form.shown(None, _zone(bo), None))


async def create(bo: Backoffice, request: Request) -> Response:
    who, page = operator(bo, request)
    form = await bo.form(request, page, files=1, fields=MAX_FIELDS)
    sent = _sent(form)
    kind, partner = sent.get("kind"), sent.get("partner")
    try:
        picture = await _file(form, "image", MAX_IMAGE_BYTES)
        fields, problems = reward_form.changes(
            sent, zone=_zone(bo), charity_id=lambda code: bo.db.read(parties.by_code, code))
        partner_id = bo.db.read(parties.by_code, partner) if partner else None
        if partner_id is None or bo.db.read(parties.kind_of, partner_id) != "partner":
            problems.append(Problem("partner", "PARTY_UNKNOWN", "choose the honouring partner"))
        if problems:
            raise RewardRefused(problems)
        assert partner_id is not None
        saved = rewards_store.create(
            bo.db, partner_id=partner_id, spec=reward_form.new_spec(kind, fields),
            scope=who.scope, idempotency_key=_key(form, "create"), now=bo.clock(),
            picture=picture, then=_audit(bo, request, who, "reward.created", None))
    except (RewardRefused, RewardError) as refused:
        return _render(bo, page, reward=None, values=reward_form.sent_back(sent, kind),
                       partner=partner, status=400, error=refused)
    return page.redirect(f"/console/rewards/{saved.id}?done=created")


def _loaded(conn: Connection, reward_id: int) -> tuple[Reward, str | None, int | None] | None:
    found = rewards_store.get(conn, reward_id, sold=True)
    if found is None:
        return None
    free = (rewards_store.free_codes(conn, [reward_id]).get(reward_id, 0)
            if found.spec.code_source == "pool" else None)
    return found, _charity_code(conn, found), free


async def edit_form(bo: Backoffice, request: Request) -> Response:
    _, page = operator(bo, request)
    loaded = bo.db.read(_loaded, request.path_params["reward_id"])
    if loaded is None:
        return not_found(page)
    reward, charity, free = loaded
    done = request.query_params.get("done", "")
    t = page.values()["t"]
    notice = t(f"c_reward_done_{done}", added=int(request.query_params.get("added", "0") or 0)
               ) if done in ("created", "saved", "codes") else None
    return _render(bo, page, reward=reward, values=reward_form.shown(reward, _zone(bo), charity),
                   notice=notice, free=free)


async def save(bo: Backoffice, request: Request) -> Response:
    who, page = operator(bo, request)
    form = await bo.form(request, page, files=1, fields=MAX_FIELDS)
    loaded = bo.db.read(_loaded, request.path_params["reward_id"])
    if loaded is None:
        return not_found(page)
    reward, _, free = loaded
    sent = _sent(form)
    try:
        picture = await _file(form, "image", MAX_IMAGE_BYTES)
        fields, problems = reward_form.changes(
            sent, zone=_zone(bo), charity_id=lambda code: bo.db.read(parties.by_code, code))
        if problems:
            raise RewardRefused(problems)
        rewards_store.update_reward(
            bo.db, partner_id=None, reward_id=reward.id, changes=fields, scope=who.scope,
            idempotency_key=_key(form, f"save:{reward.id}"), now=bo.clock(), picture=picture,
            then=_audit(bo, request, who, "reward.edited", _facts(reward)))
    except (RewardRefused, RewardError) as refused:
        return _render(bo, page, reward=reward, values=reward_form.sent_back(
            sent, reward.spec.kind), status=400, error=refused, free=free)
    return page.redirect(f"/console/rewards/{reward.id}?done=saved")


async def upload_codes(bo: Backoffice, request: Request) -> Response:
    """A pool reward's codes from a CSV file: all of them or, any line bad, none."""
    who, page = operator(bo, request)
    form = await bo.form(request, page, files=1)
    loaded = bo.db.read(_loaded, request.path_params["reward_id"])
    if loaded is None:
        return not_found(page)
    reward, charity, free = loaded
    added: list[int] = []

    def audit(conn: Connection, saved: Reward, count: int) -> None:
        added.append(count)
        bo.audit(conn, request, who, action="reward.codes_uploaded",
                 subject=f"reward:{saved.id}", before={"free_codes": free},
                 after={"added": count, "partner_id": saved.partner_id})

    try:
        data = await _file(form, "csv", MAX_CSV_BYTES)
        if data is None or len(data) > MAX_CSV_BYTES:
            raise RewardRefused([Problem("csv", "CODES_EMPTY" if data is None else
                                         "TOO_MANY_CODES", "choose a CSV file of codes"
                                         if data is None else "the file is too large")])
        try:
            csv_text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RewardRefused([Problem("csv", "CODE_MALFORMED",
                                         "the file is not UTF-8 text")]) from None
        rewards_store.upload_codes(bo.db, partner_id=None, reward_id=reward.id,
                                   csv_text=csv_text, scope=who.scope,
                                   idempotency_key=_key(form, f"codes:{reward.id}"),
                                   now=bo.clock(), then=audit)
    except (RewardRefused, RewardError) as refused:
        return _render(bo, page, reward=reward, status=400, error=refused, free=free,
                       values=reward_form.shown(reward, _zone(bo), charity))
    return page.redirect(f"/console/rewards/{reward.id}?done=codes&added="
                         f"{added[0] if added else 0}")


async def picture(bo: Backoffice, request: Request) -> Response:
    """A reward's uploaded picture, for the editor (the wallet's route is for members)."""
    operator(bo, request)
    return picture_response(bo.db, request.path_params["reward_id"])
