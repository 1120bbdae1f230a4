"""`pointsnet partners …` (onboarding, contracts, keys) and `pointsnet signature …` (see
signature_cli).

Private keys are printed once (or written to a 0600 file) and never stored by the hub.
Errors are `CommandError`s (network/cli_errors.py), the ledger's coded errors are mapped to them
by the root group.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Connection

from network.cli_errors import HubGroup, fail
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database, open_database
from partners import contracts
from partners import keys as api_keys
from partners import terms as contract_terms
from partners.registry import Partner, create_partner, find_partner, list_partners
from partners.signature_cli import signature_group
from partners.terms import Terms
from partners.webhooks.cli import webhooks_group

__all__ = ["partners_group", "signature_group"]

T = TypeVar("T")


def _db() -> Database:
    # Read the environment afresh (not the cached settings) so one process can target several
    # databases, as tests and scripts do.
    return open_database(Settings.from_env().database_url)


def _partner(db: Database, code_or_id: str) -> Partner:
    found = db.read(find_partner, code_or_id)
    if found is None:
        fail("PARTNER_NOT_FOUND", f"no partner {code_or_id!r} (see `pointsnet partners list`)")
    return found


class PriceType(click.ParamType):
    """A non-negative decimal the contracts table stores exactly (Numeric(18, 6)): a price with
    more places would be rounded by the database, so it is refused here instead."""

    name = "decimal"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not number.is_finite() or number < 0:
            self.fail(f"{value!r} is not a number of 0 or more", param, ctx)
        if number >= 10**12 or number != number.quantize(Decimal("0.000001")):
            self.fail(f"{value!r} has more than 6 decimal places or 12 digits before the point",
                      param, ctx)
        return number


PRICE = PriceType()
PENDING_DAYS = click.IntRange(*contract_terms.PENDING_DAYS)
VALIDITY_MONTHS = click.IntRange(*contract_terms.VALIDITY_MONTHS)
FEE_BPS = click.IntRange(*contract_terms.NETWORK_FEE_BPS)


def _saved(pem: str, out: Path | None) -> str:
    """Write the private key to OUT (mode 600), if given; return it.

    Called inside the transaction that creates the key, so a file that cannot be written rolls
    the key back: simpler than checking the file first and racing whoever creates it meanwhile.
    O_EXCL: an existing file may hold the only copy of an active private key, never replace it.
    """
    if out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
    return pem


def _write_key(db: Database, create: Callable[[Connection], T]) -> T:
    """`db.write(create)` for a function that creates a key and `_saved` its private half."""
    try:
        return db.write(create)
    except FileExistsError as exc:
        fail("KEY_FILE_EXISTS", f"{exc.filename} already exists and may hold a private key; "
             "choose another file (no key was created)")
    except OSError as exc:
        fail("KEY_FILE_UNWRITABLE", f"cannot write {exc.filename}: {exc.strerror} (no key was "
             "created)")


def _show_private_key(key_id: str, pem: str, out: Path | None) -> None:
    if out is not None:
        click.echo(f"private key written to {out} (mode 600); the hub keeps only the public key")
    else:
        click.echo("private key (shown once; the hub keeps only the public key):")
        click.echo(pem.rstrip())
    click.echo(f"key id: {key_id}")


@click.group("partners", cls=HubGroup)
def partners_group() -> None:
    """Partners: onboarding, contract versions, API keys and webhook endpoints."""


partners_group.add_command(webhooks_group)


# The contract's terms as options, shared by `create` (defaults) and `contract add` (each
# omitted option keeps the value of the version it follows, so no default there).
TERM_OPTIONS: list[tuple[str, str, Any, Any, str]] = [
    # (option, Terms field, type, create's default, help)
    ("--earn-rate", "earn_points_per_unit", PRICE, "1",
     "Points per major currency unit spent, 0 or more (up to 6 decimal places)."),
    ("--pending-days", "pending_days", PENDING_DAYS, 0,
     "Days earned points stay pending (visible, not spendable), 0 to 365; e.g. a return "
     "window."),
    ("--validity-months", "validity_months", VALIDITY_MONTHS, 24,
     "Months points stay valid once spendable, 1 to 120; then they expire."),
    ("--clearing-price", "clearing_price_per_point", PRICE, "0.5",
     "Minor units per point this partner pays when another partner redeems its points."),
    ("--donation-value", "donation_value_per_point", PRICE, "0.5",
     "Minor units per point this partner pays a charity its points are donated to."),
    ("--network-fee-bps", "network_fee_bps", FEE_BPS, 0,
     "The network's fee in basis points (1/100 %), 0 to 10000, of what this partner pays "
     "others for redeeming its points."),
]


def _term_options(with_defaults: bool) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def decorate(command: Callable[..., T]) -> Callable[..., T]:
        for option, field, kind, default, help_text in reversed(TERM_OPTIONS):
            command = click.option(option, field, type=kind,
                                   default=default if with_defaults else None,
                                   show_default=with_defaults, help=help_text)(command)
        explicit = click.option(
            "--allow-explicit-points/--no-explicit-points", "allow_explicit_points",
            default=False if with_defaults else None, show_default=with_defaults,
            help="Whether the partner may send the points of an award itself (e.g. a "
                 "promotion it funds) instead of having them computed from the amount.")
        return explicit(command)
    return decorate


@partners_group.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The partner's name as members see it.")
@_term_options(with_defaults=True)
def create_command(code: str, name: str, **terms: Any) -> None:
    """Register partner CODE (1-64 letters, digits, '-', '_', '.') with its first contract,
    in force at once."""
    partner = _db().write(lambda conn: create_partner(conn, code=code, name=name,
                                                       terms=Terms(**terms), now=utcnow()))
    click.echo(f"partner {partner.code} created with id {partner.id}")


def _columns(rows: list[list[str]]) -> None:
    """Each column padded to its widest cell, so they line up whatever the values."""
    if not rows:
        return
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _terms_cells(terms: Terms) -> list[str]:
    return [f"earn={terms.earn_points_per_unit.normalize():f}", f"pending={terms.pending_days}d",
            f"valid={terms.validity_months}mo",
            f"clearing={terms.clearing_price_per_point.normalize():f}",
            f"donation={terms.donation_value_per_point.normalize():f}",
            f"fee={terms.network_fee_bps}bps",
            "explicit-points" if terms.allow_explicit_points else "computed-points"]


@partners_group.command("list")
def list_command() -> None:
    """Every partner with the contract in force now and, if one is scheduled, the next
    version's start."""
    db = _db()
    now = utcnow()

    def read(conn: Connection) -> list[list[str]]:
        rows = []
        for partner in list_partners(conn):
            found = contracts.versions(conn, partner.id)
            current = contract_terms.pick(found, now)
            upcoming = [start for start, _ in found if start > now]
            rows.append([partner.code, f"#{partner.id}", partner.name,
                         *(_terms_cells(current) if current else ["no contract in force"]),
                         f"next={_local(min(upcoming))}" if upcoming else ""])
        return rows

    rows = db.read(read)
    if not rows:
        click.echo("no partners yet: pointsnet partners create CODE --name NAME")
    _columns(rows)


@partners_group.group("contract")
def contract_group() -> None:
    """A partner's contract versions: each applies from its start, earlier ones stay as they
    were for what was earned and settled under them."""


def _zone() -> ZoneInfo:
    return ZoneInfo(Settings.from_env().timezone)


def _start(date: datetime) -> datetime:
    """Midnight of DATE in the network's time zone: settlement months are cut there too."""
    return date.replace(tzinfo=_zone()).astimezone(UTC)


def _local(at: datetime) -> str:
    """A contract start as the operator typed it: in the network's time zone."""
    return at.astimezone(_zone()).isoformat(timespec="seconds")


@contract_group.command("add")
@click.argument("partner")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              metavar="YYYY-MM-DD",
              help="First day of the new terms, from midnight in POINTSNET_TIMEZONE; "
                   "a day in the future.")
@_term_options(with_defaults=False)
def contract_add(partner: str, start: datetime, **options: Any) -> None:
    """A new contract version for PARTNER (code or id) from a future day. Options not given
    keep the value of the version in force before that day."""
    changes = {field: value for field, value in options.items() if value is not None}
    if not changes:
        fail("NOTHING_TO_CHANGE", "give at least one term to change, e.g. --earn-rate 12 "
             "(see `pointsnet partners contract add --help`)")
    effective_from, now = _start(start), utcnow()
    db = _db()
    party = _partner(db, partner)

    def add(conn: Connection) -> Terms:
        terms = contract_terms.plan_version(contracts.versions(conn, party.id), changes,
                                       effective_from=effective_from, now=now)
        contracts.add_contract(conn, party.id, terms, effective_from=effective_from, now=now)
        return terms

    terms = db.write(add)
    click.echo(f"contract of {party.code} from {_local(effective_from)}: "
               + "  ".join(_terms_cells(terms)))


@contract_group.command("list")
@click.argument("partner")
def contract_list(partner: str) -> None:
    """Every contract version of PARTNER (code or id), latest first, marking the one in force."""
    db = _db()
    party = _partner(db, partner)
    now = utcnow()
    found = db.read(contracts.versions, party.id)
    current = next((start for start, _ in found if start <= now), None)
    _columns([[_local(start), *_terms_cells(terms),
               "in force" if start == current else ("scheduled" if start > now else "")]
              for start, terms in found])


@partners_group.group("keys")
def keys_group() -> None:
    """A partner's Ed25519 API keys."""


# Bounded so that a typo like 10**9 is a usage error rather than an OverflowError traceback
# from datetime arithmetic; 100 years of expiry and 10 years of overlap are beyond any real use.
# The lower bounds refuse 0 days of expiry rather than read it as "omitted", which silently
# created a key that lives for ever, and a negative overlap, which rotate_key refuses anyway.
MAX_EXPIRY_DAYS = 36500
MAX_OVERLAP_DAYS = 3650
EXPIRES_IN_DAYS = click.IntRange(1, MAX_EXPIRY_DAYS)
EXPIRES_IN_DAYS_HELP = ("Days until the key expires, 1 to 36500 (100 years); omit it for a key "
                        "that never expires.")


def _expiry(days: int | None) -> datetime | None:
    """None when --expires-in-days is omitted: the key never expires."""
    if days is None:
        return None
    return utcnow() + timedelta(days=days)


@keys_group.command("create")
@click.argument("partner")
@click.option("--scopes", default="read enrol earn redeem", show_default=True,
              help="Space- or comma-separated; at least one of read, enrol, earn, redeem, events.")
@click.option("--expires-in-days", type=EXPIRES_IN_DAYS, help=EXPIRES_IN_DAYS_HELP)
@click.option("--label", help="A note to tell keys apart, e.g. the till or server using it.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Write the private key to this new file (mode 600) instead of printing it.")
def keys_create(partner: str, scopes: str, expires_in_days: int | None, label: str | None,
                out: Path | None) -> None:
    """Generate a key pair for PARTNER; show the private key once."""
    expires_at = _expiry(expires_in_days)
    db = _db()
    party = _partner(db, partner)

    def create(conn: Connection) -> tuple[api_keys.ApiKey, str]:
        key, pem = api_keys.create_key(conn, party_id=party.id, now=utcnow(), scopes=scopes,
                                       expires_at=expires_at, label=label)
        return key, _saved(pem, out)

    key, pem = _write_key(db, create)
    click.echo(f"scopes: {' '.join(sorted(key.scopes))}")
    _show_private_key(key.key_id, pem, out)


@keys_group.command("register")
@click.argument("partner")
@click.option("--public-key", "public_key", required=True, type=click.Path(exists=True),
              help="PEM file with the partner's own Ed25519 public key.")
@click.option("--scopes", default="read enrol earn redeem", show_default=True,
              help="Space- or comma-separated; at least one of read, enrol, earn, redeem, events.")
@click.option("--expires-in-days", type=EXPIRES_IN_DAYS, help=EXPIRES_IN_DAYS_HELP)
@click.option("--label", help="A note to tell keys apart, e.g. the till or server using it.")
def keys_register(partner: str, public_key: str, scopes: str, expires_in_days: int | None,
                  label: str | None) -> None:
    """Register a public key PARTNER (code or id) generated itself."""
    expires_at = _expiry(expires_in_days)
    # A binary file (a DER key, say) decodes to text that register_key refuses as "not an
    # Ed25519 public key", instead of a UnicodeDecodeError traceback.
    pem_text = Path(public_key).read_text(errors="replace")
    db = _db()
    party = _partner(db, partner)
    key = db.write(lambda conn: api_keys.register_key(
        conn, party_id=party.id, public_key_pem_text=pem_text,
        now=utcnow(), scopes=scopes, expires_at=expires_at, label=label))
    click.echo(f"key id: {key.key_id} (scopes: {' '.join(sorted(key.scopes))})")


@keys_group.command("list")
@click.argument("partner")
def keys_list(partner: str) -> None:
    """Every key of PARTNER with its status and, once rotated, its successor."""
    db = _db()
    party = _partner(db, partner)
    now = utcnow()
    rows = [
        (key.key_id, key.status(now), f"scopes={','.join(sorted(key.scopes))}",
         f"expires={key.expires_at.isoformat(timespec='seconds') if key.expires_at else 'never'}",
         f"successor={key.rotated_to or '-'}", f"label={key.label or '-'}")
        for key in db.read(api_keys.list_keys, party.id)
    ]
    _columns(rows)


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke KEY_ID now; the next request signed with it is refused (KEY_REVOKED)."""
    key = _db().write(api_keys.revoke_key, key_id, utcnow())
    click.echo(f"key {key.key_id} revoked at {key.revoked_at}")


@keys_group.command("rotate")
@click.argument("key_id")
@click.option("--overlap-days", default=7, show_default=True,
              type=click.IntRange(0, MAX_OVERLAP_DAYS),
              help="Days the old key keeps working next to the new one, 0 to 3650 "
                   "(0: it stops now).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Write the new private key to this new file (mode 600) instead of printing "
                   "it.")
def keys_rotate(key_id: str, overlap_days: int, out: Path | None) -> None:
    """Issue a successor to KEY_ID; both work during the overlap, then the old one expires.

    The successor has KEY_ID's scopes and the lifetime KEY_ID was issued with, counted from now
    (a key that never expires is succeeded by one that never expires). A key is rotated once;
    to rotate again, rotate its successor.
    """

    def rotate(conn: Connection) -> tuple[api_keys.ApiKey, str, api_keys.ApiKey]:
        new, pem, old = api_keys.rotate_key(conn, key_id=key_id, now=utcnow(),
                                            overlap=timedelta(days=overlap_days))
        return new, _saved(pem, out), old

    new, pem, old = _write_key(_db(), rotate)
    click.echo(f"old key {old.key_id} now expires at {old.expires_at}")
    click.echo(f"new key expires at {new.expires_at or 'never'}")
    _show_private_key(new.key_id, pem, out)


# The first spelling, in partners' scripts and older READMEs; kept as an alias, not a twin.
partners_group.add_command(click.Command(
    "rotate", callback=keys_rotate.callback, params=keys_rotate.params,
    help="Alias of `pointsnet partners keys rotate` (rotate KEY_ID).",
))
