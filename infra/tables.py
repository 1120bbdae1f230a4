"""Every table of the hub, in one `metadata`: import each package's table module here once.

Alembic's env and the migration drift test use this to see the whole schema.
"""

from network.db.schema import metadata
import partners.keys_schema  # noqa: F401,E402  (partner API keys, nonces)

__all__ = ["metadata"]
