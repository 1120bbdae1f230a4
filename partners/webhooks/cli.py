"""`pointsnet partners webhooks …`: the network's staff see and manage partners' webhook endpoints
(the partners themselves do it over the signed API, scope `webhooks`).

Secrets are printed once, by `create` and `rotate`, never by `list`; errors are the same coded
refusals the API answers (WEBHOOK_ENDPOINT_NOT_FOUND, INVALID_WEBHOOK_URL…).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import click

from network.cli_errors import fail
from network.config import Settings
from network.db.engine import Database, open_database
from partners.registry import find_partner
from partners.webhooks import events, store

STAFF_SCOPE = "staff:cli"


def _db() -> Database:
    return open_database(Settings.from_env().database_url)


def _secret_key() -> str:
    return Settings.from_env().secret_key


def _key() -> str:
    # Each command is one request of its own; a re-run is a new one (there is no retry).
    return f"cli-{uuid.uuid4()}"


def _at(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _show(endpoint: store.Endpoint, pending: int | None = None) -> str:
    state = "enabled" if endpoint.enabled else f"disabled ({endpoint.disabled_reason})"
    line = (f"{endpoint.id}  partner {endpoint.partner_id}  {endpoint.url}  {endpoint.signing}  "
            f"{state}  events: {' '.join(endpoint.events)}")
    if endpoint.failing_since:
        line += f"  failing since {_at(endpoint.failing_since)}"
    if pending is not None:
        line += f"  pending {pending}"
    return line


@click.group("webhooks")
def webhooks_group() -> None:
    """Partners' webhook endpoints, their deliveries, and replays."""


@webhooks_group.command("events")
def events_command() -> None:
    """The event types an endpoint can ask for."""
    for name, when in events.EVENT_TYPES.items():
        click.echo(f"{name:18} {when}")


@webhooks_group.command("list")
@click.argument("partner", required=False)
def list_command(partner: str | None) -> None:
    """Endpoints of PARTNER (a code or id), or of every partner."""
    db = _db()
    partner_id = None
    if partner is not None:
        found = db.read(find_partner, partner)
        if found is None:
            fail("PARTNER_NOT_FOUND", f"no partner {partner!r} (see `pointsnet partners list`)")
        partner_id = found.id
    endpoints = db.read(store.list_endpoints, partner_id)
    if not endpoints:
        click.echo("no webhook endpoints")
    for endpoint in endpoints:
        click.echo(_show(endpoint))


@webhooks_group.command("create")
@click.argument("partner")
@click.option("--url", required=True, help="https://… where the partner receives webhooks.")
@click.option("--events", "wanted", required=True,
              help="Space- or comma-separated event types (`pointsnet partners webhooks events`).")
@click.option("--signing", type=click.Choice(["hmac", "ed25519"]), default="hmac",
              show_default=True, help="HMAC-SHA256 with a shared whsec_ secret, or Ed25519 "
                                      "with the hub's key (the partner gets a whpk_ public key).")
def create_command(partner: str, url: str, wanted: str, signing: str) -> None:
    """Register an endpoint for PARTNER (a code or id); prints its secret (or public key)
    once."""
    db = _db()
    found = db.read(find_partner, partner)
    if found is None:
        fail("PARTNER_NOT_FOUND", f"no partner {partner!r} (see `pointsnet partners list`)")
    endpoint = store.create_endpoint(db, scope=STAFF_SCOPE, idempotency_key=_key(),
                                     partner_id=found.id, url=url,
                                     events=wanted.replace(",", " ").split(),
                                     signing_kind=signing, secret_key=_secret_key())
    click.echo(_show(endpoint))
    click.echo(f"{'public key' if endpoint.public_key else 'secret (shown once)'}: "
               f"{endpoint.key_text(_secret_key())}")


def _switch(endpoint_id: int, enabled: bool) -> None:
    db = _db()
    endpoint = store.update_endpoint(db, scope=STAFF_SCOPE, idempotency_key=_key(),
                                     partner_id=None, endpoint_id=endpoint_id, enabled=enabled)
    click.echo(_show(endpoint))


@webhooks_group.command("disable")
@click.argument("endpoint_id", type=int)
def disable_command(endpoint_id: int) -> None:
    """Stop sending to ENDPOINT_ID; its pending deliveries are cancelled."""
    _switch(endpoint_id, False)


@webhooks_group.command("enable")
@click.argument("endpoint_id", type=int)
def enable_command(endpoint_id: int) -> None:
    """Send to ENDPOINT_ID again (its failure clock starts afresh)."""
    _switch(endpoint_id, True)


@webhooks_group.command("rotate")
@click.argument("endpoint_id", type=int)
def rotate_command(endpoint_id: int) -> None:
    """A new signing key for ENDPOINT_ID; the old one signs beside it for 24 hours. Prints the
    new key once."""
    endpoint = store.rotate_secret(_db(), scope=STAFF_SCOPE, idempotency_key=_key(),
                                   partner_id=None, endpoint_id=endpoint_id,
                                   secret_key=_secret_key())
    click.echo(f"{'public key' if endpoint.public_key else 'secret (shown once)'}: "
               f"{endpoint.key_text(_secret_key())}")


@webhooks_group.command("delete")
@click.argument("endpoint_id", type=int)
def delete_command(endpoint_id: int) -> None:
    """Remove ENDPOINT_ID (its delivery history stays)."""
    store.delete_endpoint(_db(), scope=STAFF_SCOPE, idempotency_key=_key(), partner_id=None,
                          endpoint_id=endpoint_id)
    click.echo(f"deleted endpoint {endpoint_id}")


@webhooks_group.command("deliveries")
@click.argument("endpoint_id", type=int)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many, 1 to 1,000.")
def deliveries_command(endpoint_id: int, limit: int) -> None:
    """The latest deliveries to ENDPOINT_ID, newest first."""
    db = _db()
    db.read(store.get_endpoint, endpoint_id)  # WEBHOOK_ENDPOINT_NOT_FOUND for a wrong id
    for d in db.read(store.list_deliveries, endpoint_id, limit=limit):
        tail = f"next {_at(d.next_attempt_at)}" if d.status == "pending" else (
            f"delivered {_at(d.delivered_at)}" if d.status == "delivered" else d.last_error or "")
        click.echo(f"{d.id}  {d.msg_id}  {d.type}  {d.status}  attempts {d.attempts}  "
                   f"last HTTP {d.last_status or '-'}  {tail}"
                   + (f"  (replays {d.replay_of})" if d.replay_of else ""))


@webhooks_group.command("replay")
@click.argument("delivery_id", type=int)
def replay_command(delivery_id: int) -> None:
    """Send DELIVERY_ID's event again (same webhook-id and body) as a new delivery."""
    delivery = store.replay_delivery(_db(), scope=STAFF_SCOPE, idempotency_key=_key(),
                                     partner_id=None, delivery_id=delivery_id)
    click.echo(f"delivery {delivery.id} queued ({delivery.msg_id}, {delivery.type})")
