"""`pointsnet campaigns approve|reject|simulate`: the network's decision on a partner's campaign
awaiting approval, and a draft's simulation over a past month. Added to the `campaigns` group
(network/programme/campaigns_cli.py) by infra/cli.py, since simulating needs partners' contracts."""

from __future__ import annotations

import getpass
import json
from decimal import Decimal
from pathlib import Path

import click

from network.cli_errors import CommandError
from network.config import Settings
from network.db.engine import open_database
from network.programme import management
from network.programme.simulation import Simulation, SimulationError
from partners.campaign_simulation import run


def _refused(error: management.CampaignRefused) -> CommandError:
    lines = [(p.code, f"{p.field}: {p.message}" if p.field else p.message)
             for p in error.problems]
    return CommandError(*lines[0], more=lines[1:])


def _decide(code: str, decision: str, note: str | None) -> None:
    db = open_database(Settings.from_env().database_url)
    try:
        decided = management.decide(db, code, decision, by=f"cli:{getpass.getuser()}",
                                    note=note)
    except management.CampaignRefused as error:
        raise _refused(error) from None
    click.echo(f"{decided.approval.lower()} {code}  ({decided.stored.campaign.status}; the "
               "partner activates it)" if decision == "approve" else
               f"{decided.approval.lower()} {code}")


@click.command("approve")
@click.argument("code")
@click.option("--note", help="For the partner.")
def approve_command(code: str, note: str | None) -> None:
    """Approve CODE, a partner's campaign awaiting the network's approval."""
    _decide(code, "approve", note)


@click.command("reject")
@click.argument("code")
@click.option("--note", help="Why, for the partner.")
def reject_command(code: str, note: str | None) -> None:
    """Reject CODE, a partner's campaign awaiting the network's approval."""
    _decide(code, "reject", note)


def plain(value: Decimal | None) -> str:
    """A decimal as written by a person: 120, 0.4 (not 120.000000, 0.400000), exact."""
    return "-" if value is None else format(value.normalize(), "f")


@click.command("pending")
def pending_command() -> None:
    """Partners' campaigns awaiting the network's approval, and why each needs it."""
    db = open_database(Settings.from_env().database_url)
    waiting = db.read(management.awaiting_approval)
    if not waiting:
        click.echo("nothing awaits approval")
    for m in waiting:
        c = m.stored.campaign
        why = "; ".join(f"{p.code} ({p.field})" for p in m.reasons)
        click.echo(f"{c.code}  #{c.id}  owner={m.stored.owner_party_id}  {c.name_en}  {why}")


def report_lines(result: Simulation, currency: str) -> list[str]:
    """The simulation for a terminal, one figure a line."""
    lines = [f"period {result.period.label} ({result.period.start.isoformat()} .. "
             f"{result.period.end.isoformat()})",
             f"earns replayed {result.earns_replayed}",
             f"members reached {result.members_reached}",
             f"times applied {result.times_applied}",
             f"points {result.points}"]
    for f in result.funders:
        value = ("no contract: no clearing price" if f.value is None
                 else f"{plain(f.value)} {currency} at {plain(f.price_per_point)} a point")
        lines.append(f"funder {f.party_id}: {f.points} points, {value}")
    for r in result.rewards:
        stock = "unlimited stock" if r.stock is None else (
            f"stock {r.stock}, " + (f"out {r.stock_out_at.isoformat()}" if r.stock_out_at
                                    else "lasts"))
        lines.append(f"reward {r.reward_id} honoured by {r.partner_id}: {r.count} issued at "
                     f"{r.price_points} points = {r.points} points, {stock}")
    lines += [f"draw {d.draw_code}: {d.entries} entries to {d.members} members"
              for d in result.draws]
    exhausted = result.budget_exhausted_at
    lines.append("budget exhausted " + (exhausted.isoformat() if exhausted else "never"))
    lines += [f"skipped {reason} {count}" for reason, count in result.skipped.items()]
    return lines


@click.command("simulate")
@click.option("--file", "path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The draft's JSON document (parties by id or code).")
@click.option("--period", required=True, help="YYYY-MM or last-month (network time zone).")
def simulate_command(path: Path, period: str) -> None:
    """Replay a draft campaign over a past month of real earns: what it would have cost."""
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError("CANNOT_READ", f"--file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandError("BAD_JSON", f"--file {path} is not JSON: {exc}") from None
    settings = Settings.from_env()
    db = open_database(settings.database_url)
    try:
        result = run(db, definition, period, timezone=settings.timezone)
    except management.CampaignRefused as error:
        raise _refused(error) from None
    except SimulationError as error:
        where = "--period" if error.field == "period" else error.field
        raise CommandError(error.code, f"{where}: {error.message}") from None
    for line in report_lines(result, settings.currency):
        click.echo(line)


COMMANDS = (approve_command, reject_command, pending_command, simulate_command)
