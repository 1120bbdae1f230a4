"""0038_award_keys on both databases, and back: a campaign award's keys to its campaign and its
funder are gone, and `ledger verify` names each fault they refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from network.ledger.verify import _run_checks
from tests.network import wallet_world as ww
from tests.network.test_migration_batch_write_set import _foreign_keys
from tests.network.test_migration_member_keys import _entry, _member
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0037_earn_keys"
AWARD_CAMPAIGN = ("campaign_id", "campaigns")
AWARD_FUNDER = ("funder_party_id", "parties")
AWARD_ENTRY = ("entry_id", "member_id", "journal_entries")  # kept: not a shared row

_AWARD = ("INSERT INTO campaign_awards (entry_id, campaign_id, tier_code, member_id, "
          "funder_party_id, points, booked_at) VALUES ")
# each fault one of the keys refused: the statement that makes it, the check that names it
FAULTS = {
    "award names an existing campaign": _AWARD + "(:e, :c + 1000, NULL, :m, :p, 10, :t)",
    "award names an existing funder": _AWARD + "(:e, :c, NULL, :m, :p + 1000, 10, :t)",
}
CHECKS = set(FAULTS)


def _world(conn: sa.Connection) -> dict[str, object]:
    """A member's entry with two sound awards, a campaign's and a tier effect's (no campaign)."""
    party = conn.execute(sa.text(
        "INSERT INTO parties (kind, code, name, created_at) VALUES ('partner', 'p', 'P', :t) "
        "RETURNING id"), {"t": ww.T0}).scalar_one()
    campaign = conn.execute(sa.text(
        "INSERT INTO campaigns (code, status, definition, owner_party_id, created_at, "
        "updated_at) VALUES ('c', 'active', '{}', :p, :t, :t) RETURNING id"),
        {"p": party, "t": ww.T0}).scalar_one()
    member = _member(conn, "1001")
    params = {"m": member, "e": _entry(conn, member), "p": party, "c": campaign, "t": ww.T0}
    conn.execute(sa.text(_AWARD + "(:e, :c, NULL, :m, :p, 10, :t), "
                                  "(:e, NULL, 'gold', :m, :p, 5, :t)"), params)
    return params


def _named_with(conn: sa.Connection, sql: str | None, params: dict[str, object]) -> set[str]:
    """The award checks verify names, with the fault `sql` made (rolled back after)."""
    try:
        if sql:
            conn.execute(sa.text(sql), params)
        return {v.check for v in _run_checks(conn)} & CHECKS
    finally:
        conn.rollback()


def test_the_keys_go_verify_names_their_faults_and_they_come_back(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        params = db.write(_world)
        assert {AWARD_CAMPAIGN, AWARD_FUNDER, AWARD_ENTRY} <= _foreign_keys(db, "campaign_awards")
        for sql in FAULTS.values():  # each refused by its key before
            with pytest.raises(sa.exc.IntegrityError):
                db.write(lambda c, sql=sql: c.execute(sa.text(sql), params))

        upgrade(empty_url, "heads")
        db.engine.dispose()
        with db.engine.connect() as conn:
            assert drift(conn) == []
        keys = _foreign_keys(db, "campaign_awards")
        assert keys & {AWARD_CAMPAIGN, AWARD_FUNDER} == set() and AWARD_ENTRY in keys
        with db.engine.connect() as conn:  # the sound awards, the tier's too, are not named
            assert _named_with(conn, None, params) == set()
        for check, sql in FAULTS.items():  # let by now, and named by verify (that one only)
            with db.engine.connect() as conn:
                assert _named_with(conn, sql, params) == {check}

        downgrade(empty_url, BEFORE)
        db.engine.dispose()  # SQLite: a pooled connection may still see the tables as they were
        assert {AWARD_CAMPAIGN, AWARD_FUNDER} <= _foreign_keys(db, "campaign_awards")
        with db.engine.connect() as conn:  # the awards survived the rebuilds both ways
            assert conn.execute(sa.text("SELECT count(*) FROM campaign_awards")).scalar_one() == 2
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()
