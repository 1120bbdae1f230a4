"""A redemption's write set, smaller (issue 21 target 4): three foreign-key checks fewer per
debit, each a lookup and a row lock taken by a trigger after the statement, every invariant
still guarded (README: "What a redemption writes").

- journal_entries (party_id) -> parties goes. It locked the partner's (or charity's) row FOR KEY
  SHARE on every entry naming it: all of a partner's redemptions at once lock that one row, so
  each lock after the first makes a new multixact and logs it. Every writer checks the party
  before it books (`parties.require`; the one-statement debit's and earn's `sink_found` and
  issuer checks), no code deletes a party, and `ledger verify` ("entry names an existing
  party") names an entry whose party is missing.
- consumptions (entry_id, member_id) -> journal_entries and (lot_id, member_id) -> lots go:
  every writer inserts a consumption in the statement or transaction that books its entry and
  takes its lot. `ledger verify` ("consumption belongs to its entry's and lot's member") names
  a consumption whose entry or lot is missing or belongs to another member; the amounts stay
  checked per entry and per lot ("entry consumptions equal points spent", "positive lot
  conserved").

Revision ID: 0031_debit_write_set
Revises: 0030_batch_write_set
"""

from alembic import op

revision = "0031_debit_write_set"
down_revision = "0030_batch_write_set"
branch_labels = None
depends_on = None

# name -> (table, columns, parent, parent columns)
KEYS = {
    "fk_journal_entries_party_id_parties": ("journal_entries", ["party_id"], "parties", ["id"]),
    "fk_consumptions_entry_id_journal_entries": ("consumptions", ["entry_id", "member_id"],
                                                 "journal_entries", ["id", "member_id"]),
    "fk_consumptions_lot_id_lots": ("consumptions", ["lot_id", "member_id"], "lots",
                                    ["id", "member_id"]),
}


def upgrade() -> None:
    # SQLite rebuilds each table to drop a key (batch mode); PostgreSQL drops it in place.
    for name, (table, *_rest) in KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for name, (table, columns, parent, parent_columns) in KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(name, parent, columns, parent_columns)
