"""/console/accounts over HTTP on PostgreSQL: an operator creates staff and partner users (the
one-time password and authenticator key shown once, and they sign in with them), changes a
role, disables and enables, resets a lost password and code (the old ones stop working, the
sessions end); nobody disables or demotes themselves or the last operator; each change is one
audit entry; every other role gets 403 on every page and action."""

from __future__ import annotations

import re

import pytest

from network import audit, parties
from network.backoffice import accounts
from network.db.engine import Database
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock, browser
from tests.network.backoffice.test_cli import _cli


@pytest.fixture
def cafe(pg_db: Database) -> int:
    return pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe"))


def _once(page: str) -> tuple[str, str]:
    password = re.search(r'data-testid="acc-once-password">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    key = re.search(r'data-testid="acc-once-key">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    return password, key


def test_an_operator_creates_accounts_that_sign_in_with_what_is_shown_once(
        pg_db: Database, app, clock: Clock, cafe: int) -> None:  # type: ignore[no-untyped-def]
    op = browser(app, bw.person(pg_db, "operator"), clock)
    listed = op.get("/console/accounts")
    assert listed.status_code == 200 and "operator@example.com" in listed.text
    made = op.post("/console/accounts", {"login": "Till@Cafe.test", "name": "Till",
                                         "role": "cashier", "partner": "cafe"})
    assert made.status_code == 201 and 'data-testid="acc-once-qr"' in made.text
    assert "<svg" in made.text
    password, key = _once(made.text)
    found = pg_db.read(accounts.by_login, "till@cafe.test")
    assert found is not None and (found.kind, found.role, found.partner_id) == (
        "partner_user", "cashier", cafe)
    # The page answered once; the list never shows the secrets again.
    assert password not in op.get("/console/accounts").text
    till = bw.signed_in(app, bw.Person(found.id, "till@cafe.test", key, password), clock,
                        "/partner/signin")
    assert till.get("/partner/till").status_code == 200
    logged = pg_db.read(lambda c: audit.entries(c, action="backoffice.account_added"))
    assert [(e.actor_kind, e.subject, e.after) for e in logged] == [
        ("staff", f"account:{found.id}", {"kind": "partner_user", "role": "cashier",
                                          "partner_id": cafe})]


@pytest.mark.parametrize(("form", "code"), [
    ({"login": "not-an-email", "name": "X", "role": "support"}, "BAD_LOGIN"),
    ({"login": "operator@example.com", "name": "X", "role": "support"}, "LOGIN_TAKEN"),
    ({"login": "x@example.com", "name": "X", "role": "cashier"}, "PARTNER_NOT_FOUND"),
    ({"login": "x@example.com", "name": "X", "role": "cashier", "partner": "nope"},
     "PARTNER_NOT_FOUND"),
    ({"login": "x@example.com", "name": "", "role": "support"}, "BAD_NAME"),
    ({"login": "x@example.com", "name": "X", "role": "king"}, "BAD_ROLE"),
    ({"login": "x@example.com", "name": "X", "role": "support", "partner": "cafe"},
     "BAD_KIND"),
])
def test_a_refused_account_says_why_and_writes_nothing(
        pg_db: Database, app, clock: Clock, cafe: int, form: dict, code: str) -> None:  # type: ignore[no-untyped-def]
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/accounts")
    refused = op.post("/console/accounts", form)
    assert refused.status_code == 400 and f'data-code="{code}"' in refused.text
    assert len(pg_db.read(accounts.listing)) == 1
    assert pg_db.read(lambda c: audit.entries(c, action="backoffice.account_added")) == []


def test_roles_change_accounts_disable_and_enable_each_audited(
        pg_db: Database, app, clock: Clock, cafe: int) -> None:  # type: ignore[no-untyped-def]
    me = bw.person(pg_db, "operator")
    ana = bw.person(pg_db, "support", "ana@example.com")
    op = browser(app, me, clock)
    ana_browser = browser(app, ana, clock)
    op.get("/console/accounts")
    assert op.post(f"/console/accounts/{ana.id}/role", {"role": "viewer"}).status_code == 303
    assert pg_db.read(accounts.get, ana.id).role == "viewer"
    # A partner role for a staff account is refused.
    wrong = op.post(f"/console/accounts/{ana.id}/role", {"role": "cashier"})
    assert wrong.status_code == 409 and 'data-code="BAD_ROLE"' in wrong.text
    assert ana_browser.get("/console/members").status_code == 200  # a viewer reads members
    assert op.post(f"/console/accounts/{ana.id}/disable").status_code == 303
    assert ana_browser.get("/console/members").status_code == 303  # signed out at once
    assert op.post(f"/console/accounts/{ana.id}/enable").status_code == 303
    assert pg_db.read(accounts.get, ana.id).disabled_at is None
    logged = pg_db.read(lambda c: audit.entries(c, subject=f"account:{ana.id}"))
    assert sorted((e.action, str(e.before), str(e.after)) for e in logged) == sorted([
        ("backoffice.role_changed", "{'role': 'support'}", "{'role': 'viewer'}"),
        ("backoffice.account_disabled", "{'state': 'active'}", "{'state': 'disabled'}"),
        ("backoffice.account_enabled", "{'state': 'disabled'}", "{'state': 'active'}")])
    assert all(e.actor_id == str(me.id) for e in logged)


def test_nobody_disables_or_demotes_themselves_or_the_last_operator(
        pg_db: Database, app, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    me = bw.person(pg_db, "operator")
    op = browser(app, me, clock)
    op.get("/console/accounts")
    for url, data in ((f"/console/accounts/{me.id}/disable", {}),
                      (f"/console/accounts/{me.id}/role", {"role": "viewer"})):
        refused = op.post(url, data)
        assert refused.status_code == 409 and 'data-code="NOT_YOURSELF"' in refused.text
    # Another operator, disabled: I am the last enabled one; the CLI's path (no actor) is
    # refused for me too.
    olga = bw.person(pg_db, "operator", "olga@example.com")
    assert op.post(f"/console/accounts/{olga.id}/disable").status_code == 303
    with pytest.raises(Exception, match="last enabled operator"):
        pg_db.write(lambda c: accounts.set_enabled(c, me.id, False, clock.now, actor_id=None))
    with pytest.raises(Exception, match="last enabled operator"):
        pg_db.write(lambda c: accounts.set_role(c, me.id, "support", actor_id=None))
    assert pg_db.read(accounts.get, me.id).role == "operator"
    assert pg_db.read(lambda c: audit.entries(c, subject=f"account:{me.id}")) == []


def test_a_reset_shows_new_secrets_once_and_the_old_ones_stop(
        pg_db: Database, app, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    ana = bw.person(pg_db, "support", "ana@example.com")
    op = browser(app, bw.person(pg_db, "operator"), clock)
    ana_browser = browser(app, ana, clock)
    op.get("/console/accounts")
    reset = op.post(f"/console/accounts/{ana.id}/reset")
    assert reset.status_code == 200
    password, key = _once(reset.text)
    assert ana_browser.get("/console/members").status_code == 303  # her session ended
    old = bw.Client(bw.TestClient(app, base_url="http://hub.test"))
    assert old.sign_in(ana, clock.now).status_code != 303  # the old password and code
    clock.now += bw.dt.timedelta(seconds=30)
    bw.signed_in(app, bw.Person(ana.id, ana.login, key, password), clock)
    logged = pg_db.read(lambda c: audit.entries(c, action="backoffice.account_reset"))
    assert [e.subject for e in logged] == [f"account:{ana.id}"]
    assert password not in str(logged[0].after) and key not in str(logged[0].after)


@pytest.mark.parametrize("role", ["support", "finance", "viewer"])
def test_only_operators_manage_accounts(pg_db: Database, app, clock: Clock, cafe: int,  # type: ignore[no-untyped-def]
                                        role: str) -> None:
    other = bw.person(pg_db, "operator", "olga@example.com")
    them = browser(app, bw.person(pg_db, role), clock)
    them.get("/console/members")
    assert them.get("/console/accounts").status_code == 403
    for url in ("/console/accounts", f"/console/accounts/{other.id}/role",
                f"/console/accounts/{other.id}/disable", f"/console/accounts/{other.id}/reset"):
        assert them.post(url, {"role": "viewer", "login": "x@example.com", "name": "X"}
                         ).status_code == 403, url
    cashier = bw.signed_in(app, bw.person(pg_db, "cashier", "c@cafe.test", partner_id=cafe),
                           clock, "/partner/signin")
    assert cashier.get("/console/accounts").status_code == 403
    assert cashier.post(f"/console/accounts/{other.id}/disable").status_code == 403
    assert pg_db.read(accounts.get, other.id).disabled_at is None
    assert 'nav-nav_accounts' not in them.get("/console/members").text


def test_the_cli_changes_roles_and_enables_through_the_same_guard(
        pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    olga = bw.person(pg_db, "operator", "olga@example.com")
    ana = bw.person(pg_db, "support", "ana@example.com")
    last = _cli(pg_db, monkeypatch, "backoffice", "users", "role", str(olga.id), "viewer")
    assert last.exit_code == 2 and "LAST_OPERATOR" in last.output
    assert _cli(pg_db, monkeypatch, "backoffice", "users", "role", str(ana.id),
                "operator").exit_code == 0
    assert _cli(pg_db, monkeypatch, "backoffice", "users", "disable",
                str(olga.id)).exit_code == 0
    kept = _cli(pg_db, monkeypatch, "backoffice", "users", "disable", str(ana.id))
    assert kept.exit_code == 2 and "LAST_OPERATOR" in kept.output
    assert _cli(pg_db, monkeypatch, "backoffice", "users", "enable", str(olga.id)).exit_code == 0
    assert pg_db.read(accounts.get, olga.id).disabled_at is None
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c))] == [
        "backoffice.role_changed", "backoffice.account_disabled", "backoffice.account_enabled"]
