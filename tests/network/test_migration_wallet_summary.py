"""0025_wallet_summary on both databases: its backfill builds the same sums the writers keep."""

from __future__ import annotations

from datetime import timedelta

from alembic.script import ScriptDirectory

from infra.migrate import alembic_config, downgrade, upgrade
from network import ledger
from network.db.engine import Database
from network.ledger.verify import verify
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401 (a fixture)
from tests.network.test_wallet_summary import T0, _recomputed, _stored
from tests.support import ledger_world as w

REVISION = "0025_wallet_summary"


def test_the_backfill_gives_what_the_writers_wrote(empty_url):  # noqa: F811
    upgrade(empty_url)
    db = Database(empty_url)
    try:
        cafe, kids, ann = w.partner(db, "cafe"), w.charity(db, "kids"), w.member(db)
        first = ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=cafe,
                            member_id=ann, points=300, now=T0)
        ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=cafe, member_id=ann,
                    points=40, now=T0 + timedelta(days=1))
        ledger.donate(db, scope="p", idempotency_key=w.key(), member_id=ann, charity_id=kids,
                      points=25, now=T0 + timedelta(days=2))
        ledger.reverse_earn(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                            entry_id=first.entry_id, points=50, now=T0 + timedelta(days=2))
        written = _stored(db)
        assert written == _recomputed(db) and written[0]
        before = ScriptDirectory.from_config(alembic_config(empty_url)) \
            .get_revision(REVISION).down_revision
        db.dispose()
        downgrade(empty_url, before)  # type: ignore[arg-type]
        upgrade(empty_url)
        assert _stored(db) == written
        assert verify(db) == []
    finally:
        db.dispose()
