"""The lottery's tables: draws, their prizes, entries and winners (network/programme/lottery*.py).

`lottery_draws.seed` and `.salt` are the draw's two secrets: the seed is published once the draw
is made (its sha256, `commitment`, from the moment it opens); the salt never is (it keeps entry
hashes from being mapped back to entry ids). A prize may name a reward of the catalog by id
(`prize_reward_id`), kept loose (no foreign key) so the lottery does not depend on the catalog.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

lottery_draws = Table(
    "lottery_draws",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name_en", String(200), nullable=False),
    Column("name_fa", String(200), nullable=False),
    # open (taking entries within the window) | closed (list frozen) | drawn (seed revealed)
    Column("status", String(16), nullable=False),
    Column("opens_at", Timestamp, nullable=False),
    Column("closes_at", Timestamp, nullable=False),
    Column("entry_price", BigInteger, nullable=False),  # points; 0: free entries only
    Column("max_entries_per_member", Integer, nullable=False),
    # The partner funding the draw: the sink of the points paid to enter (settlement pays it).
    Column("sponsor_party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("seed", LargeBinary, nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("commitment", String(64), nullable=False),
    Column("entries_sha256", String(64)),  # the frozen entries.txt's digest, set on close
    Column("created_at", Timestamp, nullable=False),
    Column("closed_at", Timestamp),
    Column("drawn_at", Timestamp),
    CheckConstraint("status IN ('open', 'closed', 'drawn')", name="status"),
    CheckConstraint("entry_price >= 0", name="price_nonnegative"),
    CheckConstraint("max_entries_per_member >= 1", name="limit_positive"),
    CheckConstraint("closes_at > opens_at", name="window"),
)

lottery_prizes = Table(
    "lottery_prizes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("draw_id", BigId, ForeignKey("lottery_draws.id"), nullable=False),
    Column("position", Integer, nullable=False),  # 1 is the first prize
    Column("count", Integer, nullable=False),
    Column("label_en", String(200), nullable=False),
    Column("label_fa", String(200), nullable=False),
    Column("prize_reward_id", BigInteger),  # a catalog reward, if the prize is one
    CheckConstraint("count >= 1", name="count_positive"),
    UniqueConstraint("draw_id", "position"),
)

lottery_entries = Table(
    "lottery_entries",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("draw_id", BigId, ForeignKey("lottery_draws.id"), nullable=False),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("entry_hash", String(64), nullable=False, unique=True),
    Column("source", String(16), nullable=False),  # points | free
    Column("journal_entry_id", BigId),  # paid entries: the member's entry that paid
    Column("granted_by", String(200)),  # free entries: staff or campaign
    Column("created_at", Timestamp, nullable=False),
    # The winning position (1-based, prize order) once drawn; NULL: did not win.
    Column("won_position", Integer),
    CheckConstraint("source IN ('points', 'free')", name="source"),
    *keyed_by(),
    belongs_to("journal_entries", "journal_entry_id"),
)
Index("ix_lottery_entries_member", lottery_entries.c.member_id, lottery_entries.c.draw_id)
Index("ix_lottery_entries_draw", lottery_entries.c.draw_id)
