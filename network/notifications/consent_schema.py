"""Tables of message consent: what a member agreed to receive, the record of each change, and
which lifecycle occasions were already announced (so a rerun of a job announces nothing twice)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from network.db.schema import BigId, Timestamp, keyed_by, metadata

# One row per member who changed anything; a member without a row has the defaults
# (network/notifications/preferences.py DEFAULTS). Marketing flags are only ever set true with
# a consent row in message_consents that quotes the wording the member saw.
message_preferences = Table(
    "message_preferences",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True, autoincrement=False),
    Column("programme_sms", Boolean, nullable=False),
    Column("programme_email", Boolean, nullable=False),
    Column("marketing_sms", Boolean, nullable=False),
    Column("marketing_email", Boolean, nullable=False),
    # Minutes after local midnight; both NULL: no quiet hours. End before start wraps midnight.
    Column("quiet_start", Integer),
    Column("quiet_end", Integer),
    Column("time_zone", String(64)),  # IANA name; NULL: the network's (POINTSNET_TIMEZONE)
    Column("updated_at", Timestamp, nullable=False),
)

# Append-only evidence: every grant or withdrawal of a kind of message on a channel, how it
# was made (web page, API, unsubscribe link, SMS STOP) and, for a grant, the exact words shown.
message_consents = Table(
    "message_consents",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("category", String(16), nullable=False),  # programme | marketing
    Column("channel", String(8), nullable=False),  # sms | email
    Column("granted", Boolean, nullable=False),
    Column("source", String(16), nullable=False),  # web | api | unsubscribe | sms_stop | sms_start
    Column("wording_version", String(32)),
    Column("wording", Text),
    Column("recorded_at", Timestamp, nullable=False),
    *keyed_by(),
)
Index("ix_message_consents_member", message_consents.c.member_id, message_consents.c.id)

# One row per announced occasion ("earned:2026-12-07T09", "expiring30:2027-01-06"): written in
# the transaction that queues the message, so a crash either keeps both or neither.
message_occasions = Table(
    "message_occasions",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True, autoincrement=False),
    Column("occasion", String(120), primary_key=True),
    Column("created_at", Timestamp, nullable=False),
)
