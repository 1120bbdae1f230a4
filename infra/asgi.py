"""`uvicorn infra.asgi:app`: the hub configured from the environment."""

from infra.app import create_app

app = create_app()
