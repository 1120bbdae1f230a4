"""Two index entries fewer per consumption (issue 21 target 4): ix_consumptions_entry and
ix_consumptions_lot go.

- ix_consumptions_lot served only the foreign key to lots that 0031_debit_write_set dropped (no
  query looks consumptions up by lot; `ledger verify` sums them per lot in one scan).
- ix_consumptions_entry: the one lookup by entry, a redemption's reversal, knows the entry's
  member and reads through ix_consumptions_member (member_id, entry_id) instead.

Revision ID: 0032_consumption_indexes
Revises: 0031_debit_write_set
"""

from alembic import op

revision = "0032_consumption_indexes"
down_revision = "0031_debit_write_set"
branch_labels = None
depends_on = None

INDEXES = {"ix_consumptions_entry": ["entry_id"], "ix_consumptions_lot": ["lot_id"]}


def upgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="consumptions")


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "consumptions", columns)
