"""`pointsnet segments …`: define segments, import static lists, refresh rule and RFM segments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from network.cli_errors import CommandError, HubGroup
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database, open_database
from network.programme import segments_store as store

SHOWN_MEMBERS = 20


def _db() -> Database:
    return open_database(Settings.from_env().database_url)


def _line(segment: store.Segment) -> str:
    return (f"{segment.code}  {segment.kind}  {segment.members} members  "
            f"{segment.name_en} / {segment.name_fa}")


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is not a card
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError("BAD_FILE", f"cannot read {what} {path}: {exc}") from None


@click.group("segments", cls=HubGroup)
def segments_group() -> None:
    """Member segments campaigns can target: static lists, rules, RFM."""


@segments_group.command("list")
def list_command() -> None:
    """Every segment with its kind, size and names."""
    found = _db().read(store.list_segments)
    if not found:
        click.echo("no segments yet: pointsnet segments create CODE --name NAME --name-fa NAME")
    for segment in found:
        click.echo(_line(segment))


@segments_group.command("show")
@click.argument("code")
def show_command(code: str) -> None:
    """Segment CODE: names, kind, rule, size and its first members' cards."""
    def read(conn: Any) -> tuple[store.Segment, list[str]]:
        segment = store.get(conn, code)
        return segment, store.member_cards(conn, segment.id, SHOWN_MEMBERS)

    segment, cards = _db().read(read)
    click.echo(_line(segment))
    click.echo(f"updated {segment.updated_at.isoformat(timespec='seconds')}")
    if segment.rule is not None:
        click.echo("rule " + json.dumps(segment.rule, ensure_ascii=False, sort_keys=True))
    for card in cards:
        click.echo(f"  {card}")
    if segment.members > len(cards):
        click.echo(f"  … and {segment.members - len(cards)} more")


@segments_group.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Its name in English (1 to 200 characters).")
@click.option("--name-fa", required=True, help="Its name in Persian (1 to 200 characters).")
@click.option("--rule", "rule_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A JSON rule file (README, Segments); without it the segment is a static "
                   "list, filled by `segments import`.")
def create_command(code: str, name: str, name_fa: str, rule_file: Path | None) -> None:
    """Define segment CODE (lower-case letters, digits, '-', '_', '.'). A rule segment gets its
    members at once; a static one with `segments import`."""
    rule = None
    if rule_file is not None:
        try:
            rule = json.loads(_read(rule_file, "the rule file"))
        except json.JSONDecodeError as exc:
            raise CommandError("RULE_INVALID", f"{rule_file} is not JSON: {exc}") from None
    db = _db()
    now = utcnow()

    def create(conn: Any) -> store.Segment:
        store.create(conn, code=code, name_en=name, name_fa=name_fa, rule=rule, now=now)
        if rule is not None:
            store.refresh_rules(conn, now, only=code)  # its members now, not at the next refresh
        return store.get(conn, code)

    click.echo("created " + _line(db.write(create)))


@segments_group.command("import")
@click.argument("code")
@click.option("--file", "csv_file", required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="CSV of card numbers, one per line (first column; a card_number header is "
                   "allowed).")
@click.option("--skip-bad", is_flag=True,
              help="Import the good lines and list the bad ones, instead of refusing the file.")
def import_command(code: str, csv_file: Path, skip_bad: bool) -> None:
    """Make static segment CODE exactly the members the file lists. Any bad line (malformed,
    bad check digit, unknown card, duplicate) is reported with its line number and nothing is
    imported, unless --skip-bad."""
    text = _read(csv_file, "the CSV file")
    try:
        result = _db().write(store.import_static, code, text, utcnow(), skip_bad=skip_bad)
    except store.CsvRefused as refused:
        problems = [(p.code, f"{csv_file}: {p.message}") for p in refused.problems]
        problems.append(("CSV_BAD_LINES", f"{len(refused.problems)} bad line(s) in "
                         f"{csv_file}; nothing was imported (--skip-bad imports the others)"))
        raise CommandError(*problems[0], more=problems[1:]) from None
    for problem in result.skipped:
        click.echo(f"skipped {csv_file}: {problem.code}: {problem.message}",
                   err=True)
    click.echo(f"{code}: {result.members} members (+{result.added} -{result.removed}), "
               f"{len(result.skipped)} bad line(s) skipped")


@segments_group.command("refresh")
def refresh_command() -> None:
    """Recompute every rule segment and the RFM scores and segments (the worker runs this on
    a schedule)."""
    done = store.refresh_all(_db(), utcnow())
    for code, size in sorted(done.rules.items()):
        click.echo(f"{code}: {size} members")
    click.echo(f"rfm: {done.rfm.scored} members scored")
    for code, size in done.rfm.segments.items():
        click.echo(f"{code}: {size} members")

