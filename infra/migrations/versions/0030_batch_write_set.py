"""The earn's write set, smaller (issue 21): two foreign-key checks, two index entries and (for
a balance update) a key entry and a logged row lock fewer per earn, every invariant still guarded (README: "What an earn writes").

- lots (member_id) -> members goes: lots (entry_id, member_id) -> journal_entries (id, member_id)
  and journal_entries (member_id) -> members already force a lot's member to exist.
- postings (entry_id, member_id) -> journal_entries goes: every writer inserts an entry and its
  postings in one statement or transaction, and the check cost a lookup and a row lock on the
  entry per posting. `ledger verify` ("posting belongs to its entry's member") now also names a
  posting whose entry is missing.
- ix_journal_entries_reverses and ix_postings_party become partial (NOT NULL): an earn's entry
  reverses nothing and its wallet posting has no party, and no query looks those NULLs up.
- member_balances gets fillfactor 70, so a balance update stays on its page (HOT): no new
  primary-key entry and no row lock logged to move the row. Pages written from now on leave the
  room; existing full pages gain it as updates move rows off them (a VACUUM FULL would rewrite
  them at once, but locks the table: an operator's choice, not a migration's).

Revision ID: 0030_batch_write_set
Revises: 0024_member_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_batch_write_set"
down_revision = "0026_tier_ladder"  # after 0024, whose keys it drops
branch_labels = None
depends_on = None

LOTS_MEMBER = "fk_lots_member_id_members"
POSTINGS_ENTRY = "fk_postings_entry_id_journal_entries"
# index -> (table, columns, the column that is NULL for an earn's row)
PARTIAL = {"ix_journal_entries_reverses": ("journal_entries", ["reverses_entry_id"],
                                           "reverses_entry_id"),
           "ix_postings_party": ("postings", ["party_id", "account_kind"], "party_id")}


def _indexes(partial: bool) -> None:
    for name, (table, columns, column) in PARTIAL.items():
        where = sa.text(f"{column} IS NOT NULL") if partial else None
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    # SQLite rebuilds each table to drop a key (batch mode); PostgreSQL drops it in place.
    with op.batch_alter_table("lots") as batch:
        batch.drop_constraint(LOTS_MEMBER, type_="foreignkey")
    with op.batch_alter_table("postings") as batch:
        batch.drop_constraint(POSTINGS_ENTRY, type_="foreignkey")
    _indexes(partial=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE member_balances SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE member_balances RESET (fillfactor)")
    _indexes(partial=False)
    with op.batch_alter_table("postings") as batch:
        batch.create_foreign_key(POSTINGS_ENTRY, "journal_entries", ["entry_id", "member_id"],
                                 ["id", "member_id"])
    with op.batch_alter_table("lots") as batch:
        batch.create_foreign_key(LOTS_MEMBER, "members", ["member_id"], ["id"])
