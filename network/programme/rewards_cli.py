"""`pointsnet rewards …`: network staff publish and manage rewards for any partner, load code
pools, refund a purchase and run the coupon expiry by hand. Partners do the same over the signed
API (scope `rewards`). Every problem is one line on stderr; nothing is written when there is
any."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import click

from network import parties
from network.cli_errors import CommandError, HubGroup
from network.config import Settings
from network.db.engine import Database, open_database
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import (
    CODE_SOURCES,
    KINDS,
    STATUSES,
    Reward,
    RewardRefused,
    RewardSpec,
    Visibility,
)

STAFF_SCOPE = "staff:cli"


def _db() -> Database:
    return open_database(Settings.from_env().database_url)


def _key(given: str | None) -> str:
    """A run's idempotency key: yours (`--key`, to retry a run safely) or a fresh one."""
    return given or f"cli-{uuid.uuid4()}"


def _refused(exc: RewardRefused) -> CommandError:
    lines = [(p.code, f"{p.field}: {p.message}" if p.field else p.message) for p in exc.problems]
    return CommandError(*lines[0], more=lines[1:])


def _party(db: Database, code: str, kind: str, option: str) -> int:
    found = db.read(parties.by_code, code)
    if found is None or db.read(parties.kind_of, found) != kind:
        raise CommandError("PARTY_UNKNOWN", f"{option}: no {kind} with code {code!r}")
    return found


def line(r: Reward, free: int | None = None) -> str:
    s = r.spec
    stock = "unlimited" if s.stock is None else str(s.stock)
    pool = f"  codes={free}" if free is not None else ""
    return (f"#{r.id}  {r.status}  {s.kind}  {s.price_points} pts  stock={stock}  "
            f"sold={r.sold}{pool}  {s.name_en} / {s.name_fa}")


@click.group("rewards", cls=HubGroup)
def rewards_group() -> None:
    """The catalog: publish rewards for a partner, load codes, list, refund, expire."""


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _when(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError("BAD_VALUE", f"{option}: not an ISO 8601 time: {value!r}") from None


@rewards_group.command("create")
@click.option("--partner", required=True, help="Code of the partner that honours it.")
@click.option("--kind", type=click.Choice(KINDS), default="coupon", show_default=True,
              help="coupon or gift_card (fulfilled by a code), lottery_entry, charity_pledge.")
@click.option("--name-en", required=True, help="The name members read in English.")
@click.option("--name-fa", required=True, help="The name members read in Persian.")
@click.option("--description-en", default="", help="A few lines in English.")
@click.option("--description-fa", default="", help="A few lines in Persian.")
@click.option("--image-url", help="An http(s) address of its picture.")
@click.option("--image-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Or its picture uploaded: a PNG, JPEG or WebP of at most 64 KiB.")
@click.option("--price", "price_points", type=int, required=True, help="Points.")
@click.option("--stock", type=int, help="How many may be sold; unlimited when omitted.")
@click.option("--per-member-limit", type=int, help="At most this many per member.")
@click.option("--coupon-days", type=int, default=30, show_default=True,
              help="Days a bought code stays usable; 0 for never expiring.")
@click.option("--valid-from", help="On sale from (ISO 8601 with an offset).")
@click.option("--valid-until", help="On sale until (ISO 8601 with an offset).")
@click.option("--tiers", help="Only these tiers see it (comma-separated codes).")
@click.option("--segments", help="Only these segments see it (comma-separated codes).")
@click.option("--code-source", type=click.Choice(CODE_SOURCES),
              help="generated (default for coupons and gift cards), pool, or none.")
@click.option("--refund-on-expiry", is_flag=True, help="Unused expired codes give points back.")
@click.option("--charity", help="A charity pledge's charity (code).")
@click.option("--value-minor", type=int, help="A gift card's value in minor units.")
@click.option("--currency", help="ISO 4217, with --value-minor.")
@click.option("--activate", is_flag=True, help="Put it on sale at once.")
@click.option("--key", help="Idempotency key, to run this again safely.")
def create_command(partner: str, kind: str, activate: bool, key: str | None,
                   image_file: Path | None, **o: Any) -> None:
    """Publish a reward that PARTNER honours (a draft unless --activate)."""
    db = _db()
    try:
        picture = image_file.read_bytes() if image_file else None
    except OSError as exc:
        raise CommandError("CANNOT_READ", f"--image-file {image_file}: {exc.strerror}") from None
    partner_id = _party(db, partner, "partner", "--partner")
    charity = o.pop("charity")
    spec = RewardSpec(
        kind=kind, visibility=Visibility(_csv(o.pop("tiers")), _csv(o.pop("segments"))),
        valid_from=_when(o.pop("valid_from"), "--valid-from"),
        valid_until=_when(o.pop("valid_until"), "--valid-until"),
        charity_id=_party(db, charity, "charity", "--charity") if charity else None,
        code_source=o.pop("code_source") or ("generated" if kind in ("coupon", "gift_card")
                                             else "none"),
        coupon_days=o.pop("coupon_days") or None, **o)
    key = _key(key)
    try:
        made = rewards_store.create(db, partner_id=partner_id, spec=spec, scope=STAFF_SCOPE,
                                    idempotency_key=key, picture=picture)
    except RewardRefused as exc:
        raise _refused(exc) from None
    if activate:
        made = rewards_store.set_status(db, partner_id=None, reward_id=made.id, status="active",
                                        scope=STAFF_SCOPE, idempotency_key=key + ":activate")
    click.echo("created " + line(made))


@rewards_group.command("list")
@click.option("--partner", help="Only this partner's rewards (code).")
def list_command(partner: str | None) -> None:
    """Every reward: id, status, kind, price, stock, sold, free pool codes, names."""
    db = _db()
    partner_id = _party(db, partner, "partner", "--partner") if partner else None
    found = db.read(rewards_store.list_rewards, partner_id=partner_id, limit=10_000, sold=True)
    if not found:
        click.echo("no rewards yet: pointsnet rewards create --partner CODE ...")
    free = db.read(rewards_store.free_codes,
                   [r.id for r in found if r.spec.code_source == "pool"])
    for r in found:
        click.echo(line(r, free.get(r.id, 0) if r.spec.code_source == "pool" else None))


@rewards_group.command("status")
@click.argument("reward_id", type=int)
@click.argument("status", type=click.Choice([s for s in STATUSES if s != "draft"]))
def status_command(reward_id: int, status: str) -> None:
    """Set REWARD_ID to STATUS: active (on sale), paused, or retired for good."""
    changed = rewards_store.set_status(_db(), partner_id=None, reward_id=reward_id,
                                       status=status, scope=STAFF_SCOPE,
                                       idempotency_key=_key(None))
    click.echo(f"{status} " + line(changed))


@rewards_group.group("codes", cls=HubGroup)
def codes_group() -> None:
    """A pool reward's codes."""


@codes_group.command("upload")
@click.argument("reward_id", type=int)
@click.option("--file", "path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="CSV, one code a line (an optional header line `code`).")
@click.option("--key", help="Idempotency key, to run this again safely.")
def upload_command(reward_id: int, path: Path, key: str | None) -> None:
    """Add the file's codes to REWARD_ID's pool: all of them, or none (each bad line named)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError("CANNOT_READ", f"--file {path}: {exc}") from None
    try:
        reward, added = rewards_store.upload_codes(_db(), partner_id=None, reward_id=reward_id,
                                                   csv_text=text, scope=STAFF_SCOPE,
                                                   idempotency_key=_key(key))
    except RewardRefused as exc:
        raise _refused(exc) from None
    click.echo(f"added {added} codes to #{reward.id} {reward.spec.name_en}")


@rewards_group.command("refund")
@click.argument("purchase_id", type=int)
def refund_command(purchase_id: int) -> None:
    """Give PURCHASE_ID's points back to the lots they came from (an unused coupon)."""
    done = rewards_buy.refund_coupon(_db(), partner_id=None, purchase_id=purchase_id,
                                     scope=STAFF_SCOPE, idempotency_key=_key(None))
    click.echo(f"refunded purchase #{done.id}: {done.points} points back to member "
               f"#{done.member_id}")


@rewards_group.command("expire")
def expire_command() -> None:
    """Expire unused coupons past their time now (the worker's `coupons` job does it every
    5 minutes)."""
    run = rewards_buy.expire_due(_db())
    click.echo(f"expired {run.expired} coupons; {run.refunded} gave their points back")
