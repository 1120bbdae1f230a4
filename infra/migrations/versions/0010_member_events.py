"""Custom event types (with the network's standard ones) and the member events facts are
recorded in.

Revision ID: 0010_member_events
Revises: 0009_job_runs
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010_member_events"
down_revision = "0009_job_runs"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)

# A frozen copy of network/programme/event_specs.STANDARD as it was when this revision was
# written (a migration must not change meaning when the code does).
STANDARD = {
    "review": {"rating": {"type": "integer", "required": True, "min": 1, "max": 5},
               "sku": {"type": "string", "maxLength": 64},
               "hasText": {"type": "boolean"}},
    "survey_completed": {"survey": {"type": "string", "required": True, "maxLength": 64},
                         "score": {"type": "integer", "min": 0, "max": 10}},
    "social_share": {"network": {"type": "string", "required": True,
                                 "enum": ["facebook", "instagram", "x", "telegram", "whatsapp",
                                          "other"]},
                     "url": {"type": "string", "maxLength": 500}},
    "app_install": {"platform": {"type": "string", "required": True,
                                 "enum": ["android", "ios", "web"]}},
}


def upgrade() -> None:
    event_types = op.create_table(
        "event_types",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("owner_party_id", BigId, nullable=True),
        sa.Column("attribute_spec", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["owner_party_id"], ["parties.id"],
                                name=op.f("fk_event_types_owner_party_id_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_types")),
        sa.UniqueConstraint("code", name=op.f("uq_event_types_code")),
    )
    op.create_table(
        "member_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("partner_id", BigId, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("occurred_at", Timestamp, nullable=False),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.CheckConstraint("kind IN ('event', 'lifecycle')", name=op.f("ck_member_events_kind")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_member_events_member_id_members")),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name=op.f("fk_member_events_partner_id_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_events")),
    )
    op.create_index("uq_member_events_scope_key", "member_events", ["scope", "idempotency_key"],
                    unique=True)
    op.create_index("ix_member_events_member", "member_events", ["member_id", "occurred_at"])
    op.create_index("ix_member_events_type", "member_events", ["type", "occurred_at"])
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(event_types, [
        {"code": code, "owner_party_id": None, "attribute_spec": spec, "created_at": now}
        for code, spec in STANDARD.items()])


def downgrade() -> None:
    op.drop_table("member_events")
    op.drop_table("event_types")
