"""Partner API keys (Ed25519 public keys with scopes) and the signature nonce store.

Revision ID: 0003_partners_keys
Revises: 0001_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_partners_keys"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "partner_api_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("party_id", BigId, nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_partner_api_keys_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_api_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_partner_api_keys_key_id")),
    )
    op.create_index("ix_partner_api_keys_party", "partner_api_keys", ["party_id"])
    op.create_table(
        "partner_nonces",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "nonce", name=op.f("pk_partner_nonces")),
    )
    op.create_index("ix_partner_nonces_expires", "partner_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_partner_nonces_expires", table_name="partner_nonces")
    op.drop_table("partner_nonces")
    op.drop_index("ix_partner_api_keys_party", table_name="partner_api_keys")
    op.drop_table("partner_api_keys")
