"""A campaign's budget in 16 slots (network/programme/budgets.py): `campaign_budget_slots` takes
the place of `campaigns.spent_points`, so concurrent earns of one campaign lock different rows.

Existing campaigns keep what they spent, in slot 0, and their budget is shared out as the code
shares it (each slot what it spent plus an even share of what is left, the remainder to the
first slots), so the caps sum to the budget. Downgrade sums the slots back into the column.

Revision ID: 0033_budget_slots
Revises: 0032_consumption_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_budget_slots"
down_revision = "0032_consumption_indexes"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SLOTS = 16  # budgets.SLOTS when this migration was written


def upgrade() -> None:
    op.create_table(
        "campaign_budget_slots",
        sa.Column("campaign_id", BigId, nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cap", sa.BigInteger()),
        sa.CheckConstraint("spent >= 0", name="ck_campaign_budget_slots_spent_nonnegative"),
        sa.CheckConstraint("cap IS NULL OR spent <= cap",
                           name="ck_campaign_budget_slots_spent_within_cap"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_campaign_budget_slots_campaign_id_campaigns"),
        sa.PrimaryKeyConstraint("campaign_id", "slot", name="pk_campaign_budget_slots"),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, budget_points, spent_points FROM campaigns")).all()
    slots = []
    for campaign_id, budget, spent in rows:
        if budget is None:
            caps = [None] * SLOTS
        else:
            share, extra = divmod(budget - spent, SLOTS)
            caps = [share + (1 if i < extra else 0) for i in range(SLOTS)]
            caps[0] += spent
        slots += [{"campaign_id": campaign_id, "slot": i, "spent": spent if i == 0 else 0,
                   "cap": cap} for i, cap in enumerate(caps)]
    if slots:
        conn.execute(sa.text("INSERT INTO campaign_budget_slots (campaign_id, slot, spent, cap) "
                             "VALUES (:campaign_id, :slot, :spent, :cap)"), slots)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint("ck_campaigns_spent_within_budget", type_="check")
        batch.drop_constraint("ck_campaigns_spent_nonnegative", type_="check")
        batch.drop_column("spent_points")


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("spent_points", sa.BigInteger(), nullable=False,
                                   server_default="0"))
    op.execute("UPDATE campaigns SET spent_points = (SELECT COALESCE(SUM(s.spent), 0) "
               "FROM campaign_budget_slots AS s WHERE s.campaign_id = campaigns.id)")
    with op.batch_alter_table("campaigns") as batch:
        batch.create_check_constraint("ck_campaigns_spent_nonnegative", "spent_points >= 0")
        batch.create_check_constraint("ck_campaigns_spent_within_budget",
                                      "budget_points IS NULL OR spent_points <= budget_points")
    op.drop_table("campaign_budget_slots")
