"""The KPI rollup tables. One row per day (in the network's time zone), party and measure, so a
dashboard for any period sums a few thousand small rows instead of scanning the ledger.

`party_id` 0 is the whole network (a real party id is never 0). Flow rows keep consumptions by
issuer x sink x kind: redemptions there are the cross-partner spend matrix, and the network's
redeemed / donated / expired points are their sums.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, String, Table

from network.db.schema import BigId, Timestamp, metadata

NETWORK = 0

kpi_daily = Table(
    "kpi_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("party_id", BigId, primary_key=True, autoincrement=False),  # 0: the network
    # new_members | issued | consumed | earns | active_30 | active_90 | tier:<code>
    # | campaign:<id> (party: the funder)
    Column("measure", String(48), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

kpi_flows = Table(
    "kpi_flows",
    metadata,
    Column("day", Date, primary_key=True),
    Column("issuer_party_id", BigId, primary_key=True, autoincrement=False),
    Column("sink_party_id", BigId, primary_key=True, autoincrement=False),
    Column("kind", String(16), primary_key=True),  # redemption | donation | expiry
    Column("points", BigInteger, nullable=False),  # net of reversals
)

# Which days have been rolled up, and when: the job's resume point, and the dashboards' "as of".
kpi_days = Table(
    "kpi_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("refreshed_at", Timestamp, nullable=False),
)
