"""`pointsnet`: the command line for operators, finance staff and partners' developers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from network.config import ConfigError, get_settings
from network.db.engine import Database


def _db() -> Database:
    return Database(get_settings().database_url)


class _Hub(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ConfigError as exc:  # its message names the variable; a traceback adds nothing
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Hub)
def main() -> None:
    """The points network hub."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to POINTSNET_DATABASE_URL."""
    from infra.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    click.echo(f"database at {_redacted(url)} is at revision {revision}")


@main.group()
def ledger() -> None:
    """Ledger checks and maintenance."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Check every ledger invariant; exit 1 naming each violation."""
    from network.ledger.verify import CHECKS, verify

    violations = verify(_db())
    for violation in violations:
        click.echo(f"VIOLATION {violation}", err=True)
    if violations:
        sys.exit(1)
    click.echo(f"ledger ok: {len(CHECKS)} invariants hold")


@ledger.command("expire")
def ledger_expire() -> None:
    """Expire lots whose time has come and holds nobody captured (run it from cron)."""
    from network.ledger import expire_due

    report = expire_due(_db())
    click.echo(f"expired {report.points} points in {report.lots} lots and {report.holds} holds "
               f"for {report.members} members")


@main.command("demo")
@click.option("--stripe-links", is_flag=True,
              help="Also link every demo party to the Stripe in POINTSNET_STRIPE_API_KEY/"
              "_API_BASE (test mode or `pointsnet stripe-standin`) so `settle pay` can run.")
def demo(stripe_links: bool) -> None:
    """Create a demo network (partners, charities, members, history) and print its balances."""
    from infra.demo import build_demo, print_demo

    database = _prepare_database()
    print_demo(database, build_demo(database, get_settings()))
    if stripe_links:
        from infra.demo import link_demo_to_stripe
        from settlement.cli import _guard

        _guard(link_demo_to_stripe)(database)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 for every interface.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port to listen on.")
@click.option("--demo/--no-demo", "with_demo", default=False,
              help="Migrate and fill an empty database with the demo network first.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Server processes; in production, one per CPU core.")
def serve(host: str, port: int, with_demo: bool, workers: int) -> None:
    """Run the hub with uvicorn."""
    import uvicorn

    from network.notifications.config import NotificationSettings

    settings = get_settings()
    NotificationSettings.from_env()  # refused here, in one line, not at a member's first sign-in
    if with_demo:
        from infra.demo import build_demo, print_demo

        database = _prepare_database()
        summary = build_demo(database, settings)
        print_demo(database, summary, base_url=f"http://{host}:{port}")
    click.echo(f"points network hub on http://{host}:{port}/graphql "
               f"(database {_redacted(settings.database_url)})")
    uvicorn.run("infra.asgi:app", host=host, port=port, workers=workers,
                log_level="info", access_log=False)


@main.group()
def schema() -> None:
    """The GraphQL contract."""


@schema.command("export")
@click.option("--out", type=click.Path(path_type=Path), default=Path("graphql/schema.graphql"),
              show_default=True)
def schema_export(out: Path) -> None:
    """Write the schema's SDL (a test fails when graphql/schema.graphql drifts from the code)."""
    from infra.schema import sdl

    out.write_text(sdl())
    click.echo(f"wrote {out}")


def _prepare_database() -> Database:
    from infra.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    return Database(url)


def _redacted(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://…@{rest.split('@', 1)[1]}"


from network.notifications.cli import notifications as _notifications  # noqa: E402

main.add_command(_notifications)

def _register_packages() -> None:
    from partners.cli import partners_group, signature_group
    from settlement.cli import settle, staff, stripe_standin

    main.add_command(partners_group)
    main.add_command(signature_group)

    main.add_command(settle)
    main.add_command(staff)
    main.add_command(stripe_standin)


_register_packages()

if __name__ == "__main__":
    main()
