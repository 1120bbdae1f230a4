"""Random sequences of ledger operations, on SQLite and PostgreSQL.

After every step: every invariant holds (`verify`), each member's balance matches a running
model kept here, success or refusal is what the pre-state predicts, and every debit's
consumption rows are exactly the FIFO walk (earliest expiry, then oldest) over the lots the test
read before the step, computed here independently of the ledger code.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from network import ledger
from network.db.schema import consumptions, hold_allocations, lots, member_balances
from network.db.schema import holds as holds_table
from network.ledger import errors
from network.ledger.verify import verify
from tests.support import ledger_world as w

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAR = datetime(9999, 1, 1, tzinfo=UTC)


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return FAR
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def spendable_now(db, member_id: int, now: datetime) -> list[tuple[int, int]]:
    """(lot id, remaining) in FIFO order, computed in Python from raw rows."""
    rows = db.read(lambda c: c.execute(select(lots.c.id, lots.c.remaining, lots.c.vests_at,
                                              lots.c.expires_at)
                                       .where(lots.c.member_id == member_id)).all())
    usable = [(r.id, r.remaining, _utc(r.expires_at)) for r in rows
              if r.remaining > 0 and _utc(r.vests_at) <= now and _utc(r.expires_at) > now]
    usable.sort(key=lambda r: (r[2], r[0]))
    return [(lot_id, left) for lot_id, left, _ in usable]


def fifo(available: list[tuple[int, int]], points: int) -> list[tuple[int, int]]:
    out, left = [], points
    for lot_id, n in available:
        if left == 0:
            break
        take = min(n, left)
        out.append((lot_id, take))
        left -= take
    return out


def rows_of(db, entry_id: int) -> list[tuple[int, int]]:
    return [tuple(r) for r in db.read(lambda c: c.execute(
        select(consumptions.c.lot_id, consumptions.c.points)
        .where(consumptions.c.entry_id == entry_id, consumptions.c.debt_lot_id.is_(None))
        .order_by(consumptions.c.id)).all())]


def make_machine(fresh_db):
    class LedgerMachine(RuleBasedStateMachine):
        earns = Bundle("earns")
        redemptions = Bundle("redemptions")
        holds = Bundle("holds")

        @initialize()
        def setup(self) -> None:
            self.db = fresh_db()
            self.partners = [w.partner(self.db, "alpha"), w.partner(self.db, "beta")]
            self.charity = w.charity(self.db, "gamma")
            self.members = [w.member(self.db), w.member(self.db)]
            self.now = T0
            self.balance = {m: 0 for m in self.members}  # balance + held, the model
            self.n = 0

        def key(self) -> str:
            self.n += 1
            return f"step-{self.n}"

        @rule(target=earns, member=st.integers(0, 1), partner=st.integers(0, 1),
              points=st.integers(1, 300), validity=st.integers(1, 60),
              pending=st.sampled_from([0, 0, 0, 3]))
        def earn(self, member, partner, points, validity, pending):
            m, p = self.members[member], self.partners[partner]
            r = ledger.earn(self.db, scope=f"partner:{p}", idempotency_key=self.key(),
                            issuer_id=p, member_id=m, points=points,
                            vests_at=self.now + timedelta(days=pending),
                            expires_at=self.now + timedelta(days=pending + validity), now=self.now)
            self.balance[m] += points
            return (p, r.entry_id, m, points)

        def _debit(self, member, points, call, taken=None):
            """Run a debit; check refusal or the exact FIFO rows it wrote (`taken` reads them)."""
            m = self.members[member]
            before = spendable_now(self.db, m, self.now)
            try:
                r = call(m)
            except errors.InsufficientPoints:
                assert sum(n for _, n in before) < points
                return None
            assert sum(n for _, n in before) >= points
            assert (taken or (lambda r: rows_of(self.db, r.entry_id)))(r) == fifo(before, points)
            return r

        @rule(target=redemptions, member=st.integers(0, 1), partner=st.integers(0, 1),
              points=st.integers(1, 400))
        def redeem(self, member, partner, points):
            p = self.partners[partner]
            r = self._debit(member, points, lambda m: ledger.redeem(
                self.db, scope=f"partner:{p}", idempotency_key=self.key(), partner_id=p,
                member_id=m, points=points, now=self.now))
            if r is None:
                return None
            self.balance[self.members[member]] -= points
            return (p, r.entry_id, points)

        @rule(member=st.integers(0, 1), points=st.integers(1, 200))
        def donate(self, member, points):
            r = self._debit(member, points, lambda m: ledger.donate(
                self.db, scope=f"member:{m}", idempotency_key=self.key(), member_id=m,
                charity_id=self.charity, points=points, now=self.now))
            if r is not None:
                self.balance[self.members[member]] -= points

        @rule(target=holds, member=st.integers(0, 1), partner=st.integers(0, 1),
              points=st.integers(1, 200))
        def hold(self, member, partner, points):
            p = self.partners[partner]
            r = self._debit(member, points, lambda m: ledger.authorize_hold(
                self.db, scope=f"partner:{p}", idempotency_key=self.key(), partner_id=p,
                member_id=m, points=points, now=self.now,
                expires_at=self.now + timedelta(days=2)), taken=self.allocated)
            return None if r is None else (p, r.hold_id, points, r.member_id)

        def allocated(self, receipt) -> list[tuple[int, int]]:
            return [tuple(r) for r in self.db.read(lambda c: c.execute(
                select(hold_allocations.c.lot_id, hold_allocations.c.points)
                .where(hold_allocations.c.hold_id == receipt.hold_id)
                .order_by(hold_allocations.c.id)).all())]

        @rule(target=redemptions, hold=holds, fraction=st.floats(0.01, 1.0))
        def capture(self, hold, fraction):
            if hold is None:
                return None
            p, hold_id, points, m = hold
            amount = max(1, int(points * fraction))
            allocated = self.db.read(lambda c: c.execute(
                select(hold_allocations.c.lot_id, hold_allocations.c.points, lots.c.expires_at)
                .join(lots, lots.c.id == hold_allocations.c.lot_id)
                .where(hold_allocations.c.hold_id == hold_id,
                       hold_allocations.c.points > 0)).all())
            order = sorted(allocated, key=lambda r: (_utc(r.expires_at), r.lot_id))
            try:
                r = ledger.capture_hold(self.db, scope=f"partner:{p}",
                                        idempotency_key=self.key(), partner_id=p,
                                        hold_id=hold_id, points=amount, now=self.now)
            except (errors.HoldNotActive, errors.HoldExpired):
                return None
            assert rows_of(self.db, r.entry_id) == fifo([(o.lot_id, o.points) for o in order],
                                                        amount)
            self.balance[m] -= amount
            return (p, r.entry_id, amount)

        @rule(hold=holds)
        def void(self, hold):
            if hold is None:
                return
            p, hold_id, _points, _m = hold
            try:
                ledger.void_hold(self.db, scope=f"partner:{p}", idempotency_key=self.key(),
                                 partner_id=p, hold_id=hold_id, now=self.now)
            except (errors.HoldNotActive, errors.HoldExpired):
                pass

        @rule(earn=earns, fraction=st.floats(0.01, 1.0))
        def reverse_earn(self, earn, fraction):
            p, entry_id, m, points = earn
            amount = max(1, int(points * fraction))
            try:
                ledger.reverse_earn(self.db, scope=f"partner:{p}", idempotency_key=self.key(),
                                    partner_id=p, entry_id=entry_id, points=amount, now=self.now)
            except (errors.AlreadyReversed, errors.ReversalExceedsOriginal):
                return
            self.balance[m] -= amount

        @rule(redemption=redemptions, fraction=st.floats(0.01, 1.0))
        def reverse_redemption(self, redemption, fraction):
            if redemption is None:
                return
            p, entry_id, points = redemption
            amount = max(1, int(points * fraction))
            try:
                r = ledger.reverse_redemption(self.db, scope=f"partner:{p}",
                                              idempotency_key=self.key(), partner_id=p,
                                              entry_id=entry_id, points=amount, now=self.now)
            except (errors.AlreadyReversed, errors.ReversalExceedsOriginal):
                return
            self.balance[r.member_id] += amount

        @rule(days=st.integers(1, 20))
        def time_passes_and_expiry_runs(self, days):
            self.now += timedelta(days=days)
            expected = {m: self.due_to_expire(m) for m in self.members}
            report = ledger.expire_due(self.db, now=self.now)
            assert report.points == sum(expected.values())
            for m, points in expected.items():
                self.balance[m] -= points

        def due_to_expire(self, member_id: int) -> int:
            """Points in lots past expiry, counting those an expired hold will give back first."""
            rows = self.db.read(lambda c: c.execute(
                select(lots.c.id, lots.c.remaining, lots.c.expires_at)
                .where(lots.c.member_id == member_id, lots.c.points > 0)).all())
            # Summed per lot: two expired holds may each give points back to the same lot.
            released: Counter[int] = Counter()
            for lot_id, points in self.db.read(lambda c: c.execute(
                    select(hold_allocations.c.lot_id, hold_allocations.c.points)
                    .join(holds_table, holds_table.c.id == hold_allocations.c.hold_id)
                    .where(hold_allocations.c.member_id == member_id,
                           holds_table.c.status == "authorized",
                           holds_table.c.expires_at <= self.now)).all()):
                released[lot_id] += points
            return sum(r.remaining + released.get(r.id, 0) for r in rows
                       if _utc(r.expires_at) <= self.now)

        @invariant()
        def ledger_is_sound(self):
            if not hasattr(self, "db"):
                return
            assert verify(self.db) == []
            for m, expected in self.balance.items():
                actual = self.db.read(lambda c, m=m: c.execute(
                    select(member_balances.c.balance + member_balances.c.held)
                    .where(member_balances.c.member_id == m)).scalar_one())
                assert actual == expected, (m, actual, expected)

    return LedgerMachine


def test_random_operation_sequences_keep_every_invariant(fresh_db):
    machine = make_machine(fresh_db)
    machine.TestCase.settings = settings(
        max_examples=20, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    machine.TestCase().runTest()
