"""`pointsnet notifications drain`: send what the outbox holds (cron, or a loop under systemd)."""

from __future__ import annotations

import time

import click

from network.cli_errors import HubGroup
from network.clock import utcnow
from network.config import get_settings
from network.db.engine import open_database
from network.notifications.config import NotificationSettings
from network.notifications.drain import drain
from network.notifications.senders import sender_from_settings


@click.group("notifications", cls=HubGroup)
def notifications() -> None:
    """Outgoing member messages (sign-in codes, security notices)."""


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
