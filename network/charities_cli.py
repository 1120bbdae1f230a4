"""`pointsnet charities …`: the charities members can donate points to.

A charity is a party like a partner, without a contract: the partners whose points are donated
pay it at their contract's donation value, through its Stripe connected account.
"""

from __future__ import annotations

import click
from sqlalchemy import Connection

from network import parties
from network.cli_errors import HubGroup
from network.config import Settings
from network.db.engine import open_database

NAME_HELP = "Its name as members read it in English (1 to 200 characters)."
NAME_FA_HELP = "Its name in Persian, shown on Persian pages (up to 200 characters)."
STRIPE_HELP = ("Its Stripe connected account (acct_…), where settlement pays what partners owe "
               "it.")


def _show(party: parties.Party) -> str:
    return (f"{party.code}  #{party.id}  {party.name}  fa={party.name_fa or '-'}  "
            f"stripe={party.stripe_account_id or '-'}")


@click.group("charities", cls=HubGroup)
def charities() -> None:
    """Charities members can donate points to."""


@charities.command("create")
@click.argument("code")
@click.option("--name", required=True, help=NAME_HELP)
@click.option("--name-fa", help=NAME_FA_HELP)
@click.option("--stripe-account", help=STRIPE_HELP)
def create_command(code: str, name: str, name_fa: str | None,
                   stripe_account: str | None) -> None:
    """Add charity CODE (1-64 letters, digits, '-', '_', '.'); members can donate to it at once.
    """
    db = open_database(Settings.from_env().database_url)

    def create(conn: Connection) -> parties.Party:
        party_id = parties.create(conn, kind="charity", code=code, name=name,
                                  name_fa=name_fa or None,
                                  stripe_account_id=stripe_account or None)
        return next(p for p in parties.list_parties(conn, "charity") if p.id == party_id)

    click.echo("created " + _show(db.write(create)))


@charities.command("edit")
@click.argument("code")
@click.option("--name", help=NAME_HELP)
@click.option("--name-fa", help=NAME_FA_HELP + ' "" removes it.')
@click.option("--stripe-account", help=STRIPE_HELP + ' "" removes it.')
def edit_command(code: str, name: str | None, name_fa: str | None,
                 stripe_account: str | None) -> None:
    """Change charity CODE's names or Stripe account; options not given stay as they are."""
    if name is None and name_fa is None and stripe_account is None:
        raise click.UsageError("give at least one of --name, --name-fa, --stripe-account")
    db = open_database(Settings.from_env().database_url)
    party = db.write(lambda conn: parties.edit(conn, code, "charity", name=name, name_fa=name_fa,
                                               stripe_account_id=stripe_account))
    click.echo("changed " + _show(party))


@charities.command("list")
def list_command() -> None:
    """Every charity with its names and Stripe account."""
    db = open_database(Settings.from_env().database_url)
    found = db.read(parties.list_parties, "charity")
    if not found:
        click.echo("no charities yet: pointsnet charities create CODE --name NAME")
    for party in found:
        click.echo(_show(party))
