"""Gifts between members (network/wallet/gifts.py): one row per gift, and the senders a member
has blocked.

A gift that needs its receiver's consent reserves the sender's points in a hold (`hold_id`): the
hold's expiry (the ledger's expiry job) gives them back to their very lots, so a gift nobody
answers is `expired` when its hold is.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Table

from network.db.schema import BigId, Timestamp, belongs_to, keyed_by, metadata

gifts = Table(
    "gifts",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("sender_member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("receiver_member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    # sent (booked at once) | pending (waits for consent) | accepted | declined
    Column("status", String(16), nullable=False),
    Column("hold_id", BigId),  # a pending gift's reservation, the sender's hold
    Column("out_entry_id", BigId),  # once the points moved: the sender's transfer_out entry
    Column("created_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp),
    CheckConstraint("status IN ('sent', 'pending', 'accepted', 'declined')", name="status"),
    CheckConstraint("points > 0", name="points_positive"),
    *keyed_by("sender_member_id"),
    belongs_to("holds", "hold_id", "sender_member_id"),
    belongs_to("journal_entries", "out_entry_id", "sender_member_id"),
)
# The sender's daily limit sums their recent gifts; the receiver's wallet lists what waits.
Index("ix_gifts_sender", gifts.c.sender_member_id, gifts.c.created_at)
Index("ix_gifts_receiver", gifts.c.receiver_member_id, gifts.c.status)

gift_blocks = Table(
    "gift_blocks",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("blocked_member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("created_at", Timestamp, nullable=False),
)
