"""`uvicorn infra.asgi:app`: the hub configured from the environment."""

import gc

from infra.app import create_app

app = create_app()
# Everything built so far (the schema, SQLAlchemy's metadata, templates: about 120,000 objects)
# lives as long as the process. Freezing it keeps the collector from walking it again on every
# full collection, which the allocations of a 1,000-line batch trigger.
gc.freeze()
