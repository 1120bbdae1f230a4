"""`pointsnet audit …`: operators read the audit log (network/audit.py): erasure requests and
their completion today, staff actions next."""

from __future__ import annotations

import datetime as dt
import json

import click

from network import audit
from network.cli_errors import HubGroup
from network.config import Settings
from network.db.engine import open_database

SINCE_HELP = "Only entries at or after this UTC date or time (ISO 8601)."
UNTIL_HELP = "Only entries before this UTC date or time (ISO 8601)."
ACTION_HELP = "Only this action, e.g. erasure.requested, or a family: erasure.*"
SUBJECT_HELP = "Only entries about this subject, e.g. member:42."


def _moment(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time, e.g. 2026-12-01 "
                                 "or 2026-12-01T09:30") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _read(since: str | None, until: str | None, action: str | None, subject: str | None,
          limit: int | None) -> list[audit.AuditEntry]:
    settings = Settings.from_env()
    db = open_database(settings.database_url)
    return db.read(lambda conn: audit.entries(conn, subject=subject, action=action,
                                              since=_moment(since), until=_moment(until),
                                              limit=limit))


@click.group("audit", cls=HubGroup)
def audit_group() -> None:
    """The audit log: who did what to whom (ids only, no personal data)."""


@audit_group.command("list")
@click.option("--since", help=SINCE_HELP)
@click.option("--until", help=UNTIL_HELP)
@click.option("--action", help=ACTION_HELP)
@click.option("--subject", help=SUBJECT_HELP)
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="At most this many entries (1 to 100,000).")
def list_command(since: str | None, until: str | None, action: str | None,
                 subject: str | None, limit: int) -> None:
    """One line per entry, oldest first."""
    found = _read(since, until, action, subject, limit)
    for e in found:
        actor = e.actor_kind + (f":{e.actor_id}" if e.actor_id else "")
        details = json.dumps(e.after, sort_keys=True) if e.after else ""
        click.echo(f"#{e.id}  {e.at.isoformat(timespec='seconds')}  {actor}  {e.action}  "
                   f"{e.subject}  {details}".rstrip())
    if not found:
        click.echo("no audit entries match")


@audit_group.command("export")
@click.option("--csv", "as_csv", is_flag=True, required=True,
              help="Write CSV (RFC 4180) to standard output; the only format today.")
@click.option("--since", help=SINCE_HELP)
@click.option("--until", help=UNTIL_HELP)
@click.option("--action", help=ACTION_HELP)
@click.option("--subject", help=SUBJECT_HELP)
def export_command(as_csv: bool, since: str | None, until: str | None, action: str | None,
                   subject: str | None) -> None:
    """Every matching entry as CSV: id, at, actor_kind, actor_id, action, subject, before,
    after (JSON), request_id."""
    click.echo(audit.as_csv(_read(since, until, action, subject, None)), nl=False)
