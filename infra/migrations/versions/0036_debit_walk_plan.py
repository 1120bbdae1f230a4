"""The debit's FIFO walk keeps to the ordered index once `lots` has statistics (issue 21 target 4).

`ledger_debit` (0034_debit_function) walks a member's open lots with a cursor over the ordered
partial index ix_lots_member_open (member_id, expires_at, id WHERE remaining > 0), fetching
one lot at a time and stopping at the lot that covers the amount. Once ANALYZE has run on
`lots` (autovacuum does it after the first few thousand earns), the planner costs that ordered
scan above reading every one of the member's lots through ix_lots_member and sorting them:
a cursor is planned for all its rows, and the sort looks cheap for the forty or so rows it
expects. So every redemption read and sorted all of the member's lots: with 200 open lots, 36
buffers for the walk where the ordered scan reads 5, about a tenth of the function's backend CPU
(measured alternately, each function on its own copy of one database).

With sorting off for the function's own statements, the ordered scan is the one plan that gives
the walk's order. None of the function's other statements sorts. The setting is the function's
(`ALTER FUNCTION … SET`): PostgreSQL sets it on entry and restores it on exit, so a purchase
that calls the function inside its transaction (pg_buy) plans its other statements as before.

Revision ID: 0036_debit_walk_plan
Revises: 0035_reward_buy_function
"""

from alembic import op

revision = "0036_debit_walk_plan"
down_revision = "0035_reward_buy_function"
branch_labels = None
depends_on = None

SIGNATURE = ("ledger_debit(bigint, text, text, text, text, text, text, bigint, text, bigint, "
             "bigint, text, timestamptz, text, bigint, bigint, boolean)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {SIGNATURE} SET enable_sort = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {SIGNATURE} RESET enable_sort")
