"""Segments of members for campaign conditions: static lists, rules and RFM scores.

Revision ID: 0008_segments
Revises: 0007_signin_codes_by_address
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_segments"
down_revision = "0007_signin_codes_by_address"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('static', 'rule', 'rfm')",
                           name=op.f("ck_segments_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("code", name=op.f("uq_segments_code")),
    )
    op.create_table(
        "segment_members",
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("segment_id", BigId, nullable=False),
        sa.Column("added_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_segment_members_member_id_members")),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"],
                                name=op.f("fk_segment_members_segment_id_segments")),
        sa.PrimaryKeyConstraint("member_id", "segment_id", name=op.f("pk_segment_members")),
    )
    op.create_index("ix_segment_members_segment", "segment_members",
                    ["segment_id", "member_id"])
    op.create_table(
        "member_rfm",
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Integer(), nullable=False),
        sa.Column("last_at", Timestamp, nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", Timestamp, nullable=False),
        sa.CheckConstraint("recency BETWEEN 1 AND 5 AND frequency BETWEEN 1 AND 5 "
                           "AND monetary BETWEEN 1 AND 5",
                           name=op.f("ck_member_rfm_scores_1_to_5")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_member_rfm_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_rfm")),
    )


def downgrade() -> None:
    op.drop_table("member_rfm")
    op.drop_index("ix_segment_members_segment", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_table("segments")
