"""The catalog's tables: rewards, the code pool, and the rewards members bought (coupons).

- `rewards.id` is a plain 64-bit key: the lottery's prizes refer to it.
- `rewards.stock` is NULL for unlimited; a purchase takes one with a guarded
  `UPDATE … SET stock = stock - 1 WHERE stock > 0`, so stock never goes below zero under any
  number of concurrent buyers. An unlimited reward's row is never written by a purchase (how
  many were sold is counted from `reward_purchases`), so its buyers never queue on it.
- `reward_codes` holds every code a partner's till may meet, uploaded (pool) or made by the hub
  (generated), unique per honouring partner so `redeemCoupon` finds one by (partner, code). A
  pool code is free while `purchase_id` is NULL.
- `reward_purchases` is one row per reward bought: the ledger entry that paid for it, its code,
  and its life (issued -> used | expired | refunded).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from network.db.schema import BigId, Timestamp, belongs_to, keyed_by, metadata

rewards = Table(
    "rewards",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", BigId, ForeignKey("parties.id"), nullable=False),  # who honours it
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("name_en", String(120), nullable=False),
    Column("name_fa", String(120), nullable=False),
    Column("description_en", String(2000), nullable=False),
    Column("description_fa", String(2000), nullable=False),
    Column("image_url", String(500)),
    Column("image_type", String(16)),  # an uploaded picture's media type (image/png …)
    Column("image_data", LargeBinary),  # its bytes, at most 64 KiB; read only to serve it
    Column("price_points", Integer, nullable=False),
    Column("stock", Integer),  # NULL: unlimited
    Column("valid_from", Timestamp),  # on sale from (NULL: at once)
    Column("valid_until", Timestamp),  # on sale until (NULL: no end)
    Column("coupon_days", Integer),  # a bought code is usable this many days (NULL: no expiry)
    Column("per_member_limit", Integer),  # NULL: no limit
    Column("visibility", JSON, nullable=False),  # {"tiers": [...]} / {"segments": [...]} / {}
    Column("code_source", String(16), nullable=False),  # pool | generated | none
    Column("refund_on_expiry", Boolean, nullable=False),
    Column("charity_id", BigId, ForeignKey("parties.id")),  # charity_pledge only
    Column("value_minor", BigId),  # gift_card: its money value
    Column("currency", String(3)),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("kind IN ('coupon', 'gift_card', 'lottery_entry', 'charity_pledge')",
                    name="kind"),
    CheckConstraint("status IN ('draft', 'active', 'paused', 'retired')", name="status"),
    CheckConstraint("code_source IN ('pool', 'generated', 'none')", name="code_source"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    CheckConstraint("price_points > 0", name="price"),
)
Index("ix_rewards_partner", rewards.c.partner_id, rewards.c.id)

reward_codes = Table(
    "reward_codes",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("reward_id", BigId, ForeignKey("rewards.id"), nullable=False),
    Column("partner_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("purchase_id", BigId),  # a pool code's purchase (NULL: still free); hub codes: NULL
    Column("added_at", Timestamp, nullable=False),
    *keyed_by("partner_id", referenced=True),
)
Index("uq_reward_codes_partner_code", reward_codes.c.partner_id, reward_codes.c.code,
      unique=True)
Index("ix_reward_codes_code", reward_codes.c.code)  # a till's code of another partner
Index("ix_reward_codes_free", reward_codes.c.reward_id, reward_codes.c.purchase_id,
      reward_codes.c.id)

reward_purchases = Table(
    "reward_purchases",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("reward_id", BigId, ForeignKey("rewards.id"), nullable=False),
    Column("partner_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("entry_id", BigId, nullable=False),
    Column("points", Integer, nullable=False),
    Column("code_id", BigId),  # a code of the honouring partner's (partner_id)
    Column("status", String(16), nullable=False),
    Column("bought_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp),
    Column("used_at", Timestamp),
    Column("closed_entry_id", BigId),  # the give-back, if any
    CheckConstraint("status IN ('issued', 'used', 'expired', 'refunded')", name="status"),
    *keyed_by(),
    belongs_to("journal_entries", "entry_id"),
    belongs_to("journal_entries", "closed_entry_id"),
    belongs_to("reward_codes", "code_id", "partner_id", "partner_id"),
    UniqueConstraint("entry_id", "member_id"),  # one purchase per entry
)
Index("ix_reward_purchases_code", reward_purchases.c.code_id)  # a till's code -> its coupon
Index("ix_reward_purchases_member", reward_purchases.c.member_id, reward_purchases.c.reward_id)
Index("ix_reward_purchases_due", reward_purchases.c.status, reward_purchases.c.expires_at)
