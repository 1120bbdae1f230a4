"""`pointsnet`: the command line for operators, finance staff and partners' developers.

Every command reports errors and exits by one rule (network/cli_errors.py), and checks every
POINTSNET_* setting before it starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from network.cli_errors import EXIT_CHECK_FAILED, HubGroup, fail, from_config_error
from network.config import ConfigError, Settings, get_settings, redact
from network.db.engine import Database, open_database

if TYPE_CHECKING:
    from network.jobs.runner import RunResult


def _db() -> Database:
    return open_database(get_settings().database_url)


def check_settings() -> None:
    """Every POINTSNET_* and POINTSNET_NOTIFY_* value, before any command does anything: a typo
    in a variable a command does not read today still stops it, one line per bad value."""
    from network.notifications.config import NotificationSettings

    problems: list[str] = []
    for read in (Settings.from_env, NotificationSettings.from_env):
        try:
            read()
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise from_config_error(ConfigError(*problems))


class _Hub(HubGroup):
    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        # A subcommand's --help is parsed only after this point; help needs no settings, and an
        # operator fixing them may well want to read it.
        rest = {*getattr(ctx, "_protected_args", ()), *ctx.args}  # what the group has not parsed
        if not set(ctx.help_option_names) & rest:
            check_settings()
        return super().invoke(ctx)


@click.group(cls=_Hub)
def main() -> None:
    """The points network hub. Errors: `pointsnet: error: CODE: message` on stderr, exit 2;
    exit 1 when a check finds a problem."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True,
              help="Alembic revision to upgrade to; `heads` applies every migration.")
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to POINTSNET_DATABASE_URL (a new SQLite file is created)."""
    from infra.migrate import upgrade

    url = get_settings().database_url
    open_database(url, create=True).dispose()  # one line, not a traceback, if it cannot open
    upgrade(url, revision)
    click.echo(f"database at {redact(url)} is at revision {revision}")


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
        sys.exit(EXIT_CHECK_FAILED)
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
@click.option("--worker/--no-worker", "with_worker", default=False,
              help="Also run the periodic jobs (`pointsnet worker`) in a thread of this process; "
              "in production run `pointsnet worker` as processes of their own instead.")
@click.option("--graceful-seconds", default=30, show_default=True, type=click.IntRange(min=1),
              help="On SIGTERM, how long in-flight requests may take to finish.")
def serve(host: str, port: int, with_demo: bool, workers: int, with_worker: bool,
          graceful_seconds: int) -> None:
    """Run the hub with uvicorn (JSON logs on stderr; /metrics, /healthz, /readyz)."""
    import uvicorn

    settings = get_settings()
    if with_demo:
        from infra.demo import build_demo, print_demo

        database = _prepare_database()
        summary = build_demo(database, settings)
        print_demo(database, summary, base_url=f"http://{host}:{port}")
    else:  # refused here, in one line, rather than at the first request
        database = open_database(settings.database_url)
    metrics_dir = _metrics_dir()  # before anything imports prometheus_client
    from infra.logging_setup import configure_logging

    configure_logging()
    stop_worker = _background_worker(database, settings) if with_worker else None
    if stop_worker is None:
        database.dispose()
    click.echo(f"points network hub on http://{host}:{port}/graphql "
               f"(database {redact(settings.database_url)})")
    # uvicorn in one process re-raises the SIGTERM it shut down on, once it has restored the
    # handler it found: make that handler an ordinary exit, so the `finally` below cleans up.
    previous_sigterm = signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        # log_config=None: uvicorn leaves logging to infra/logging_setup.py (JSON lines; the
        # hub's own access line, without query strings). On SIGTERM uvicorn stops accepting,
        # lets in-flight requests finish (at most --graceful-seconds) and exits.
        uvicorn.run("infra.asgi:app", host=host, port=port, workers=workers,
                    log_config=None, access_log=False,
                    timeout_graceful_shutdown=graceful_seconds)
    finally:
        if stop_worker is not None:
            stop_worker(30.0)  # a job still running after that is rolled back: safe
            database.dispose()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        signal.signal(signal.SIGTERM, previous_sigterm)


def _exit_quietly(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _metrics_dir() -> str | None:
    """prometheus-client's multiprocess mode: every worker writes its counters under one
    directory and /metrics sums them. Made here (fresh, so no dead run's counts are summed)
    unless PROMETHEUS_MULTIPROC_DIR is already set, and then left for its owner to clean."""
    import tempfile

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="pointsnet-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path  # inherited by uvicorn's worker processes
    return path


def _background_worker(database: Database, settings: Settings) -> Callable[[float], None]:
    """`serve --worker`: the jobs in a thread; returns the function that stops it."""
    from infra.worker import all_jobs, make_runner, start_in_background
    from network.notifications.config import NotificationSettings

    def report(result: RunResult) -> None:
        # Only runs that did something or failed: an idle drain every 10 s is not news.
        if result.outcome == "failed" or any((result.counts or {}).values()):
            click.echo(f"worker: {result.line()}", err=True)

    jobs = all_jobs(NotificationSettings.from_env())
    click.echo(f"worker: running {', '.join(job.name for job in jobs)} in the background",
               err=True)
    return start_in_background(make_runner(database, jobs, settings, on_result=report))


@main.command("worker")
@click.option("--once", is_flag=True,
              help="Run every job that is due now once, then exit (for cron, and for tests).")
@click.option("--jobs", "job_names", metavar="NAME,NAME",
              help="Only these jobs (comma-separated); `--list` shows them.")
@click.option("--list", "list_jobs", is_flag=True, help="List the jobs and their schedules.")
@click.option("--status", "show_status", is_flag=True,
              help="Show each job's last run, last slot done and who holds it now, then exit.")
@click.option("--lease-seconds", default=60, show_default=True, type=click.IntRange(2, 3600),
              help="How long a job's lease lasts unless renewed: the longest a job whose worker "
              "died waits before another worker runs it.")
def worker(once: bool, job_names: str | None, list_jobs: bool, show_status: bool,
           lease_seconds: int) -> None:
    """Run the periodic jobs (expiry, the notification outbox...) on their schedules, in
    POINTSNET_TIMEZONE. Any number may run: each slot of each job runs in one of them.
    With --once, exit 1 if a job failed."""
    from datetime import timedelta

    from infra.worker import all_jobs, make_runner, run_worker, select_jobs
    from network.notifications.config import NotificationSettings

    settings = get_settings()
    jobs = select_jobs(all_jobs(NotificationSettings.from_env()), job_names)
    if list_jobs:
        for job in jobs:
            click.echo(f"{job.name:<16} {job.schedule.describe():<22} {job.description}")
        return
    database = open_database(settings.database_url)
    if show_status:
        from infra.worker import status_lines

        try:
            for line in status_lines(database, jobs, settings):
                click.echo(line)
        finally:
            database.dispose()
        return
    runner = make_runner(database, jobs, settings, lease=timedelta(seconds=lease_seconds),
                         on_result=lambda result: click.echo(f"worker: {result.line()}"))
    click.echo(f"worker {runner.worker}: {', '.join(job.name for job in jobs)}"
               f"{' (once)' if once else ''}", err=True)
    try:
        results = run_worker(runner, once=once)
    finally:
        database.dispose()
    if once and not results:
        click.echo("worker: nothing due")
    if any(result.outcome == "failed" for result in results):
        sys.exit(EXIT_CHECK_FAILED)  # cron reports it; the failure is in the run history too


@main.group()
def schema() -> None:
    """The GraphQL contract."""


@schema.command("export")
@click.option("--out", type=click.Path(path_type=Path), default=Path("graphql/schema.graphql"),
              show_default=True, help="File to write the SDL to.")
def schema_export(out: Path) -> None:
    """Write the schema's SDL (a test fails when graphql/schema.graphql drifts from the code)."""
    from infra.schema import sdl

    try:
        out.write_text(sdl())
    except OSError as exc:
        fail("CANNOT_WRITE", f"--out {out}: {exc.strerror}")
    click.echo(f"wrote {out}")


@schema.command("codes")
@click.argument("group", type=click.Choice(["partner", "member", "staff"]))
def schema_codes(group: str) -> None:
    """Print the README's table of GROUP's mutations (partner, member or staff) and their
    error codes (a test fails when the README's table differs)."""
    from infra.schema import error_codes_table, mutation_groups

    click.echo(error_codes_table(mutation_groups()[group]), nl=False)


def _prepare_database() -> Database:
    from infra.migrate import upgrade

    url = get_settings().database_url
    database = open_database(url, create=True)
    upgrade(url)
    return database


from network.audit_cli import audit_group as _audit  # noqa: E402
from network.backoffice.cli import backoffice_group as _backoffice  # noqa: E402
from network.charities_cli import charities as _charities  # noqa: E402
from network.members_cli import members_group as _members  # noqa: E402
from network.notifications.cli import messages_group as _messages  # noqa: E402
from network.notifications.cli import notifications as _notifications  # noqa: E402
from network.programme.campaigns_cli import campaigns_group as _campaigns  # noqa: E402
from network.programme.cli import events_group as _events  # noqa: E402
from network.programme.cli import programme_group as _programme  # noqa: E402
from network.programme.lottery_cli import lottery_group as _lottery  # noqa: E402
from network.programme.segments_cli import segments_group as _segments  # noqa: E402

main.add_command(_notifications)
main.add_command(_messages)
main.add_command(_charities)
main.add_command(_members)
main.add_command(_segments)
main.add_command(_programme)
main.add_command(_events)
main.add_command(_campaigns)
main.add_command(_audit)
main.add_command(_lottery)
main.add_command(_backoffice)

def _register_packages() -> None:
    from partners.campaigns_cli import COMMANDS as campaign_commands
    from partners.cli import partners_group, signature_group
    from settlement.cli import settle, staff, stripe_standin

    main.add_command(partners_group)
    for command in campaign_commands:
        _campaigns.add_command(command)
    main.add_command(signature_group)

    main.add_command(settle)
    main.add_command(staff)
    main.add_command(stripe_standin)


_register_packages()

if __name__ == "__main__":
    main()
