"""`pointsnet members …`: maintenance of member records that no request path does."""

from __future__ import annotations

import click

from network import members
from network.cli_errors import HubGroup
from network.config import Settings
from network.db.engine import open_database


@click.group("members", cls=HubGroup)
def members_group() -> None:
    """Member records."""


@members_group.command("rekey-phones")
def rekey_phones_command() -> None:
    """Store every phone as E.164 in POINTSNET_DEFAULT_COUNTRY and re-hash it: run once on a
    database enrolled before phones were normalised (a number stored as typed, 09121234567, is
    found by no spelling until then). Running it again changes nothing."""
    settings = Settings.from_env()
    report = members.rekey_phones(open_database(settings.database_url),
                                  secret=settings.secret_key, country=settings.default_country)
    click.echo(f"checked {report.checked} phones, rewrote {report.rekeyed}")
    for kept, owner in report.conflicts:
        click.echo(f"left member #{kept} as it was: its number is member #{owner}'s "
                   "(merge or correct them by hand)")
    for member_id in report.invalid:
        click.echo(f"left member #{member_id} as it was: its stored number is no phone number")
