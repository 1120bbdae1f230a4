"""Charities: created and edited by operators (`pointsnet charities …`), checked first."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network import parties
from network.db.engine import Database
from network.ledger.errors import LedgerError


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    return CliRunner().invoke(main, list(args))


def test_edit_changes_only_what_is_given(db: Database) -> None:
    db.write(lambda conn: parties.create(conn, kind="charity", code="mahak", name="Mahak",
                                         name_fa="محک"))
    edited = db.write(lambda conn: parties.edit(conn, "mahak", "charity",
                                                stripe_account_id="acct_1Mahak"))
    assert (edited.name, edited.name_fa, edited.stripe_account_id) == ("Mahak", "محک",
                                                                      "acct_1Mahak")
    cleared = db.write(lambda conn: parties.edit(conn, "mahak", "charity", name_fa="",
                                                 stripe_account_id=""))
    assert (cleared.name_fa, cleared.stripe_account_id) == (None, None)


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"name": "  "}, "INVALID_INPUT", "name"),
    ({"name": "x" * 201}, "INVALID_INPUT", "name"),
    ({"name_fa": "ن" * 201}, "INVALID_INPUT", "nameFa"),
    ({"stripe_account_id": "cus_123"}, "INVALID_INPUT", "stripeAccountId"),
])
def test_bad_details_are_refused_and_nothing_changes(db: Database, changes: dict[str, str],
                                                     code: str, field: str) -> None:
    db.write(lambda conn: parties.create(conn, kind="charity", code="mahak", name="Mahak"))
    with pytest.raises(LedgerError) as info:
        db.write(lambda conn: parties.edit(conn, "mahak", "charity", **changes))
    assert (info.value.code, info.value.field) == (code, field)
    (party,) = db.read(parties.list_parties, "charity")
    assert (party.name, party.name_fa, party.stripe_account_id) == ("Mahak", None, None)


def test_a_partner_is_not_edited_as_a_charity(db: Database) -> None:
    db.write(lambda conn: parties.create(conn, kind="partner", code="cafe", name="Cafe"))
    with pytest.raises(LedgerError) as info:
        db.write(lambda conn: parties.edit(conn, "cafe", "charity", name="Not a charity"))
    assert info.value.code == "CHARITY_NOT_FOUND"


def test_charities_from_the_command_line(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    created = _cli(db, monkeypatch, "charities", "create", "mahak", "--name", "Mahak",
                   "--name-fa", "محک", "--stripe-account", "acct_1Mahak")
    assert created.exit_code == 0, created.output
    assert created.output.startswith("created mahak  #")
    edited = _cli(db, monkeypatch, "charities", "edit", "mahak", "--name", "Mahak Charity")
    assert edited.exit_code == 0, edited.output
    listed = _cli(db, monkeypatch, "charities", "list").output.splitlines()
    assert len(listed) == 1 and "Mahak Charity  fa=محک  stripe=acct_1Mahak" in listed[0]
    for args, code in ((["create", "mahak", "--name", "Again"], "DUPLICATE_CODE"),
                       (["create", "red", "--name", "Red", "--stripe-account", "x"],
                        "INVALID_INPUT"),
                       (["edit", "mahak"], "BAD_USAGE")):
        refused = _cli(db, monkeypatch, "charities", *args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.startswith(f"pointsnet: error: {code}: "), refused.stderr
    assert len(db.read(parties.list_parties, "charity")) == 1
