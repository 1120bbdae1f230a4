"""Sign-in codes are keyed by a keyed hash of the address, and strangers' addresses get codes too
(member_id NULL, never sent), so that checking a code does not reveal who is a member.

Revision ID: 0007_signin_codes_by_address
Revises: 0005_wallet
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_signin_codes_by_address"
down_revision = "0005_wallet"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Existing codes cannot be carried over: a row now needs the keyed hash of the address the
    # code went to, which is not stored (only its channel) and needs the hub's secret key, and
    # the old code hashes are bound to the member id, which the new check no longer uses. Codes
    # live ten minutes, so dropping them costs a member mid-sign-in one "Send a new code"; the
    # closed and expired rows hold nothing anyone needs.
    op.execute(sa.text("DELETE FROM signin_codes"))
    # Batch mode: SQLite cannot change a column's nullability, so Alembic rebuilds the table
    # there; PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table("signin_codes") as batch:
        batch.drop_index("ix_signin_codes_member")
        batch.add_column(sa.Column("address_hash", sa.String(length=64), nullable=False))
        batch.alter_column("member_id", existing_type=BigId, nullable=True)
        batch.create_index("ix_signin_codes_address", ["address_hash", "id"])


def downgrade() -> None:
    # Strangers' rows have no member, and members' code hashes are bound to the address key,
    # which the older check does not compute: no row would work there, so none is kept.
    op.execute(sa.text("DELETE FROM signin_codes"))
    with op.batch_alter_table("signin_codes") as batch:
        batch.drop_index("ix_signin_codes_address")
        batch.alter_column("member_id", existing_type=BigId, nullable=False)
        batch.drop_column("address_hash")
        batch.create_index("ix_signin_codes_member", ["member_id", "created_at"])
