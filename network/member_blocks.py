"""Blocked members: an operator's stop on a member record (suspected fraud, a disputed account).

A blocked member cannot sign in to the wallet and partners cannot take their points; earning is
left alone (a till should not fail a sale over it). One row per blocked member; unblocking
deletes it. The history of blocks is the audit log's (network/audit.py), not this table's.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Connection, ForeignKey, String, Table, delete, insert, select

from network.db.schema import BigId, Timestamp, metadata

member_blocks = Table(
    "member_blocks",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("blocked_at", Timestamp, nullable=False),
    Column("blocked_by", String(64), nullable=False),  # the actor: staff:7
    Column("reason", String(200), nullable=False),
)


def is_blocked(conn: Connection, member_id: int) -> bool:
    return conn.execute(select(member_blocks.c.member_id)
                        .where(member_blocks.c.member_id == member_id)).first() is not None


def block(conn: Connection, member_id: int, *, by: str, reason: str, now: dt.datetime) -> bool:
    """Block; False if the member was blocked already (nothing changes)."""
    if is_blocked(conn, member_id):
        return False
    conn.execute(insert(member_blocks).values(member_id=member_id, blocked_at=now, blocked_by=by,
                                              reason=reason[:200]))
    return True


def unblock(conn: Connection, member_id: int) -> bool:
    return conn.execute(delete(member_blocks)
                        .where(member_blocks.c.member_id == member_id)).rowcount == 1
