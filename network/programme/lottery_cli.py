"""`pointsnet lottery …`: staff open, close and draw lotteries and publish their files; anyone
verifies a draw from those files alone (`verify DIR` needs no database and no settings of the
hub's but the ones every command checks)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from network import members, parties
from network.cli_errors import EXIT_CHECK_FAILED, CommandError, HubGroup
from network.clock import as_utc, utcnow
from network.config import Settings
from network.db.engine import Database, open_database
from network.programme import lottery
from network.programme import lottery_store as store


def _db() -> Database:
    return open_database(Settings.from_env().database_url)


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError("BAD_TIME", f"{option} is not an ISO 8601 time, got {value!r} "
                                       "(e.g. 2026-12-24T18:00+03:30)") from None
    if parsed.tzinfo is None:
        raise CommandError("BAD_TIME", f"{option} needs its UTC offset, e.g. "
                                       f"{value}+00:00") from None
    return as_utc(parsed)


def _prize(text: str) -> store.Prize:
    """COUNT:LABEL_EN:LABEL_FA[:REWARD_ID]"""
    parts = text.split(":")
    if len(parts) not in (3, 4) or not parts[0].isdigit() or (
            len(parts) == 4 and not parts[3].isdigit()):
        raise CommandError("BAD_PRIZE", f"--prize is COUNT:LABEL_EN:LABEL_FA[:REWARD_ID], got "
                                        f"{text!r}")
    return store.Prize(int(parts[0]), parts[1], parts[2],
                       int(parts[3]) if len(parts) == 4 else None)


def _line(draw: store.Draw) -> str:
    price = f"{draw.entry_price} points" if draw.entry_price else "given entries only"
    return (f"{draw.code}  #{draw.id}  {draw.status}  {draw.name_en}  {price}  "
            f"{draw.opens_at.isoformat()} .. {draw.closes_at.isoformat()}  "
            f"prizes={draw.prize_count}  commitment={draw.commitment}")


@click.group("lottery", cls=HubGroup)
def lottery_group() -> None:
    """Verifiable lottery draws: open, enter (members), close, draw, publish, verify."""


@lottery_group.command("open")
@click.argument("code")
@click.option("--name-en", required=True, help="The draw's name in English.")
@click.option("--name-fa", required=True, help="The draw's name in Persian.")
@click.option("--sponsor", required=True, help="Code of the partner funding the draw: the "
                                               "points paid to enter are redeemed at it.")
@click.option("--closes", required=True, help="When entries close (ISO 8601 with offset).")
@click.option("--opens", default=None, help="When entries open; default now.")
@click.option("--price", type=int, default=0, show_default=True,
              help="Points per entry; 0: entries are only given (grant).")
@click.option("--per-member", type=int, default=1, show_default=True,
              help="Entries one member may hold.")
@click.option("--prize", "prizes", multiple=True, required=True,
              help="COUNT:LABEL_EN:LABEL_FA[:REWARD_ID], first prize first; repeat.")
def open_command(code: str, name_en: str, name_fa: str, sponsor: str, closes: str,
                 opens: str | None, price: int, per_member: int, prizes: tuple[str, ...]) -> None:
    """Open draw CODE: its seed is made and its commitment printed (publish it now)."""
    db = _db()
    sponsor_id = db.read(parties.by_code, sponsor)
    if sponsor_id is None:
        raise CommandError("PARTY_UNKNOWN", f"--sponsor: no partner with code {sponsor!r}")
    now = utcnow()
    draw = store.open_draw(db, code=code, name_en=name_en, name_fa=name_fa,
                           opens_at=_when(opens, "--opens") or now,
                           closes_at=_when(closes, "--closes") or now, entry_price=price,
                           max_entries_per_member=per_member, sponsor_party_id=sponsor_id,
                           prizes=[_prize(p) for p in prizes], now=now)
    click.echo("opened " + _line(draw))


@lottery_group.command("list")
def list_command() -> None:
    """Every draw: code, id, status, name, price, window, prizes, commitment."""
    found = _db().read(store.listed)
    if not found:
        click.echo("no draws yet: pointsnet lottery open CODE …")
    for draw in found:
        click.echo(_line(draw))


@lottery_group.command("grant")
@click.argument("code")
@click.option("--card", required=True, help="The member's card number.")
@click.option("--key", "idempotency_key", required=True,
              help="Idempotency key: the same key grants once.")
def grant_command(code: str, card: str, idempotency_key: str) -> None:
    """Give a member a free entry to CODE (no points), e.g. a prize of a staff campaign."""
    db = _db()
    settings = Settings.from_env()
    found = db.read(lambda conn: members.find(conn, settings.secret_key, card_number=card))
    if found is None:
        raise CommandError("MEMBER_NOT_FOUND", f"no member has card {card}")
    draw = db.read(store.get, code)
    entered = store.enter(db, member_id=found.id, draw_id=draw.id,
                          idempotency_key=idempotency_key, free_by="staff")
    click.echo(f"entry {entered.entry_hash} given to card {found.card_number}")


@lottery_group.command("close")
@click.argument("code")
def close_command(code: str) -> None:
    """Freeze CODE's entries (after its window); publish entries.txt next."""
    click.echo("closed " + _line(store.close(_db(), code)))


@lottery_group.command("draw")
@click.argument("code")
def draw_command(code: str) -> None:
    """Reveal CODE's seed and mark its winners; they are told through the outbox."""
    settings = Settings.from_env()
    draw = store.draw_winners(_db(), code, secret=settings.secret_key)
    click.echo("drawn " + _line(draw))


@lottery_group.command("publish")
@click.argument("code")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory to write the draw's public files into (made if missing).")
def publish_command(code: str, out: Path) -> None:
    """Write what CODE has made public so far: commitment.txt; entries.txt once closed;
    seed.txt and winners.txt once drawn."""
    published = _db().read(store.published, code)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in published.files().items():
        (out / name).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out / name}")


@lottery_group.command("verify")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
def verify_command(directory: Path) -> None:
    """Recompute the winners from DIRECTORY's four files; MATCH (exit 0) or each difference
    (exit 1)."""
    files = {}
    for name in (lottery.COMMITMENT, lottery.ENTRIES, lottery.SEED, lottery.WINNERS):
        path = directory / name
        if path.is_file():
            files[name] = path.read_text(encoding="utf-8", errors="replace")
    problems = lottery.verify(files)
    if not problems:
        code, prizes, _ = lottery.parse_commitment(files[lottery.COMMITMENT])
        entries = len(lottery.parse_entries(files[lottery.ENTRIES]))
        click.echo(f"MATCH: draw {code}, {entries} entries, {min(prizes, entries)} winners "
                   "follow from the seed, which matches the commitment")
        return
    click.echo("DIFFERS:")
    for problem in problems:
        click.echo(f"  {problem}")
    sys.exit(EXIT_CHECK_FAILED)
