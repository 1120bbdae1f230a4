"""`uvicorn infra.asgi:app`: the hub configured from the environment."""

import atexit
import gc
import os

from infra.app import create_app
from infra.logging_setup import configure_logging

configure_logging()  # each worker process: JSON lines with the request id (logging_setup.py)
app = create_app()
if metrics_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    from prometheus_client import multiprocess

    # This worker's live gauges (connections in use) stop counting once it has exited.
    atexit.register(multiprocess.mark_process_dead, os.getpid(), metrics_dir)
# Everything built so far (the schema, SQLAlchemy's metadata, templates: about 120,000 objects)
# lives as long as the process. Freezing it keeps the collector from walking it again on every
# full collection, which the allocations of a 1,000-line batch trigger.
gc.freeze()
