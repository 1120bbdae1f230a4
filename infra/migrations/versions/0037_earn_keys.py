"""An earn's write set, smaller again (issue 21 targets 1-2): the three foreign-key checks an
earn still paid per line go, each a lookup and a row lock taken by a trigger after the
statement, every invariant still guarded (README: "What an earn writes").

- lots (entry_id, member_id) -> journal_entries: every writer inserts a lot in the statement
  or transaction that books its entry. `ledger verify` ("lot belongs to its entry's member")
  names a lot whose entry is missing or is another member's.
- lots (issuer_party_id) -> parties: it locked the issuer's row FOR KEY SHARE on every lot, so
  all of a partner's earns at once shared that one row's lock (as the entry's key to the party
  did for redemptions, dropped in 0031). Every writer checks the issuer before it books
  (`parties.require`, the one-statement earn's issuer check), no code deletes a party, and
  `ledger verify` ("lot names an existing issuer") names a lot whose issuer is missing.
- journal_entries (member_id) -> members: every writer books for a member whose balance row it
  locks or moves in the same transaction (member_balances keeps its key to members), no code
  deletes a member (erasure blanks the row), and `ledger verify` ("entry's member exists")
  names an entry whose member is missing.

Measured alone and together with infra/bench/batch_write_set.py (README, Benchmarks): about
one WAL record (a row lock) fewer per line for each key on an entry or lot row, and the three
together about a sixth of PostgreSQL's CPU per batch line.

Revision ID: 0037_earn_keys
Revises: 0036_debit_walk_plan
"""

from alembic import op

revision = "0037_earn_keys"
down_revision = "0036_debit_walk_plan"
branch_labels = None
depends_on = None

# name -> (table, columns, parent, parent columns)
KEYS = {
    "fk_lots_entry_id_journal_entries": ("lots", ["entry_id", "member_id"], "journal_entries",
                                         ["id", "member_id"]),
    "fk_lots_issuer_party_id_parties": ("lots", ["issuer_party_id"], "parties", ["id"]),
    "fk_journal_entries_member_id_members": ("journal_entries", ["member_id"], "members",
                                             ["id"]),
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
