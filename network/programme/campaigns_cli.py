"""`pointsnet campaigns …`: the operator's (staff's) hands on the programme's campaigns.

A campaign is written as its JSON document (network/programme/codec.py) in a file. Parties may be
named by code there for convenience (`{"party": "cafe", "share": 5000}` in `funder`, `"cafe"` in
`conditions.partners`); they are stored by id. Every problem is one line on stderr in the one CLI
format, and nothing is written when there is any.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection

from network import parties
from network.cli_errors import CommandError, HubGroup
from network.config import Settings
from network.db.engine import open_database
from network.programme import approval, codec, store
from network.programme.validation import Problem


def _failure(problems: tuple[Problem, ...]) -> CommandError:
    lines = [(p.code, f"{p.field}: {p.message}" if p.field else p.message) for p in problems]
    return CommandError(*lines[0], more=lines[1:])


def _resolve_codes(conn: Connection, doc: Any) -> Any:
    """Party codes in the document -> ids; unknown codes are left for the store to name."""
    if not isinstance(doc, dict):
        return doc

    def party(code: str, field: str) -> int:
        found = parties.by_code(conn, code)
        if found is None:
            raise _failure((Problem(field, "PARTY_UNKNOWN", f"no party with code {code!r}"),))
        return found

    for index, part in enumerate(doc.get("funder") or []):
        if isinstance(part, dict) and isinstance(part.get("party"), str):
            part["partyId"] = party(part.pop("party"), f"funder[{index}].party")
    conditions = doc.get("conditions")
    if isinstance(conditions, dict) and isinstance(conditions.get("partners"), list):
        conditions["partners"] = [party(p, "conditions.partners") if isinstance(p, str) else p
                                  for p in conditions["partners"]]
    return doc


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError("CANNOT_READ", f"--file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandError("BAD_JSON", f"--file {path} is not JSON: {exc}") from None


def _run(fn: Any, *args: Any) -> Any:
    db = open_database(Settings.from_env().database_url)
    try:
        return db.write(fn, *args)
    except (store.CampaignError, codec.CampaignDocumentError) as exc:
        raise _failure(exc.problems) from None


def _line(s: store.StoredCampaign) -> str:
    c = s.campaign
    budget = "-" if c.limits.budget_points is None else f"{s.spent_points}/{c.limits.budget_points}"
    ends = c.ends_at.isoformat() if c.ends_at else "open"
    return (f"{c.code}  #{c.id}  {c.status}  {c.name_en}  budget={budget}  "
            f"{c.starts_at.isoformat()} .. {ends}")


@click.group("campaigns", cls=HubGroup)
def campaigns_group() -> None:
    """The programme's campaigns: create from a JSON document, list, show, activate, pause, end."""


@campaigns_group.command("create")
@click.option("--file", "path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The campaign's JSON document (see README, The programme).")
@click.option("--owner", default=parties.NETWORK_CODE, show_default=True,
              help="Code of the partner that manages it, or the network.")
def create_command(path: Path, owner: str) -> None:
    """Save a campaign as a draft; `activate` starts it."""
    doc = _read(path)

    def create(conn: Connection) -> store.StoredCampaign:
        owner_id = parties.by_code(conn, owner)
        if owner_id is None:
            raise _failure((Problem("owner", "PARTY_UNKNOWN", f"no party with code {owner!r}"),))
        campaign = codec.from_document(_resolve_codes(conn, doc))
        return store.create(conn, campaign, owner_party_id=owner_id)

    click.echo("created " + _line(_run(create)))


@campaigns_group.command("list")
def list_command() -> None:
    """Every campaign: code, id, status, name, budget spent/total, window."""
    db = open_database(Settings.from_env().database_url)
    found = db.read(store.list_campaigns)
    if not found:
        click.echo("no campaigns yet: pointsnet campaigns create --file campaign.json")
    for stored in found:
        click.echo(_line(stored))


@campaigns_group.command("show")
@click.argument("code")
def show_command(code: str) -> None:
    """CODE's JSON document, with its id, status and budget spent."""
    db = open_database(Settings.from_env().database_url)
    try:
        stored = db.read(store.get, code)
    except store.CampaignError as exc:
        raise _failure(exc.problems) from None
    doc = {"id": stored.campaign.id, **codec.to_document(stored.campaign),
           "spentPoints": stored.spent_points, "ownerPartyId": stored.owner_party_id}
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def _set_status(conn: Connection, code: str, status: str) -> store.StoredCampaign:
    """A partner's campaign that needs the network's approval is activated only once approved
    (`pointsnet campaigns approve CODE`), so the list of approvals stays the truth."""
    if status == "active":
        stored = store.get(conn, code)
        approval.require_approved(conn, stored.campaign, approval.needed(
            conn, stored.campaign, stored.owner_party_id))
    return store.set_status(conn, code, status)  # type: ignore[arg-type]


def _status_command(name: str, status: str, help: str) -> None:
    @campaigns_group.command(name, help=help)
    @click.argument("code")
    def command(code: str) -> None:
        click.echo(f"{status} " + _line(_run(_set_status, code, status)))


_status_command("activate", "active", "Start CODE (a draft or paused campaign); it is checked "
                                      "again first.")
_status_command("pause", "paused", "Stop CODE applying until it is activated again.")
_status_command("end", "ended", "End CODE for good.")
