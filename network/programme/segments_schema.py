"""The segments tables, on the ledger's one `metadata` (network/programme/segments_store.py reads
and writes them).

`segment_members` leads with `member_id`, like every member-keyed table, because the hot read
is "which segments is this member in" (`segments_store.segments_of`, called by the earn's plan
step); the segment-side index serves listing and refreshing one segment.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from network.db.schema import BigId, Timestamp, metadata

segments = Table(
    "segments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name_en", String(200), nullable=False),
    Column("name_fa", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # static | rule | rfm
    Column("rule", JSON),  # the rule's JSON form, for kind = rule
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("kind IN ('static', 'rule', 'rfm')", name="kind_known"),
)

segment_members = Table(
    "segment_members",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("segment_id", BigId, ForeignKey("segments.id"), primary_key=True),
    Column("added_at", Timestamp, nullable=False),
)
Index("ix_segment_members_segment", segment_members.c.segment_id, segment_members.c.member_id)

# The latest RFM scores per scored member (members without activity in the window have none).
member_rfm = Table(
    "member_rfm",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("recency", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),
    Column("monetary", Integer, nullable=False),
    Column("last_at", Timestamp, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("computed_at", Timestamp, nullable=False),
    CheckConstraint("recency BETWEEN 1 AND 5 AND frequency BETWEEN 1 AND 5 "
                    "AND monetary BETWEEN 1 AND 5", name="scores_1_to_5"),
)
