"""`pointsnet programme …` and `pointsnet events …`: the programme's jobs and staff's event types.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from network.cli_errors import CommandError, HubGroup, fail
from network.clock import utcnow
from network.config import Settings
from network.db.engine import open_database
from network.members import id_by_card
from network.programme import (
    birthdays,
    event_specs,
    event_types,
    ladder,
    ladder_store,
    tier_facts,
    tiers,
    tiers_store,
)


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


@click.group("tiers", cls=HubGroup)
def tiers_group() -> None:
    """Members' stored tiers: recalculate them, show one member's."""


@tiers_group.command("recalc")
def tiers_recalc() -> None:
    """Recalculate every member's tier now (what the worker's daily `tiers` job does): upgrade
    members who reached a tier no earn upgraded, keep a tier through its retention, downgrade
    after it. Running it again the same day changes nothing."""
    settings = Settings.from_env()
    run = tiers_store.recalc_all(open_database(settings.database_url), utcnow(),
                                 zone=ZoneInfo(settings.timezone))
    click.echo(f"{run.members} members looked at, {len(run.upgraded)} upgraded, "
               f"{len(run.downgraded)} downgraded")


@tiers_group.command("show")
@click.argument("card")
def tiers_show(card: str) -> None:
    """A member's tier by CARD number: held since when, kept until when, the points that count,
    what the next tier needs, and the history of changes."""
    settings = Settings.from_env()
    db = open_database(settings.database_url)
    member_id = id_by_card(db, card)
    if member_id is None:
        fail("MEMBER_NOT_FOUND", f"no member has card {card}")
    now = utcnow()
    in_force, held, earned, history = db.read(lambda conn: (
        ladder_store.ladder(conn), tiers_store.held(conn, member_id),
        tier_facts.earned_in_window(conn, member_id, now),
        tiers_store.history(conn, member_id)))
    status = tiers.held_standing(in_force, tiers.TierFacts(earned), held)
    if status is None:
        click.echo("tiers are off")
        return
    since = f" since {held.since:%Y-%m-%d}" if held else ""
    until = f", kept until {held.until.isoformat()}" if held and held.until else ""
    click.echo(f"tier: {status.name}{since}{until}")
    click.echo(f"points earned in the last {tiers.window(in_force).days} days: {earned}")
    if status.next is not None:
        click.echo(f"next: {status.next_name} at {status.next_threshold} "
                   f"({status.remaining} to go)")
    for change in history:
        click.echo(f"{change.at:%Y-%m-%d %H:%M} {change.from_tier} -> {change.to_tier} "
                   f"({change.reason}, {change.earned} points)")


@programme_group.group("tiers", cls=HubGroup)
def ladder_group() -> None:
    """The tier ladder in force: show it, put a new one in force."""


@ladder_group.command("show")
def ladder_show() -> None:
    """Print the ladder in force as the JSON document `set` reads (edit it and set it back),
    and on stderr which version it is."""
    db = open_database(Settings.from_env().database_url)
    current = db.read(ladder_store.versions, 1)[0]
    when = f" at {current.created_at:%Y-%m-%d %H:%M}" if current.created_at else ""
    click.echo(f"version {current.id} by {current.created_by}{when}", err=True)
    click.echo(json.dumps(ladder.to_document(current.ladder), ensure_ascii=False, indent=2))


@ladder_group.command("set")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def ladder_set(file: str) -> None:
    """Put the ladder in FILE (JSON, as `show` prints it; - for stdin) in force, after the same
    checks as the console's form. Members move to it at their next earn or the daily `tiers`
    job; stored tiers are not rewritten."""
    text = click.get_text_stream("stdin").read() if file == "-" else Path(file).read_text()
    try:
        document = json.loads(text)
    except ValueError as exc:
        fail("TIER_LADDER_INVALID", f"{file} is not JSON: {exc}")
    db = open_database(Settings.from_env().database_url)
    try:
        saved = db.write(lambda conn: ladder_store.save(
            conn, document, actor_kind="system", actor_id=None, by="cli", now=utcnow()))
    except ladder_store.TierLadderError as exc:
        lines = [(p.code, f"{p.field}: {p.message}") for p in exc.problems]
        raise CommandError(*lines[0], more=lines[1:]) from None
    click.echo(f"version {saved.id} in force: "
               + ", ".join(f"{t.code} from {t.threshold} x{t.earn_multiplier}"
                           for t in saved.ladder))
