"""Every table of the hub, in one `metadata`: import each package's table module here once.

Alembic's env and the migration drift test use this to see the whole schema.
"""

import network.audit  # noqa: F401  (audit log)
import network.backoffice.schema  # noqa: F401  (back-office accounts and sessions)
import network.console.schema  # noqa: F401  (goodwill adjustments awaiting approval)
import network.jobs.schema  # noqa: F401  (the worker's job leases and run history)
import network.member_blocks  # noqa: F401  (blocked members)
import network.notifications.consent_schema  # noqa: F401  (message preferences, consents)
import network.notifications.schema  # noqa: F401  (notification outbox)
import network.profile  # noqa: F401  (member profiles)
import network.programme.approval  # noqa: F401  (campaign approvals)
import network.programme.campaigns_schema  # noqa: F401  (campaigns, campaign awards)
import network.programme.lottery_schema  # noqa: F401  (lottery draws, prizes, entries)
import network.programme.rewards_schema  # noqa: F401  (rewards, codes, purchases)
import network.programme.schema  # noqa: F401  (event types, member events)
import network.programme.segments_schema  # noqa: F401  (segments, their members, RFM scores)
import network.programme.tiers_schema  # noqa: F401  (member tiers, tier changes)
import network.signin.schema  # noqa: F401  (sign-in codes, member sessions, rate limits)
import network.staff  # noqa: F401  (staff tokens)
import network.wallet.gifts_schema  # noqa: F401  (gifts between members, blocked senders)
import partners.contracts_schema  # noqa: F401  (contract versions)
import partners.keys_schema  # noqa: F401  (partner API keys, nonces)
import partners.webhooks.schema  # noqa: F401  (webhook endpoints, events, deliveries)
import settlement.kpis.schema  # noqa: F401  (KPI rollups for the dashboards)
import settlement.schema  # noqa: F401  (settlement runs, lines, payments, webhook events)
from network.db.schema import metadata

__all__ = ["metadata"]
