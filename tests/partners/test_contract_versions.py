"""A new contract version from a future day: the rule, and `pointsnet partners contract …`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network.clock import utcnow
from network.db.engine import Database
from network.ledger.errors import LedgerError
from partners import contracts
from partners.registry import create_partner, find_partner
from partners.terms import Terms, plan_version

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
BASE = Terms(earn_points_per_unit=Decimal("10"), pending_days=14)
LATER = Terms(earn_points_per_unit=Decimal("11"), pending_days=14)
HISTORY = [(NOW + timedelta(days=60), LATER), (NOW - timedelta(days=300), BASE)]  # latest first


def test_a_new_version_keeps_the_terms_in_force_then_except_what_changes() -> None:
    start = NOW + timedelta(days=30)
    assert plan_version(HISTORY, {"validity_months": 12}, effective_from=start, now=NOW) == Terms(
        earn_points_per_unit=Decimal("10"), pending_days=14, validity_months=12)
    # After the scheduled version, it is that version's terms that carry over.
    after = plan_version(HISTORY, {"network_fee_bps": 50}, effective_from=start
                         + timedelta(days=60), now=NOW)
    assert after.earn_points_per_unit == Decimal("11") and after.network_fee_bps == 50


@pytest.mark.parametrize(("start", "changes", "code", "field"), [
    (NOW, {"pending_days": 1}, "CONTRACT_START_IN_PAST", "from"),
    (NOW - timedelta(days=1), {"pending_days": 1}, "CONTRACT_START_IN_PAST", "from"),
    (NOW + timedelta(days=60), {"pending_days": 1}, "CONTRACT_VERSION_EXISTS", "from"),
    (NOW + timedelta(days=1), {"pending_days": 400}, "INVALID_INPUT", "pendingDays"),
    (NOW + timedelta(days=1), {"clearing_price_per_point": Decimal("-1")}, "INVALID_INPUT",
     "clearing_price_per_point"),
])
def test_a_version_that_would_rewrite_history_or_is_invalid_is_refused(
        start: datetime, changes: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(LedgerError) as info:
        plan_version(HISTORY, changes, effective_from=start, now=NOW)
    assert (info.value.code, info.value.field) == (code, field)


def test_a_partner_without_a_contract_gets_none() -> None:
    with pytest.raises(LedgerError) as info:
        plan_version([], {"pending_days": 1}, effective_from=NOW + timedelta(days=1), now=NOW)
    assert info.value.code == "NO_CONTRACT"


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    return CliRunner().invoke(main, list(args))


def test_partners_list_and_a_new_contract_version_from_the_command_line(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_TIMEZONE", "Asia/Tehran")
    db.write(lambda conn: create_partner(conn, code="cafe", name="Cafe", terms=BASE,
                                         now=utcnow()))
    next_year = utcnow().year + 1
    added = _cli(db, monkeypatch, "partners", "contract", "add", "cafe", "--from",
                 f"{next_year}-01-01", "--earn-rate", "12", "--network-fee-bps", "25")
    assert added.exit_code == 0, added.output
    start = datetime(next_year, 1, 1, tzinfo=UTC) - timedelta(hours=3, minutes=30)  # Tehran
    party = db.read(find_partner, "cafe")
    assert party is not None
    versions = db.read(contracts.versions, party.id)
    assert [(s, t.earn_points_per_unit, t.network_fee_bps, t.pending_days)
            for s, t in versions][0] == (start, Decimal("12"), 25, 14)
    assert len(versions) == 2
    # The earn rate in force now is still the old one; the new one from its day.
    assert db.read(contracts.in_force, party.id, utcnow()).earn_points_per_unit == Decimal("10")
    assert db.read(contracts.in_force, party.id, start).earn_points_per_unit == Decimal("12")

    listed = _cli(db, monkeypatch, "partners", "list")
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()
    # Starts are shown in the network's time zone, as typed.
    assert line.startswith("cafe") and "earn=10 " in line
    assert line.endswith(f"next={next_year}-01-01T00:00:00+03:30")
    versions_out = _cli(db, monkeypatch, "partners", "contract", "list", "cafe").output
    rows = versions_out.splitlines()
    assert rows[0].startswith(f"{next_year}-01-01T00:00:00+03:30  earn=12 ")
    assert rows[0].endswith("scheduled") and rows[1].endswith("in force")

    for args, code in (
        (["--from", "2020-01-01", "--earn-rate", "5"], "CONTRACT_START_IN_PAST"),
        (["--from", f"{next_year}-01-01", "--earn-rate", "5"], "CONTRACT_VERSION_EXISTS"),
        (["--from", f"{next_year}-02-01"], "NOTHING_TO_CHANGE"),
        (["--from", f"{next_year}-02-01", "--earn-rate", "0.0000001"], "BAD_VALUE"),
        (["--from", f"{next_year}-02-30", "--earn-rate", "5"], "BAD_VALUE"),
    ):
        refused = _cli(db, monkeypatch, "partners", "contract", "add", "cafe", *args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.startswith(f"pointsnet: error: {code}: "), refused.stderr
    assert len(db.read(contracts.versions, party.id)) == 2  # nothing written by a refusal
