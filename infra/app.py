"""The composition root: the ASGI app that mounts the root schema and every package's routes."""

from __future__ import annotations

from graphql import NoSchemaIntrospectionCustomRule
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.document_cache import DocumentCache
from infra.explorer import explorer
from infra.graphql_endpoint import GraphQLEndpoint
from infra.query_limits import Limits, limit_rule
from infra.schema import schema as root_schema
from network.auth import Authenticator
from network.config import Settings, get_settings
from network.db.engine import Database
from network.wallet.pages import routes as wallet_routes
from network.wallet.pages.site import Site as WalletSite
from settlement.payouts.webhook import routes as settlement_routes


def default_authenticators(db: Database, settings: Settings) -> list[Authenticator]:
    """Each package contributes how its callers prove who they are; order matters only in that
    the first authenticator recognising a credential decides."""
    from network.wallet.bearer import bearer_authenticator
    from network.wallet.signin import SignIn
    from partners.authenticator import PartnerAuthenticator
    from settlement.staff import staff_authenticator

    return [PartnerAuthenticator(db), staff_authenticator(db),
            bearer_authenticator(SignIn(db, settings))]


def create_app(settings: Settings | None = None, db: Database | None = None,
               authenticators: list[Authenticator] | None = None,
               limits: Limits | None = None) -> Starlette:
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    limits = limits or Limits()
    graphql_schema = root_schema.graphql_schema
    rules = [limit_rule(limits)]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    endpoint = GraphQLEndpoint(
        graphql_schema, db, settings,
        authenticators if authenticators is not None else default_authenticators(db, settings),
        DocumentCache(graphql_schema, rules), limits)

    async def healthz(request: Request) -> Response:
        try:
            db.read(lambda conn: conn.execute(text("SELECT 1")).scalar_one())
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return JSONResponse({"status": "unavailable", "database": str(exc)[:200]},
                                status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def graphql_get(request: Request) -> Response:
        if settings.production:
            return JSONResponse({"errors": [{"message": "POST GraphQL requests to this URL",
                                             "extensions": {"code": "METHOD_NOT_ALLOWED"}}]},
                                status_code=405)
        return await explorer(request)

    routes = [
        Route("/graphql", endpoint.__call__, methods=["POST"]),
        Route("/graphql", graphql_get, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        *wallet_routes(WalletSite(db, settings)),  # member pages: /signin, /wallet, ...
        *settlement_routes(db, settings),  # POST /stripe/webhook
    ]
    app = Starlette(routes=routes)
    app.state.db = db
    app.state.settings = settings
    app.state.documents = endpoint.documents
    return app
