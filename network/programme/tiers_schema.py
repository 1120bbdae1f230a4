"""The tier tables, on the ledger's one `metadata` (network/programme/tiers_store.py reads and
writes them).

`member_tiers` is the state: one row per member who holds a tier above the first or once did
(a member without a row holds the first tier), read by every earn when tiers are on, so it is
keyed by member id. `tier_changes` is the history: one row per change, never updated; its id
keys the `tier_changed` lifecycle fact the change raises (`tier_changed:<id>`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from network.db.schema import BigId, Timestamp, keyed_by, metadata

member_tiers = Table(
    "member_tiers",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("tier", String(40), nullable=False),
    Column("since", Timestamp, nullable=False),  # when the member reached this tier
    # The last day (network time zone) the tier is kept if the member falls below it: the last
    # qualifying day plus the tier's retention. NULL for the first tier.
    Column("qualified_until", Date),
    Column("earned", BigInteger, nullable=False),  # the window's points at the last calculation
    Column("calculated_at", Timestamp, nullable=False),
)

tier_changes = Table(
    "tier_changes",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("from_tier", String(40), nullable=False),
    Column("to_tier", String(40), nullable=False),
    Column("changed_at", Timestamp, nullable=False),
    # earn: an earn reached a higher tier; recalc: the daily job (or `pointsnet tiers recalc`)
    Column("reason", String(16), nullable=False),
    Column("earned", BigInteger, nullable=False),  # the window's points that decided it
    Column("partner_id", BigId, ForeignKey("parties.id")),  # where the deciding earn was
    CheckConstraint("reason IN ('earn', 'recalc')", name="reason_known"),
    *keyed_by(),
)
Index("ix_tier_changes_member", tier_changes.c.member_id, tier_changes.c.changed_at)

# The ladder's versions: each edit (console, `pointsnet programme tiers set`) adds a row, never
# updated; the newest is in force (network/programme/ladder_store.py). `document` is the
# ladder's JSON (network/programme/ladder.py); `created_by` says who: a staff email, or "cli".
tier_ladders = Table(
    "tier_ladders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("document", Text, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", Timestamp, nullable=False),
)
