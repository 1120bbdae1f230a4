"""A partner API key remembers the key it was rotated to, so it is rotated at most once.

Revision ID: 0006_partner_key_successor
Revises: 0003_partners_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_partner_key_successor"
down_revision = "0003_partners_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a foreign key to an existing table, so Alembic rebuilds it
    # there; PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table("partner_api_keys") as batch:
        batch.add_column(sa.Column("rotated_to", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            op.f("fk_partner_api_keys_rotated_to_partner_api_keys"), "partner_api_keys",
            ["rotated_to"], ["key_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("partner_api_keys") as batch:
        batch.drop_constraint(
            op.f("fk_partner_api_keys_rotated_to_partner_api_keys"), type_="foreignkey"
        )
        batch.drop_column("rotated_to")
