"""`pointsnet partners …` (onboarding, keys) and `pointsnet signature …` (see signature_cli).

Private keys are printed once (or written to a 0600 file) and never stored by the hub.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from sqlalchemy import Connection

from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.ledger.errors import LedgerError
from partners import keys as api_keys
from partners.contracts import Terms
from partners.registry import Partner, create_partner, find_partner
from partners.signature_cli import signature_group

__all__ = ["partners_group", "signature_group"]

T = TypeVar("T")


def _db() -> Database:
    # Read the environment afresh (not the cached settings) so one process can target several
    # databases, as tests and scripts do.
    return Database(Settings.from_env().database_url)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _partner(db: Database, code_or_id: str) -> Partner:
    found = db.read(find_partner, code_or_id)
    if found is None:
        _fail(f"no partner {code_or_id!r}")
    assert found is not None
    return found


def _decimal(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        _fail(f"{name} must be a decimal number, got {value!r}")
        raise


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
    except LedgerError as exc:
        _fail(f"{exc.code}: {exc.message}")
    except FileExistsError as exc:
        _fail(f"{exc.filename} already exists and may hold a private key; choose another file "
              "(no key was created)")
    except OSError as exc:
        _fail(f"cannot write {exc.filename}: {exc.strerror} (no key was created)")


def _show_private_key(key_id: str, pem: str, out: Path | None) -> None:
    if out is not None:
        click.echo(f"private key written to {out} (mode 600); the hub keeps only the public key")
    else:
        click.echo("private key (shown once; the hub keeps only the public key):")
        click.echo(pem.rstrip())
    click.echo(f"key id: {key_id}")


@click.group("partners")
def partners_group() -> None:
    """Partner onboarding and API keys."""


@partners_group.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--earn-rate", default="1", show_default=True, help="Points per major unit.")
@click.option("--pending-days", default=0, show_default=True, type=int,
              help="Days earned points stay pending (visible, not spendable), 0 to 365; "
                   "e.g. a return window.")
@click.option("--validity-months", default=24, show_default=True, type=int,
              help="Months points stay valid once spendable, 1 to 120; then they expire.")
@click.option("--allow-explicit-points", is_flag=True)
@click.option("--clearing-price", default="0.5", show_default=True,
              help="Minor units per point when another partner redeems these points.")
@click.option("--donation-value", default="0.5", show_default=True,
              help="Minor units per point this partner pays a charity its points are donated to.")
@click.option("--network-fee-bps", default=0, show_default=True, type=int,
              help="The network's fee in basis points (1/100 %), 0 to 10000, of what this "
                   "partner pays others for redeeming its points.")
def create_command(code: str, name: str, earn_rate: str, pending_days: int,
                   validity_months: int, allow_explicit_points: bool, clearing_price: str,
                   donation_value: str, network_fee_bps: int) -> None:
    """Register partner CODE with its first contract."""
    terms = Terms(
        earn_points_per_unit=_decimal(earn_rate, "--earn-rate"),
        allow_explicit_points=allow_explicit_points, pending_days=pending_days,
        validity_months=validity_months,
        clearing_price_per_point=_decimal(clearing_price, "--clearing-price"),
        donation_value_per_point=_decimal(donation_value, "--donation-value"),
        network_fee_bps=network_fee_bps,
    )
    try:
        partner = _db().write(lambda conn: create_partner(conn, code=code, name=name,
                                                           terms=terms, now=utcnow()))
    except LedgerError as exc:
        _fail(f"{exc.code}: {exc.message}")
        return
    click.echo(f"partner {partner.code} created with id {partner.id}")


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
              help="Space- or comma-separated; at least one of read, enrol, earn, redeem.")
@click.option("--expires-in-days", type=EXPIRES_IN_DAYS, help=EXPIRES_IN_DAYS_HELP)
@click.option("--label")
@click.option("--out", type=click.Path(path_type=Path), help="Write the private key here.")
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
              help="Space- or comma-separated; at least one of read, enrol, earn, redeem.")
@click.option("--expires-in-days", type=EXPIRES_IN_DAYS, help=EXPIRES_IN_DAYS_HELP)
@click.option("--label")
def keys_register(partner: str, public_key: str, scopes: str, expires_in_days: int | None,
                  label: str | None) -> None:
    """Register a public key the partner generated itself."""
    expires_at = _expiry(expires_in_days)
    # A binary file (a DER key, say) decodes to text that register_key refuses as "not an
    # Ed25519 public key", instead of a UnicodeDecodeError traceback.
    pem_text = Path(public_key).read_text(errors="replace")
    db = _db()
    party = _partner(db, partner)
    try:
        key = db.write(lambda conn: api_keys.register_key(
            conn, party_id=party.id, public_key_pem_text=pem_text,
            now=utcnow(), scopes=scopes, expires_at=expires_at, label=label))
    except LedgerError as exc:
        _fail(f"{exc.code}: {exc.message}")
        return
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
    # Each column padded to its widest cell, so they line up whatever the scopes and labels.
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke KEY_ID now; the next request signed with it is refused (KEY_REVOKED)."""
    try:
        key = _db().write(api_keys.revoke_key, key_id, utcnow())
    except LedgerError as exc:
        _fail(f"{exc.code}: {exc.message}")
        return
    click.echo(f"key {key.key_id} revoked at {key.revoked_at}")


@keys_group.command("rotate")
@click.argument("key_id")
@click.option("--overlap-days", default=7, show_default=True,
              type=click.IntRange(0, MAX_OVERLAP_DAYS),
              help="Days the old key keeps working next to the new one, 0 to 3650 "
                   "(0: it stops now).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the new private key here.")
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
    help="Alias of `pointsnet partners keys rotate`.",
))
