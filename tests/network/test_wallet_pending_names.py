"""Pending points by partner name the partners from names the wallet already read in the same
snapshot (its per-partner sums), and read from `parties` only the names it was not given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from network.ledger.balances import Dated, WalletBalance
from network.wallet import parties_view, pending
from tests.support import ledger_world as w
from tests.support.statements import statements

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def _balance(*lots: Dated) -> WalletBalance:
    return WalletBalance(sum(d.points for d in lots), 0, sum(d.points for d in lots), 0, 0,
                         list(lots))


def test_known_names_cost_no_statement_and_unknown_ones_are_read(db):
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    names = db.read(parties_view.load, [cafe, shop])
    later = T0 + timedelta(days=14)
    balance = _balance(Dated(30, later, shop), Dated(50, T0, cafe), Dated(20, later, shop),
                       Dated(5, later, cafe))
    expected = [pending.PendingPoints(50, T0, names[cafe]),
                pending.PendingPoints(5, later, names[cafe]),
                pending.PendingPoints(50, later, names[shop])]
    with statements(db) as sent:
        assert db.read(pending.by_partner, balance, names.values()) == expected
    assert not [s for s in sent if "parties" in s]
    with statements(db) as sent:
        assert db.read(pending.by_partner, balance, [names[cafe]]) == expected
    assert len([s for s in sent if "parties" in s]) == 1
    assert db.read(pending.by_partner, balance) == expected
    assert db.read(pending.by_partner, _balance(), names.values()) == []
