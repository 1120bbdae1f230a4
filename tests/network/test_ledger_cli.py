"""`pointsnet ledger verify` run as a real process: exit 0 when sound, 1 naming each violation."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import insert

from network import ledger
from network.clock import utcnow
from network.db.schema import journal_entries, postings
from tests.support import ledger_world as w


def pointsnet(db, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POINTSNET_DATABASE_URL": db.url}
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_verify_passes_then_names_a_broken_invariant(db):
    cafe = w.partner(db, "cafe")
    m = w.member(db)
    ledger.earn(db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=m, points=10)
    ok = pointsnet(db, "ledger", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "invariants hold" in ok.stdout

    def corrupt(conn):  # an unbalanced entry, as a bug (or a hand edit) would leave it
        entry = conn.execute(insert(journal_entries).values(
            kind="earn", member_id=m, party_id=cafe, points=5, booked_at=utcnow())
            .returning(journal_entries.c.id)).scalar_one()
        conn.execute(insert(postings).values(entry_id=entry, account_kind="member_wallet",
                                             member_id=m, points=5))
    db.write(corrupt)
    bad = pointsnet(db, "ledger", "verify")
    assert bad.returncode == 1
    assert "entry postings sum to zero" in bad.stderr
    assert "member balance equals wallet postings" in bad.stderr


def test_expire_command_reports_what_it_did(db):
    cafe = w.partner(db, "cafe")
    m = w.member(db)
    now = utcnow()
    from datetime import timedelta
    ledger.earn(db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=m, points=10,
                vests_at=now - timedelta(days=3), expires_at=now - timedelta(days=1),
                now=now - timedelta(days=3))
    out = pointsnet(db, "ledger", "expire")
    assert out.returncode == 0, out.stderr
    assert "expired 10 points in 1 lots" in out.stdout
