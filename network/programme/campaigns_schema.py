"""The campaign tables: campaigns, the points each booked effect gave, and a version counter.

`campaigns.definition` is the campaign's JSON document (network/programme/codec.py); status and
the budget are columns too, so listing by status needs no JSON.

`campaign_budget_slots` holds what a campaign has spent, in SLOTS rows per campaign
(network/programme/budgets.py): an earn adds its campaign points to its member's slot under a
condition (`spent + n <= cap`), so concurrent earns of one campaign lock different rows; the
slots' caps sum to the budget (all NULL without one), so no slot can overspend it.

`campaign_awards` has one row per effect booked, per funder: which earn entry, which campaign (NULL
for a tier effect, whose tier is in `tier_code`), the member, the funder and the points; a
reversed earn adds the same rows negated. Member limits count these rows per local period, and
the wallet's history explains an entry from them.

`programme_version` is one row whose number goes up on every campaign change, so a process can
tell with one tiny read whether its compiled index is stale (network/programme/store.py).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from network.db.schema import BigId, Timestamp, belongs_to, keyed_by, metadata

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # draft | active | paused | ended
    Column("definition", Text, nullable=False),  # the codec's JSON document
    Column("budget_points", BigInteger),  # NULL: no budget; mirrors limits.budgetPoints
    # Who manages it: a partner, or the network itself.
    Column("owner_party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("status IN ('draft', 'active', 'paused', 'ended')", name="status"),
)
Index("ix_campaigns_status", campaigns.c.status)

campaign_budget_slots = Table(
    "campaign_budget_slots",
    metadata,
    Column("campaign_id", BigId, ForeignKey("campaigns.id"), primary_key=True,
           autoincrement=False),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("spent", BigInteger, nullable=False, server_default="0"),
    Column("cap", BigInteger),  # NULL: the campaign has no budget
    CheckConstraint("spent >= 0", name="spent_nonnegative"),
    # The last line of defence for "a budget is never overspent": the booking's conditional
    # UPDATE is the first, and the caps sum to the budget (budgets.caps).
    CheckConstraint("cap IS NULL OR spent <= cap", name="spent_within_cap"),
)

campaign_awards = Table(
    "campaign_awards",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("entry_id", BigId, nullable=False),
    # No foreign keys to the campaign nor the funder (migration 0038: each locked a row every
    # programme earn shares and cost a lookup per award); `ledger verify` names an award whose
    # campaign or funder is missing.
    Column("campaign_id", BigId),  # NULL: a tier effect
    Column("tier_code", String(32)),  # the member's tier, for a tier effect
    Column("member_id", BigId, nullable=False),
    Column("funder_party_id", BigId, nullable=False),
    Column("points", BigInteger, nullable=False),  # negative on a reversal's rows
    Column("booked_at", Timestamp, nullable=False),
    CheckConstraint("(campaign_id IS NULL) = (tier_code IS NOT NULL)", name="one_source"),
    *keyed_by(),
    belongs_to("journal_entries", "entry_id"),
)
Index("ix_campaign_awards_usage", campaign_awards.c.campaign_id, campaign_awards.c.member_id,
      campaign_awards.c.booked_at)
Index("ix_campaign_awards_entry", campaign_awards.c.entry_id)
# A partner's BONUS transactions: the points it funded, newest entry first (partners/ledger_view).
Index("ix_campaign_awards_funder", campaign_awards.c.funder_party_id, campaign_awards.c.entry_id)
Index("ix_campaign_awards_member", campaign_awards.c.member_id, campaign_awards.c.entry_id)

programme_version = Table(
    "programme_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("version", BigInteger, nullable=False),
)
