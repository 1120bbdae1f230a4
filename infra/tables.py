"""Every table of the hub, in one `metadata`: import each package's table module here once.

Alembic's env and the migration drift test use this to see the whole schema.
"""

from network.db.schema import metadata
import partners.keys_schema  # noqa: F401,E402  (partner API keys, nonces)
import settlement.schema  # noqa: F401,E402  (settlement runs, lines, payments, webhook events)
import network.notifications.schema  # noqa: F401,E402  (notification outbox)
import network.wallet.schema  # noqa: F401,E402  (sign-in codes, member sessions, rate limits)

__all__ = ["metadata"]
