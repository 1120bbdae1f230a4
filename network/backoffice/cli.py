"""`pointsnet backoffice …`: the first operator account, then adding, listing and disabling
back-office users. Passwords are prompted (hidden, twice) or read from standard input with
--password-stdin; they never appear in a command line or shell history."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import segno

from network import audit, parties
from network.backoffice import accounts, totp
from network.backoffice.errors import BackofficeError
from network.backoffice.roles import PARTNER_ROLES, STAFF_ROLES
from network.cli_errors import HubGroup
from network.clock import utcnow
from network.config import Settings
from network.db.engine import open_database


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _show_totp(login: str, secret: str, qr_png: Path | None) -> None:
    uri = totp.provisioning_uri(secret, login)
    click.echo("Add this account to an authenticator app (scan the QR code or type the key):")
    click.echo(f"  key: {secret}")
    click.echo(f"  uri: {uri}")
    qr = segno.make(uri, error="m")
    if qr_png is not None:
        qr.save(str(qr_png), scale=6)
        click.echo(f"  QR code written to {qr_png}")
    else:
        qr.terminal(out=sys.stdout, compact=True)


def _add(login: str, name: str, kind: str, role: str, partner_code: str | None,
         password: str, qr_png: Path | None, only_if_none: bool = False) -> None:
    settings = Settings.from_env()
    db = open_database(settings.database_url)
    now = utcnow()

    def write(conn):  # type: ignore[no-untyped-def]
        if only_if_none and accounts.listing(conn, kind="staff"):
            raise BackofficeError("OPERATOR_EXISTS", "staff accounts exist already; add more "
                                  "with `pointsnet backoffice users add`")
        partner_id = None
        if partner_code is not None:
            partner_id = parties.by_code(conn, partner_code)
            if partner_id is None or parties.kind_of(conn, partner_id) != "partner":
                raise BackofficeError("PARTNER_NOT_FOUND", f"no partner has code "
                                      f"{partner_code!r}", field="partner")
        account, secret = accounts.create(conn, settings.secret_key, login=login, name=name,
                                          kind=kind, role=role, password=password, now=now,
                                          partner_id=partner_id)
        audit.record(conn, actor_kind="system", actor_id=None, action="backoffice.account_added",
                     subject=f"account:{account.id}",
                     after={"kind": kind, "role": role, "partner_id": partner_id})
        return account, secret

    account, secret = db.write(write)
    click.echo(f"account #{account.id} {account.login}: {account.kind} {account.role}")
    _show_totp(account.login, secret, qr_png)


@click.group("backoffice", cls=HubGroup)
def backoffice_group() -> None:
    """Back-office accounts: staff (/console) and partner users (/partner)."""


@backoffice_group.command("create-operator")
@click.option("--login", required=True, help="The operator's email address (their sign-in name).")
@click.option("--name", required=True, help="The operator's name as colleagues know it.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--qr-png", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the TOTP QR code to this PNG instead of the terminal.")
def create_operator(login: str, name: str, password_stdin: bool, qr_png: Path | None) -> None:
    """The first operator: refused once any staff account exists."""
    _add(login, name, "staff", "operator", None, _password(password_stdin), qr_png,
         only_if_none=True)


@backoffice_group.group("users", cls=HubGroup)
def users() -> None:
    """Add, list and disable back-office users."""


@users.command("add")
@click.option("--login", required=True, help="Their email address (sign-in name).")
@click.option("--name", required=True, help="Their name as colleagues know it.")
@click.option("--role", required=True, type=click.Choice([*STAFF_ROLES, *PARTNER_ROLES]),
              help=f"Staff: {', '.join(STAFF_ROLES)}. Partner users: {', '.join(PARTNER_ROLES)}.")
@click.option("--partner", "partner_code", help="A partner user's partner (its code).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--qr-png", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the TOTP QR code to this PNG instead of the terminal.")
def users_add(login: str, name: str, role: str, partner_code: str | None, password_stdin: bool,
              qr_png: Path | None) -> None:
    """A staff account, or with --partner a partner user."""
    kind = "partner_user" if role in PARTNER_ROLES else "staff"
    if kind == "partner_user" and partner_code is None:
        raise BackofficeError("PARTNER_NOT_FOUND", f"a {role} is a partner user: name the "
                              "partner with --partner CODE", field="partner")
    _add(login, name, kind, role, partner_code, _password(password_stdin), qr_png)


@users.command("list")
def users_list() -> None:
    """Every account: id, sign-in name, kind, role, partner, state."""
    settings = Settings.from_env()
    db = open_database(settings.database_url)
    found = db.read(accounts.listing)
    for a in found:
        state = f"disabled {a.disabled_at:%Y-%m-%d}" if a.disabled_at else "active"
        partner = f" partner:{a.partner_id}" if a.partner_id else ""
        click.echo(f"#{a.id}  {a.login}  {a.kind} {a.role}{partner}  {state}")
    if not found:
        click.echo("no back-office accounts; create the first with "
                   "`pointsnet backoffice create-operator`")


def _change(action: str, account_id: int, change, before_after) -> None:  # type: ignore[no-untyped-def]
    """Run `change(conn)` -> (before, after) and audit it as the system, in one transaction."""
    settings = Settings.from_env()
    db = open_database(settings.database_url)

    def write(conn):  # type: ignore[no-untyped-def]
        before, after = change(conn)
        audit.record(conn, actor_kind="system", actor_id=None, action=action,
                     subject=f"account:{account_id}", **before_after(before, after))

    db.write(write)


def state(account: accounts.Account) -> str:
    return "disabled" if account.disabled_at else "active"


@users.command("disable")
@click.argument("account_id", type=int)
def users_disable(account_id: int) -> None:
    """Disable the account ACCOUNT_ID (see `users list`); its sessions end at once. The last
    enabled operator cannot be disabled (LAST_OPERATOR)."""
    _change("backoffice.account_disabled", account_id,
            lambda c: accounts.set_enabled(c, account_id, False, utcnow(), actor_id=None),
            lambda b, a: {"before": {"state": state(b)}, "after": {"state": state(a)}})
    click.echo(f"account #{account_id} disabled")


@users.command("enable")
@click.argument("account_id", type=int)
def users_enable(account_id: int) -> None:
    """Enable the disabled account ACCOUNT_ID again."""
    _change("backoffice.account_enabled", account_id,
            lambda c: accounts.set_enabled(c, account_id, True, utcnow(), actor_id=None),
            lambda b, a: {"before": {"state": state(b)}, "after": {"state": state(a)}})
    click.echo(f"account #{account_id} enabled")


@users.command("role")
@click.argument("account_id", type=int)
@click.argument("role", type=click.Choice([*STAFF_ROLES, *PARTNER_ROLES]))
def users_role(account_id: int, role: str) -> None:
    """Give ACCOUNT_ID the role ROLE, one of its kind (staff or partner user)."""
    _change("backoffice.role_changed", account_id,
            lambda c: accounts.set_role(c, account_id, role, actor_id=None),
            lambda b, a: {"before": {"role": b.role}, "after": {"role": a.role}})
    click.echo(f"account #{account_id} is now {role}")
