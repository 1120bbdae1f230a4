"""`pointsnet programme …` and `pointsnet events …`: the programme's jobs and staff's event types.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from network.cli_errors import HubGroup, fail
from network.clock import utcnow
from network.config import Settings
from network.db.engine import open_database
from network.programme import birthdays, event_specs, event_types


@click.group("programme", cls=HubGroup)
def programme_group() -> None:
    """The loyalty programme's jobs."""


@programme_group.command("birthdays")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]),
              help="The day to raise birthdays for (default: today in POINTSNET_TIMEZONE).")
def birthdays_command(day: dt.datetime | None) -> None:
    """Raise a birthday fact for each member whose birthday is that day; run daily. Running it
    again for the same day raises nothing twice."""
    settings = Settings.from_env()
    today = day.date() if day else utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    run = birthdays.raise_due(open_database(settings.database_url), today,
                              zone=settings.timezone)
    click.echo(f"{run.today.isoformat()}: {run.due} birthdays, {len(run.raised)} raised now, "
               f"{run.due - len(run.raised)} raised before")


@click.group("events", cls=HubGroup)
def events_group() -> None:
    """Custom event types partners record events of."""


@events_group.group("types", cls=HubGroup)
def types_group() -> None:
    """Event types: the network's and partners'."""


def _spec(value: str) -> object:
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        return json.loads(text)
    except ValueError as exc:
        fail("INVALID_ATTRIBUTE_SPEC", f"--attributes is not JSON: {exc}")


@types_group.command("add")
@click.argument("code")
@click.option("--attributes", "spec", default="{}", show_default=True,
              help='The attribute spec as JSON, or @FILE: {"rating": {"type": "integer", '
                   '"required": true, "min": 1, "max": 5}}.')
def types_add(code: str, spec: str) -> None:
    """Register a network-wide event type CODE (every partner may record it)."""
    event_specs.check_code(code)
    parsed = event_specs.parse_spec(_spec(spec))
    db = open_database(Settings.from_env().database_url)
    added = db.write(lambda conn: event_types.add(conn, code=code, owner_party_id=None,
                                                  spec=parsed, now=utcnow()))
    click.echo(f"registered {added.code}: {json.dumps(added.spec.as_json())}")


@types_group.command("list")
def types_list() -> None:
    """Every event type: code, owner (network or partner id) and attribute spec."""
    db = open_database(Settings.from_env().database_url)
    for kind in db.read(event_types.listed):
        owner = "network" if kind.owner_party_id is None else f"partner #{kind.owner_party_id}"
        click.echo(f"{kind.code}\t{owner}\t{json.dumps(kind.spec.as_json())}")
