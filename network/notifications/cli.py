"""`pointsnet notifications drain`: send what the outbox holds (cron, or a loop under systemd)."""

from __future__ import annotations

import time

import click

from network.cli_errors import HubGroup, fail
from network.clock import utcnow
from network.config import get_settings
from network.db.engine import open_database
from network.notifications.config import NotificationSettings
from network.notifications.drain import drain
from network.notifications.preferences import KINDS
from network.notifications.senders import sender_from_settings


@click.group("notifications", cls=HubGroup)
def notifications() -> None:
    """Outgoing member messages (sign-in codes, security notices, lifecycle messages)."""


@notifications.command("drain")
@click.option("--loop", is_flag=True, help="Keep draining until interrupted.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between passes with --loop.")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="Messages claimed per pass, 1 to 10000.")
def drain_command(loop: bool, interval: float, batch: int) -> None:
    """Send every due message with the configured senders (POINTSNET_NOTIFY_*)."""
    config = NotificationSettings.from_env()
    db = open_database(get_settings().database_url)
    sender = sender_from_settings(config)
    try:
        while True:
            report = drain(db, sender, utcnow, batch=batch, max_attempts=config.max_attempts)
            click.echo(f"notifications: sent {report.sent}, will retry {report.retried}, "
                       f"gave up {report.failed}", err=True)
            if not loop:
                return
            time.sleep(interval)
    finally:
        db.dispose()


LIFECYCLE_KINDS = [k for k, c in KINDS.items() if c != "transactional"]


@click.group("messages", cls=HubGroup)
def messages_group() -> None:
    """Lifecycle messages to members (earned, expiring, tier, rewards...)."""


@messages_group.command("preview")
@click.argument("kind", type=click.Choice(LIFECYCLE_KINDS))
@click.option("--member", "card", required=True, help="The member's card number.")
@click.option("--lang", type=click.Choice(["en", "fa"]), default=None,
              help="Language (default: the member's).")
@click.option("--channel", type=click.Choice(["sms", "email"]), default="email",
              show_default=True, help="The SMS text (with its length) or the email.")
@click.option("--html", is_flag=True, help="Print the email's HTML instead of its text.")
def preview_command(kind: str, card: str, lang: str | None, channel: str, html: bool) -> None:
    """Render KIND for a member (their balance, partner and next expiry; samples elsewhere).
    Nothing is sent."""
    from network import members
    from network.ledger.errors import InvalidInput
    from network.notifications.preview import preview
    from network.notifications.templates import sms_segments

    settings = get_settings()
    db = open_database(settings.database_url)
    try:
        now = utcnow()

        def render(conn):  # type: ignore[no-untyped-def]
            member = members.find(conn, settings.secret_key, card_number=card)
            if member is None:
                fail("MEMBER_NOT_FOUND", f"no member has the card {card[:4]}… "
                                         "(check the number)")
            return preview(conn, member, kind, language=lang, channel=channel,
                           settings=settings, now=now)

        try:
            rendered = db.read(render)
        except InvalidInput as exc:
            fail(exc.code, exc.message)
    finally:
        db.dispose()
    if channel == "sms":
        segments = sms_segments(rendered.body)
        click.echo(rendered.body)
        click.echo(f"-- {segments.encoding}, {segments.length} characters, "
                   f"{segments.count} segment(s)", err=True)
        return
    click.echo(f"Subject: {rendered.subject}\n")
    click.echo(rendered.html if html else rendered.body)
