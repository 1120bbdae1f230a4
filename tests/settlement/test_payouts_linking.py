"""Linking parties to Stripe and the dry run's plan, through the `pointsnet` CLI (CliRunner) on
PostgreSQL, with the local Stripe stand-in (settlement/payouts/local_stripe.py) on its own, as
the offline demo runs it (no localstripe behind it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from infra.cli import main
from network.config import get_settings
from network.db.engine import Database
from network.db.schema import parties
from network.parties import network_party_id
from settlement.payouts.local_stripe import StripeConnectServer
from tests.settlement import scenario as S
from tests.settlement.world import World, build
from tests.support.ledger_world import row_counts

# October's nets (test_payouts.py): the cafe owes 87.94, the others are owed.
BLOCKERS = {
    "cafe": "cafe owes 87.94 EUR but has no Stripe customer",
    "telecom": "telecom is owed 6.89 EUR but has no Stripe connected account",
    "pharmacy": "pharmacy is owed 1.43 EUR but has no Stripe connected account",
    "kids-charity": "kids-charity is owed 59.56 EUR but has no Stripe connected account",
}


@pytest.fixture
def standin() -> Iterator[StripeConnectServer]:
    with StripeConnectServer() as server:
        yield server


@pytest.fixture
def cli(pg_db: Database, standin: StripeConnectServer,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", pg_db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "linking-test-secret")
    monkeypatch.setenv("POINTSNET_STRIPE_API_KEY", "sk_test_linking")
    monkeypatch.setenv("POINTSNET_STRIPE_API_BASE", standin.url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def world(pg_db: Database) -> World:
    return build(pg_db, pg_db.read(network_party_id), reversal=False)


def stripe_ids(db: Database) -> dict[str, tuple[str | None, str | None]]:
    rows = db.read(lambda c: c.execute(select(parties.c.code, parties.c.stripe_account_id,
                                              parties.c.stripe_customer_id)).all())
    return {code: (account, customer) for code, account, customer in rows}


def settle(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, ["settle", *args])


def refused(out: Result, code: str) -> bool:
    """Exit 2 with the settle error line naming `code` (`error CODE: …`, or the shared
    `pointsnet: error: CODE: …` format)."""
    return out.exit_code == 2 and re.search(rf"^(pointsnet: )?error:? {code}: ", out.output,
                                             re.MULTILINE) is not None


def test_dry_run_lists_every_blocked_party_with_its_blocker(cli: CliRunner, world: World,
                                                            standin: StripeConnectServer) -> None:
    assert settle(cli, "close", "--period", "2026-10").exit_code == 0
    before = row_counts(world.db)
    out = settle(cli, "pay", "--period", "2026-10", "--dry-run")
    assert out.exit_code == 1, out.output
    blocked = [line for line in out.output.splitlines() if line.startswith("BLOCKED")]
    assert len(blocked) == 4
    for code, blocker in BLOCKERS.items():
        assert any(line.startswith(f"BLOCKED  {blocker}: pointsnet settle") for line in blocked), \
            code
    assert "(4 payments, 4 blocked; ids not checked at Stripe; nothing sent)" in out.output
    assert row_counts(world.db) == before and standin.state.requests == []


def test_dry_run_after_linking_some_lists_only_the_rest(cli: CliRunner, world: World,
                                                        standin: StripeConnectServer) -> None:
    settle(cli, "close", "--period", "2026-10")
    assert settle(cli, "link", "--party", "cafe", "--customer", "cus_Cafe1").exit_code == 0
    assert settle(cli, "link", "--party", "telecom", "--account", "acct_Tel1").exit_code == 0
    out = settle(cli, "pay", "--period", "2026-10", "--dry-run")
    assert out.exit_code == 1
    blocked = [line for line in out.output.splitlines() if line.startswith("BLOCKED")]
    assert [line.split()[1] for line in blocked] == ["pharmacy", "kids-charity"]
    cafe_row = next(line for line in out.output.splitlines() if line.startswith("cafe"))
    assert cafe_row.split() == ["cafe", "partner", "collect", "87.94", "EUR", "cus_Cafe1",
                                "ready"]
    # Paying for real is refused the same way, and sends nothing.
    paid = settle(cli, "pay", "--period", "2026-10")
    assert refused(paid, "MISSING_STRIPE_ACCOUNT")
    assert "2 of 4 parties are blocked" in paid.output and standin.state.requests == []


@pytest.mark.parametrize(("args", "code"), [
    (["--party", "nobody", "--account", "acct_1"], "UNKNOWN_PARTY"),
    (["--party", "telecom", "--account", "acct_"], "BAD_STRIPE_ACCOUNT_ID"),
    (["--party", "telecom", "--account", "cus_123"], "BAD_STRIPE_ACCOUNT_ID"),
    (["--party", "cafe", "--customer", "cus_12 3"], "BAD_STRIPE_CUSTOMER_ID"),
    # a good account with a bad customer: the account is not linked either
    (["--party", "cafe", "--account", "acct_Good1", "--customer", "acct_1"],
     "BAD_STRIPE_CUSTOMER_ID"),
    (["--party", "network", "--customer", "cus_1"], "NOT_SETTLED_PARTY"),
    (["--party", "cafe"], "NOTHING_TO_LINK"),
    (["--party", "pharmacy", "--account", "acct_Taken1"], "STRIPE_ID_IN_USE"),
])
def test_link_refuses_bad_input_and_writes_nothing(cli: CliRunner, world: World, args: list[str],
                                                   code: str) -> None:
    assert settle(cli, "link", "--party", "telecom", "--account", "acct_Taken1").exit_code == 0
    before = stripe_ids(world.db)
    out = settle(cli, "link", *args)
    assert refused(out, code), out.output
    assert stripe_ids(world.db) == before


def test_link_and_list_parties(cli: CliRunner, world: World) -> None:
    out = settle(cli, "link", "--party", "cafe", "--account", " acct_1Nv0FGQ9RKHgCVdK ",
                 "--customer", "cus_NffrFeUfNV2Hib")
    assert out.exit_code == 0, out.output
    assert stripe_ids(world.db)["cafe"] == ("acct_1Nv0FGQ9RKHgCVdK", "cus_NffrFeUfNV2Hib")
    listed = settle(cli, "parties").output
    assert "network" not in listed  # the hub is never paid or charged
    cafe_row = next(line for line in listed.splitlines() if line.startswith("cafe"))
    assert cafe_row.split() == ["cafe", "partner", "acct_1Nv0FGQ9RKHgCVdK", "cus_NffrFeUfNV2Hib"]


def test_onboarding_link_creates_the_account_and_onboards_it_once(
        cli: CliRunner, world: World, standin: StripeConnectServer) -> None:
    urls = ["--return-url", "https://hub.example/done", "--refresh-url",
            "https://hub.example/again"]
    out = settle(cli, "onboard", "--party", "kids-charity", *urls)
    assert out.exit_code == 0, out.output
    account_id = stripe_ids(world.db)["kids-charity"][0]
    assert account_id and f"created and linked connected account {account_id}" in out.output
    (account,) = standin.objects("account")
    assert account["id"] == account_id and account["type"] == "express"
    assert account["metadata"]["pointsnet_party_code"] == "kids-charity"
    assert account["tos_acceptance"] == {"service_agreement": "recipient"}
    assert account["capabilities"] == {"transfers": "inactive"}
    link = out.output.strip().splitlines()[-1]
    first = httpx.get(link)
    assert (first.status_code, first.headers["location"]) == (302, "https://hub.example/done")
    assert account["capabilities"] == {"transfers": "active"} and account["payouts_enabled"]
    again = httpx.get(link)  # single use, as Stripe's: the refresh URL asks for a new one
    assert (again.status_code, again.headers["location"]) == (302, "https://hub.example/again")
    second = settle(cli, "onboard", "--party", "kids-charity", *urls)
    assert f"linked connected account {account_id}" in second.output
    assert "created" not in second.output and len(standin.objects("account")) == 1


def test_onboarding_refuses_a_bad_url_before_calling_stripe(
        cli: CliRunner, world: World, standin: StripeConnectServer) -> None:
    out = settle(cli, "onboard", "--party", "telecom", "--return-url", "hub.example/done",
                 "--refresh-url", "https://hub.example/again")
    assert refused(out, "BAD_URL") and "returnUrl must be an http(s) URL" in out.output
    assert standin.state.requests == [] and stripe_ids(world.db)["telecom"] == (None, None)


def test_create_customer_links_it_once(cli: CliRunner, world: World,
                                       standin: StripeConnectServer) -> None:
    out = settle(cli, "create-customer", "--party", "cafe", "--email", "finance@cafe.example")
    assert out.exit_code == 0, out.output
    (customer,) = standin.objects("customer")
    assert stripe_ids(world.db)["cafe"] == (None, customer["id"])
    assert customer["email"] == "finance@cafe.example"
    assert customer["metadata"]["pointsnet_party_id"] == str(world.party(S.A))
    again = settle(cli, "create-customer", "--party", "cafe")
    assert refused(again, "ALREADY_LINKED")
    assert len(standin.objects("customer")) == 1


def test_stripe_commands_without_a_key_say_which_variable(
        cli: CliRunner, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POINTSNET_STRIPE_API_KEY")
    get_settings.cache_clear()
    out = settle(cli, "create-customer", "--party", "cafe")
    assert refused(out, "NO_STRIPE")
    assert "POINTSNET_STRIPE_API_KEY" in out.output


def test_last_month_is_the_month_before_this_one(cli: CliRunner, world: World) -> None:
    """The alias resolves in the network's time zone (UTC here) to the month before today's;
    no run exists for it in this world, so `pay` names the month it looked for."""
    first_of_month = datetime.now(UTC).date().replace(day=1)
    expected = (first_of_month - timedelta(days=1)).strftime("%Y-%m")
    out = settle(cli, "pay", "--period", "last-month", "--dry-run")
    assert refused(out, "PERIOD_NOT_CLOSED")
    assert f"settle close --period {expected}" in out.output


def test_dry_run_check_stripe_lists_what_stripe_would_refuse(
        cli: CliRunner, world: World, standin: StripeConnectServer) -> None:
    """Linked, yet not payable: an account that never finished onboarding, an id Stripe does
    not know. Only --check-stripe asks Stripe (GET requests only)."""
    settle(cli, "close", "--period", "2026-10")
    urls = ["--return-url", "https://hub.example/ok", "--refresh-url", "https://hub.example/x"]
    for code in ("telecom", "pharmacy"):
        out = settle(cli, "onboard", "--party", code, *urls)
        if code == "pharmacy":  # the pharmacy finishes onboarding, the telecom does not
            httpx.get(out.output.strip().splitlines()[-1])
    standin_customer = settle(cli, "create-customer", "--party", "cafe")
    assert standin_customer.exit_code == 0
    assert settle(cli, "link", "--party", "kids-charity", "--account", "acct_Unknown1").exit_code \
        == 0
    unchecked = settle(cli, "pay", "--period", "2026-10", "--dry-run")
    assert unchecked.exit_code == 0 and "BLOCKED" not in unchecked.output, unchecked.output
    posts = standin.posts("/v1/")
    checked = settle(cli, "pay", "--period", "2026-10", "--dry-run", "--check-stripe")
    assert checked.exit_code == 1, checked.output
    blocked = {line.split()[1]: line for line in checked.output.splitlines()
               if line.startswith("BLOCKED")}
    assert set(blocked) == {"telecom", "kids-charity"}
    assert "telecom is owed 6.89 EUR but its connected account" in blocked["telecom"]
    assert "transfers capability inactive" in blocked["telecom"]
    assert "acct_Unknown1, which Stripe refuses" in blocked["kids-charity"]
    assert "resource_missing" in blocked["kids-charity"]
    assert "pay would fail the payments of these 2 parties" in checked.output
    assert standin.posts("/v1/") == posts and standin.objects("transfer") == []
    not_dry = settle(cli, "pay", "--period", "2026-10", "--check-stripe")
    assert refused(not_dry, "CHECK_NEEDS_DRY_RUN")


def test_pay_names_a_party_it_could_not_start_by_its_code(
        cli: CliRunner, world: World, standin: StripeConnectServer) -> None:
    settle(cli, "close", "--period", "2026-10")
    for code in ("telecom", "pharmacy", "kids-charity"):
        settle(cli, "link", "--party", code, "--account", standin.create_account())
    assert settle(cli, "create-customer", "--party", "cafe").exit_code == 0
    # Stripe cannot say whether the cafe has a card on file, on every retry.
    standin.fail_next("GET", "/v1/customers", remaining=4)
    out = settle(cli, "pay", "--period", "2026-10")
    assert out.exit_code == 0, out.output
    assert "cafe: not started, Stripe unreachable" in out.output
    assert len(standin.objects("transfer")) == 3 and standin.objects("invoice") == []


def test_linking_works_on_sqlite_too(sqlite_db: Database) -> None:
    """The same rules on the development database: a refusal leaves both ids unchanged."""
    from settlement.errors import SettlementError
    from settlement.payouts.links import link

    build(sqlite_db, sqlite_db.read(network_party_id), reversal=False)
    with pytest.raises(SettlementError) as err:
        sqlite_db.write(link, "cafe", account_id="acct_Ok1", customer_id="cus_")
    assert (err.value.code, err.value.field) == ("BAD_STRIPE_CUSTOMER_ID", "stripeCustomerId")
    assert stripe_ids(sqlite_db)["cafe"] == (None, None)
    linked = sqlite_db.write(link, "cafe", account_id="acct_Ok1", customer_id="cus_Ok1")
    assert (linked.stripe_account_id, linked.stripe_customer_id) == ("acct_Ok1", "cus_Ok1")
    assert stripe_ids(sqlite_db)["cafe"] == ("acct_Ok1", "cus_Ok1")
