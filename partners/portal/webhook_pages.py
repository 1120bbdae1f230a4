"""/partner/webhooks: a partner's webhook endpoints with their recent deliveries. Analysts and
managers read; a manager creates an endpoint (its signing secret is shown on that answer only,
never again), edits its URL and event types, disables or enables one, rotates its secret (the
new one shown once), deletes one and replays a delivery.

Every change goes through partners/webhooks/store.py, the functions behind the API's webhook
mutations, with the partner taken from the signed-in account: another partner's endpoint or
delivery id finds nothing (404). Each form carries a one-time key, so a resent form changes
nothing twice, and the audit entry is written in the change's own transaction, once.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.roles import Principal
from network.backoffice.site import Backoffice, not_found, text
from network.errors import HubError
from partners.portal.page import MANAGERS, READERS, PortalPage
from partners.portal.pages import portal_user
from partners.webhooks import events as event_types
from partners.webhooks import signing, store
from partners.webhooks.errors import (
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
    WebhookError,
)

RECENT = 10  # deliveries shown under each endpoint


def _endpoints(conn: Connection, partner_id: int) -> list[tuple[store.Endpoint, list[Any]]]:
    return [(e, store.list_deliveries(conn, e.id, limit=RECENT))
            for e in store.list_endpoints(conn, partner_id)]


def _render(bo: Backoffice, who: Principal, partner_id: int, page: PortalPage, *,
            status: int = 200, error: HubError | None = None, shown: dict[str, Any] | None = None,
            form: dict[str, Any] | None = None, notice: str | None = None,
            editing: dict[str, Any] | None = None) -> Response:
    """`editing`: the endpoint whose edit form was refused (its id, url and events as sent),
    shown open with the refusal beside its fields."""
    return page.render("portal_webhooks.html", status=status, error=error, shown=shown,
                       editing=editing,
                       rows=bo.db.read(_endpoints, partner_id), may_act=who.role in MANAGERS,
                       event_types=list(event_types.EVENT_TYPES), signings=signing.SIGNINGS,
                       form={"url": "", "events": [], "signing": signing.SIGNINGS[0],
                             **(form or {})},
                       form_key=secrets.token_urlsafe(16), notice=notice)


async def webhooks(bo: Backoffice, request: Request) -> Response:
    who, partner_id, page = portal_user(bo, request, READERS)
    done = request.query_params.get("done", "")
    t = page.values()["t"]
    notice = t(f"p_wh_done_{done}") if done in ("enabled", "disabled", "replayed", "edited",
                                                "deleted") else None
    return _render(bo, who, partner_id, page, notice=notice)


def _key(form: Any, action: str) -> str:
    return f"wh:{action}:{(text(form, 'key').strip() or secrets.token_urlsafe(16))[:40]}"


def _audit(bo: Backoffice, request: Request, who: Principal, action: str, subject: str,
           before: dict[str, Any] | None, after: dict[str, Any]) -> store.Then:
    def write(conn: Connection, answer: dict[str, Any]) -> None:
        bo.audit(conn, request, who, action=action, subject=subject.format(**answer),
                 before=before, after=after)
    return write


async def create(bo: Backoffice, request: Request) -> Response:
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    form = await bo.form(request, page)
    url = text(form, "url").strip()
    chosen = _chosen(form)
    kind = text(form, "signing")
    kind = kind if kind in signing.SIGNINGS else signing.SIGNINGS[0]
    try:
        made = store.create_endpoint(
            bo.db, scope=who.scope, idempotency_key=_key(form, "create"), partner_id=partner_id,
            url=url, events=chosen, signing_kind=kind, secret_key=bo.settings.secret_key,
            now=bo.clock(), then=_audit(bo, request, who, "webhook_endpoint.create",
                                        "webhook_endpoint:{endpoint_id}", None,
                                        {"url": url, "events": sorted(set(chosen)),
                                         "signing": kind, "partner_id": partner_id}))
    except WebhookError as refused:
        return _render(bo, who, partner_id, page, status=400, error=refused,
                       form={"url": url, "events": chosen, "signing": kind})
    return _render(bo, who, partner_id, page, status=201, shown={
        "endpoint": made.id, "url": made.url, "signing": made.signing,
        "key": made.key_text(bo.settings.secret_key), "rotated": False})


async def switch(bo: Backoffice, request: Request) -> Response:
    """Disable (pending deliveries are cancelled) or enable (the failure clock restarts)."""
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    form = await bo.form(request, page)
    endpoint_id, action = request.path_params["endpoint_id"], request.path_params["action"]
    if action not in ("enable", "disable"):
        return not_found(page)
    enabled = action == "enable"
    try:
        before = bo.db.read(store.get_endpoint, endpoint_id, partner_id)
        store.update_endpoint(
            bo.db, scope=who.scope, idempotency_key=_key(form, f"{action}:{endpoint_id}"),
            partner_id=partner_id, endpoint_id=endpoint_id, enabled=enabled, now=bo.clock(),
            then=_audit(bo, request, who, f"webhook_endpoint.{action}",
                        "webhook_endpoint:{endpoint_id}", {"enabled": before.enabled},
                        {"enabled": enabled}))
    except WebhookEndpointNotFound:
        return not_found(page)
    return page.redirect(f"/partner/webhooks?done={action}d")


def _chosen(form: Any) -> list[str]:
    return [e for e in form.getlist("events") if isinstance(e, str)]


async def edit(bo: Backoffice, request: Request) -> Response:
    """A new URL and event types, as the API's updateWebhookEndpoint (the same checks)."""
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    form = await bo.form(request, page)
    endpoint_id = request.path_params["endpoint_id"]
    url, chosen = text(form, "url").strip(), _chosen(form)
    try:
        before = bo.db.read(store.get_endpoint, endpoint_id, partner_id)
        store.update_endpoint(
            bo.db, scope=who.scope, idempotency_key=_key(form, f"edit:{endpoint_id}"),
            partner_id=partner_id, endpoint_id=endpoint_id, url=url, events=chosen,
            now=bo.clock(), then=_audit(
                bo, request, who, "webhook_endpoint.edit", "webhook_endpoint:{endpoint_id}",
                {"url": before.url, "events": sorted(before.events)},
                {"url": url, "events": sorted(set(chosen))}))
    except WebhookEndpointNotFound:
        return not_found(page)
    except WebhookError as refused:
        return _render(bo, who, partner_id, page, status=400, error=refused,
                       editing={"id": endpoint_id, "url": url, "events": chosen})
    return page.redirect("/partner/webhooks?done=edited")


async def delete(bo: Backoffice, request: Request) -> Response:
    """Delete an endpoint: it stops receiving, its pending deliveries are cancelled."""
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    form = await bo.form(request, page)
    endpoint_id = request.path_params["endpoint_id"]
    try:
        before = bo.db.read(store.get_endpoint, endpoint_id, partner_id)
        store.delete_endpoint(
            bo.db, scope=who.scope, idempotency_key=_key(form, f"delete:{endpoint_id}"),
            partner_id=partner_id, endpoint_id=endpoint_id, now=bo.clock(),
            then=_audit(bo, request, who, "webhook_endpoint.delete",
                        "webhook_endpoint:{endpoint_id}",
                        {"url": before.url, "enabled": before.enabled}, {"deleted": True}))
    except WebhookEndpointNotFound:
        return not_found(page)
    return page.redirect("/partner/webhooks?done=deleted")


async def rotate(bo: Backoffice, request: Request) -> Response:
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    form = await bo.form(request, page)
    endpoint_id = request.path_params["endpoint_id"]
    try:
        rotated = store.rotate_secret(
            bo.db, scope=who.scope, idempotency_key=_key(form, f"rotate:{endpoint_id}"),
            partner_id=partner_id, endpoint_id=endpoint_id, secret_key=bo.settings.secret_key,
            now=bo.clock(), then=_audit(bo, request, who, "webhook_endpoint.rotate",
                                        "webhook_endpoint:{endpoint_id}", None,
                                        {"rotated": True}))
    except WebhookEndpointNotFound:
        return not_found(page)
    return _render(bo, who, partner_id, page, shown={
        "endpoint": rotated.id, "url": rotated.url, "signing": rotated.signing,
        "key": rotated.key_text(bo.settings.secret_key), "rotated": True})


async def replay(bo: Backoffice, request: Request) -> Response:
    who, partner_id, page = portal_user(bo, request, MANAGERS)
    form = await bo.form(request, page)
    delivery_id = request.path_params["delivery_id"]
    try:
        store.replay_delivery(
            bo.db, scope=who.scope, idempotency_key=_key(form, f"replay:{delivery_id}"),
            partner_id=partner_id, delivery_id=delivery_id, now=bo.clock(),
            then=lambda conn, answer: bo.audit(
                conn, request, who, action="webhook_delivery.replay",
                subject=f"webhook_delivery:{delivery_id}", after={
                    "replay_delivery_id": answer["delivery_id"], "partner_id": partner_id}))
    except WebhookDeliveryNotFound:
        return not_found(page)
    except WebhookError as refused:
        return _render(bo, who, partner_id, page, status=409, error=refused)
    return page.redirect("/partner/webhooks?done=replayed")
