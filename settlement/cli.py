"""`pointsnet settle …` for finance staff and `pointsnet staff …` for their tokens.

Registered by infra/cli.py. Every command prints the run summary as a table; errors are
`pointsnet: error: CODE: message` on stderr with exit status 2 (network/cli_errors.py), and
nothing is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from network import staff as staff_tokens
from network.cli_errors import EXIT_CHECK_FAILED, CommandError, HubGroup
from network.config import Settings, get_settings
from network.db.engine import Database, open_database
from network.db.read_database import ReadDatabase
from network.money import Money
from settlement import netting, store
from settlement import run as runs
from settlement.errors import SettlementError
from settlement.payouts import records
from settlement.period import Period
from settlement.statements import signing
from settlement.statements.build import build_statement

if TYPE_CHECKING:  # the Stripe library loads only for the commands that pay
    from settlement.payouts.pay import PayReport


def _period(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """`last-month`: the month before this one in the network's time zone (POINTSNET_TIMEZONE),
    which a shell's `date` cannot know; anything else is left to Period.parse."""
    if value.strip().lower() != "last-month":
        return value
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(get_settings().timezone))
    return str(Period(today.year, today.month).previous())


PERIOD = click.option("--period", required=True, metavar="YYYY-MM|last-month", callback=_period,
                      help="Calendar month in the network's time zone, e.g. 2026-10, or "
                      "last-month.")


def _env() -> tuple[Settings, Database]:
    settings = get_settings()
    return settings, open_database(settings.database_url)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SettlementError as exc:
            raise CommandError(exc.code, exc.message) from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


def _steps(label: str, count: int) -> Any:
    return click.progressbar(length=count, label=label, file=sys.stderr,
                             item_show_func=lambda step: step)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).rjust(w) if i >= 2 else str(c).ljust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)])


def print_summary(db: Database, run: store.StoredRun) -> None:
    s = run.summary
    n, c = s["netting"], s["controls"]
    money = lambda m: Money(int(m), run.currency).format()  # noqa: E731
    click.echo(f"settlement {run.period}  run #{run.id}  status {run.status}  "
               f"({run.time_zone}, {run.currency})")
    click.echo(f"content hash   {run.content_hash}")
    click.echo(f"consumptions   {c['consumption_rows']:,} rows; points by kind "
               + ", ".join(f"{k} {v:,}" for k, v in c["points_by_kind"].items()))
    # The ratio (share of the gross that cancels out) stays in GraphQL for machines; here the
    # netting line says it in words, since a bare "netting ratio 0" read as a fault.
    click.echo(f"gross          {money(n['gross_obligations_minor'])}; payments bilateral "
               f"{n['bilateral_payments']} -> netted {n['netted_payments']}")
    click.echo("netting        " + netting.explain(
        n["bilateral_payments"], n["netted_payments"], int(n["gross_obligations_minor"]),
        int(n["netted_value_minor"]), money))
    for issue in c["discrepancies"]:
        click.echo(f"DISCREPANCY    {issue}")
    payments = {p.party_id: p for p in db.read(records.for_run, run.id)}
    rows, attention = [], []
    for party_id in [p.party_id for p in db.read(store.load_positions, run.id)]:
        st = db.read(build_statement, run, party_id, run.computed_at)
        pay = payments.get(party_id)
        # The statement's status also names a flag; here the ATTENTION line below does.
        status = f"{pay.status} ({pay.method})" if pay else st.payment_status
        if pay and pay.error_message:
            status += f": {pay.error_message[:60]}"
        if pay and pay.error_code in records.NEEDS_STAFF:  # money moved, not as planned
            attention.append(f"ATTENTION      {st.party.code} {pay.error_code}: "
                             f"{pay.error_message} ({records.NEEDS_STAFF[pay.error_code]})")
        rows.append([st.party.code, st.party.kind, money(st.receivable_minor),
                     money(-st.payable_minor), money(st.net_minor), status])
    click.echo(_table(rows, ["party", "kind", "receivable", "payable", "net", "payment"]))
    for line in attention:
        click.echo(line)


@click.group("settle", cls=HubGroup)
def settle() -> None:
    """Monthly settlement: preview, close, pay, statements."""


def _run_with_progress(action: Callable[..., runs.Outcome], period: str,
                       replica: bool = False) -> runs.Outcome:
    """`replica`: compute on POINTSNET_READ_DATABASE_URL's standby while it is fresh enough
    (a month's aggregation then leaves the primary alone); the run is written on the primary."""
    Period.parse(period)  # a bad period is one error line, with no progress line before it
    settings, db = _env()
    labels = ["aggregating consumptions", "clearing and netting", "reconciling with the ledger",
              "saving"]
    extra: dict[str, Any] = {}
    if replica and settings.read_database_url:
        extra["reads"] = ReadDatabase(db, settings.read_database_url,
                                      max_lag=settings.read_max_lag_seconds)
    with _steps(f"{action.__name__} {period}", len(labels)) as bar:
        outcome = action(db, settings, period, progress=lambda step: bar.update(1, step),
                         **extra)
        bar.update(len(labels))
    print_summary(db, outcome.run)
    return outcome


@settle.command("preview")
@PERIOD
@_guard
def preview_cmd(period: str) -> None:
    """Compute the period as a draft (recomputable); on a closed period, verify its hash."""
    outcome = _run_with_progress(runs.preview, period, replica=True)
    if outcome.verified is not None:
        click.echo("closed run verified: the ledger still gives the same hash" if outcome.verified
                   else "WARNING: recomputation differs from the closed run's hash")
        if not outcome.verified:
            sys.exit(EXIT_CHECK_FAILED)


@settle.command("close")
@PERIOD
@_guard
def close_cmd(period: str) -> None:
    """Freeze the period. Closing a closed period does nothing."""
    outcome = _run_with_progress(runs.close, period)
    click.echo("closed now" if outcome.changed else "already closed; nothing changed")


@settle.command("pay")
@PERIOD
@click.option("--dry-run", is_flag=True,
              help="Print the whole payment plan and every party's blockers; send nothing. "
              "Exit 1 when a party is blocked.")
@click.option("--check-stripe", is_flag=True,
              help="With --dry-run: also ask Stripe (read only) whether each linked account "
              "can receive transfers and each customer exists.")
@_guard
def pay_cmd(period: str, dry_run: bool, check_stripe: bool) -> None:
    """Pay out and collect the net positions through Stripe (re-runnable)."""
    from settlement.payouts.gateway import StripeConfig, StripeGateway
    from settlement.payouts.pay import pay

    settings, db = _env()
    if check_stripe and not dry_run:
        raise SettlementError("CHECK_NEEDS_DRY_RUN", "--check-stripe goes with --dry-run "
                              "(pay itself meets each refusal as it pays)", field="check-stripe")
    config = StripeConfig.from_extra(settings.extra)
    gateway = StripeGateway(config) if config.api_key and not dry_run else None
    if dry_run:
        report = pay(db, None, period, dry_run=True)
        if check_stripe:
            from settlement.payouts.readiness import check_at_stripe

            report.planned = check_at_stripe(gateway_from_settings(), report.planned)
        _print_plan(report, checked=check_stripe)
        return
    planned = runs.require_run(db, period)
    with click.progressbar(length=max(1, len(db.read(store.load_positions, planned.id))),
                           label=f"paying {period}", file=sys.stderr) as bar:
        report = pay(db, gateway, period, progress=lambda _item: bar.update(1))
    codes = {item.party_id: item.code for item in report.planned}
    for party_id, note in report.notes.items():
        click.echo(f"{codes.get(party_id, f'party {party_id}')}: {note}", err=True)
    print_summary(db, report.run)


def _print_plan(report: PayReport, checked: bool) -> None:
    """The dry run: every payment `pay` would make, then every blocker, party by party."""
    run, blocked = report.run, report.blocked
    checks = "ids checked at Stripe" if checked else "ids not checked at Stripe"
    click.echo(f"payment plan {run.period}  run #{run.id}  status {run.status}  "
               f"({len(report.planned)} payments, {len(blocked)} blocked; {checks}; "
               "nothing sent)")
    rows = [[p.code, p.kind, p.direction, p.amount,
             (p.stripe_account_id if p.direction == "pay_out" else p.stripe_customer_id)
             or "MISSING", "BLOCKED" if p.blockers else "ready"] for p in report.planned]
    click.echo(_table(rows, ["party", "kind", "direction", "amount", "stripe", "state"]))
    for item in blocked:
        for blocker in item.blockers:
            click.echo(f"BLOCKED  {item.code} {blocker}")
    if any(not p.stripe_account_id if p.direction == "pay_out" else not p.stripe_customer_id
           for p in blocked):
        click.echo("pay would refuse (MISSING_STRIPE_ACCOUNT) until every party is linked")
    elif blocked:
        click.echo(f"pay would fail the payments of these {len(blocked)} parties")
    if blocked:
        sys.exit(1)


def gateway_from_settings() -> Any:
    from settlement.payouts.gateway import StripeConfig, StripeGateway

    config = StripeConfig.from_extra(get_settings().extra)
    if not config.api_key:
        raise SettlementError("NO_STRIPE", "Stripe is not configured: set "
                              "POINTSNET_STRIPE_API_KEY (sk_test_… for test mode)")
    return StripeGateway(config)


PARTY = click.option("--party", "code", required=True, metavar="CODE",
                     help="The party's code (pointsnet settle parties lists them).")


@settle.command("parties")
def parties_cmd() -> None:
    """List the parties settlement pays or charges, with their Stripe ids."""
    from settlement.payouts.links import all_links

    _, db = _env()
    rows = [[p.code, p.kind, p.stripe_account_id or "-", p.stripe_customer_id or "-"]
            for p in db.read(all_links)]
    click.echo(_table(rows, ["party", "kind", "connected account", "customer"]))


@settle.command("link")
@PARTY
@click.option("--account", "account_id", metavar="acct_…",
              help="Stripe connected account the party is paid to.")
@click.option("--customer", "customer_id", metavar="cus_…",
              help="Stripe customer the party is invoiced or charged as.")
@_guard
def link_cmd(code: str, account_id: str | None, customer_id: str | None) -> None:
    """Link a party to Stripe ids that already exist (replaces what was linked)."""
    from settlement.payouts.links import link

    _, db = _env()
    party = db.write(link, code, account_id=account_id, customer_id=customer_id)
    click.echo(f"{party.code}: connected account {party.stripe_account_id or '-'}, "
               f"customer {party.stripe_customer_id or '-'}")


@settle.command("create-customer")
@PARTY
@click.option("--email", help="Where Stripe sends the party's invoices.")
@_guard
def create_customer_cmd(code: str, email: str | None) -> None:
    """Create the party's Stripe customer and link it."""
    from settlement.payouts.links import create_customer

    _, db = _env()
    party = create_customer(db, gateway_from_settings(), code, email)
    click.echo(f"{party.code}: created and linked Stripe customer {party.stripe_customer_id}")


@settle.command("onboard")
@PARTY
@click.option("--return-url", required=True,
              help="Where Stripe sends the party after onboarding.")
@click.option("--refresh-url", required=True,
              help="Where Stripe sends the party when the link expired or was used; it should "
              "ask for a new link (run this command again).")
@click.option("--email", help="The party's email, prefilled in onboarding.")
@_guard
def onboard_cmd(code: str, return_url: str, refresh_url: str, email: str | None) -> None:
    """Print a Stripe Connect onboarding link for the party (an Account Link), creating and
    linking its Express connected account first if it has none."""
    from settlement.payouts.links import onboard

    _, db = _env()
    result = onboard(db, gateway_from_settings(), code, return_url=return_url,
                     refresh_url=refresh_url, email=email)
    what = "created and linked" if result.created_account else "linked"
    click.echo(f"{result.party.code}: {what} connected account {result.party.stripe_account_id}")
    click.echo(f"onboarding link (single use, expires {result.expires_at:%Y-%m-%d %H:%M} UTC; "
               "send it to the party):")
    click.echo(result.url)


@click.command("stripe-standin")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=12111, show_default=True, type=int, help="TCP port.")
@click.option("--webhook-url", help="Deliver events, signed, to this endpoint (e.g. "
              "http://127.0.0.1:8000/stripe/webhook).")
@click.option("--webhook-secret", default="whsec_standin", show_default=True,
              help="Secret the events are signed with (the hub's "
              "POINTSNET_STRIPE_WEBHOOK_SECRET).")
def stripe_standin(host: str, port: int, webhook_url: str | None, webhook_secret: str) -> None:
    """Run a LOCAL STAND-IN for Stripe's API (not Stripe: no money moves) for offline demos."""
    import time

    from settlement.payouts.local_stripe import StripeConnectServer, deliver_events

    with StripeConnectServer(host=host, port=port) as server:
        click.echo(f"Stripe stand-in on {server.url}: a LOCAL STAND-IN, NOT STRIPE. Nothing "
                   "leaves this machine and no money moves; state is lost when it stops.")
        click.echo(f"  export POINTSNET_STRIPE_API_KEY=sk_test_standin "
                   f"POINTSNET_STRIPE_API_BASE={server.url}")
        if webhook_url:
            click.echo(f"  events go to {webhook_url}, signed with {webhook_secret}")
        click.echo("Ctrl-C stops it.")
        sent = shown = 0
        try:
            while True:
                time.sleep(0.5)
                with server.lock:
                    events = server.state.events[shown:]
                for event in events:  # what Stripe would show in its dashboard or email
                    click.echo(_standin_line(event))
                shown += len(events)
                if webhook_url:
                    sent = deliver_events(server, webhook_url, webhook_secret, sent)
        except KeyboardInterrupt:
            pass


def _standin_line(event: dict[str, Any]) -> str:
    obj = event["data"]["object"]
    line = f"{event['type']:<20} {obj['id']}"
    if "amount" in obj or "amount_due" in obj:
        amount = obj.get("amount", obj.get("amount_due", 0))
        line += f"  {Money(int(amount), str(obj.get('currency', 'eur')).upper()).format()}"
    if event["type"] == "invoice.sent":  # Stripe would email this link to the customer
        line += f"  the customer pays it at {obj['hosted_invoice_url']}"
    return line


@settle.command("statements")
@PERIOD
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("statements"),
              show_default=True, help="Folder to write into (a subfolder per period).")
@_guard
def statements_cmd(period: str, out_dir: Path) -> None:
    """Write signed CSV and HTML statements for every party of a closed run."""
    from settlement.statements.export import write_statements

    settings, db = _env()
    run = runs.require_run(db, period)
    if run.is_open:  # a signed statement is the hub's word; a draft's figures may still change
        raise SettlementError("PERIOD_NOT_CLOSED", f"{run.period} is still a draft; statements "
                              f"are signed for closed periods: pointsnet settle close --period "
                              f"{run.period}", field="period")
    count = len(db.read(store.load_positions, run.id))
    with click.progressbar(length=max(1, count), label="statements", file=sys.stderr) as bar:
        written = write_statements(db, settings, run, out_dir, progress=lambda _c: bar.update(1))
    click.echo(f"wrote statements for {count} parties ({len(written)} files, each with a "
               f".sig) to {out_dir / run.period} (public key: hub-statement-key.pem, see "
               "VERIFY.txt)")


@settle.command("verify-statement")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--signature", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Detached signature (default: FILE.sig).")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Hub statement public key PEM (default: this hub's own key).")
@_guard
def verify_statement_cmd(file: Path, signature: Path | None, public_key: Path | None) -> None:
    """Check statement FILE's detached Ed25519 signature; exit 1 if it does not match."""
    sig_path = signature or Path(f"{file}.sig")
    if not sig_path.is_file():
        raise SettlementError("NO_SIGNATURE", f"no signature file {sig_path}; pass "
                              "--signature FILE.sig", field="signature")
    sig = sig_path.read_bytes()
    pem = public_key.read_bytes() if public_key else signing.public_pem(
        signing.statement_key(get_settings()))
    if signing.verify(pem, file.read_bytes(), sig):
        click.echo(f"OK: {file} is signed by the hub's statement key")
    else:
        click.echo(f"BAD SIGNATURE: {file} was changed or not signed by this key", err=True)
        sys.exit(EXIT_CHECK_FAILED)


@settle.command("public-key")
def public_key_cmd() -> None:
    """Print the hub's statement public key (PEM) for parties to verify statements with."""
    click.echo(signing.public_pem(signing.statement_key(get_settings())).decode(), nl=False)


@click.group("staff", cls=HubGroup)
def staff() -> None:
    """Finance staff bearer tokens for the settlement API."""


@staff.command("create")
@click.option("--name", required=True, help="Who the token is for.")
@click.option("--role", "roles", multiple=True, default=["finance"], show_default=True,
              type=click.Choice(sorted(staff_tokens.ROLES)),
              help="What the token may do; repeat the option for several roles.")
@_guard
def staff_create(name: str, roles: tuple[str, ...]) -> None:
    """Create a token; it is printed once and only its hash is kept."""
    _, db = _env()
    token_id, token = staff_tokens.create(db, name, set(roles))
    click.echo(f"staff token #{token_id} for {name} ({', '.join(sorted(roles))}):\n{token}")


@staff.command("revoke")
@click.argument("token_id", type=int)
def staff_revoke(token_id: int) -> None:
    """Revoke staff token TOKEN_ID (the number `staff create` printed) at once."""
    _, db = _env()
    if not staff_tokens.revoke(db, token_id):
        raise CommandError("NO_TOKEN", f"no active staff token #{token_id}")
    click.echo(f"staff token #{token_id} revoked")
