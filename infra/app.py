"""The composition root: the ASGI app that mounts the root schema and every package's routes."""

from __future__ import annotations

import psycopg
from graphql import NoSchemaIntrospectionCustomRule
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra import lean_buys, lean_earns
from infra.document_cache import DocumentCache
from infra.explorer import ASSETS_PATH, explorer, explorer_asset
from infra.graphql_endpoint import GraphQLEndpoint
from infra.health import healthz, readyz_route
from infra.logging_setup import RequestObserver
from infra.metrics import count_replays, metrics_route, watch_pool
from infra.persisted_operations import PersistedOperations
from infra.query_limits import Limits, limit_rule
from infra.schema import schema as root_schema
from infra.unavailable import on_database_error
from network.auth import Authenticator
from network.backoffice.routes import routes as backoffice_routes
from network.backoffice.site import Backoffice
from network.config import Settings, get_settings
from network.console.routes import routes as console_routes
from network.db.engine import Database
from network.db.read_database import ReadDatabase
from network.notifications.inbound import routes as notification_routes
from network.wallet.pages import routes as wallet_routes
from network.wallet.pages.site import Site as WalletSite
from network.wallet.pages.wallet_pages import not_found as wallet_not_found
from partners.campaign_simulation_pages import routes as simulation_routes
from partners.console_pages import routes as partner_console_routes
from partners.portal.routes import routes as partner_portal
from settlement.payouts.webhook import routes as settlement_routes
from settlement.web.routes import routes as settlement_pages

GRAPHQL_PATH = "/graphql"


def api_error(message: str, code: str, status: int,
              headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in the shape GraphQL clients already parse, for requests that never reach it."""
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status, headers=headers)


def wants_html(request: Request) -> bool:
    """A browser navigating asks for text/html; SDKs and curl ask for JSON or */*."""
    return "text/html" in request.headers.get("accept", "")


def default_authenticators(db: Database, settings: Settings) -> list[Authenticator]:
    """Each package contributes how its callers prove who they are; order matters only in that
    the first authenticator recognising a credential decides."""
    from network.signin.bearer import bearer_authenticator
    from network.signin.service import SignIn
    from network.staff import staff_authenticator
    from partners.authenticator import PartnerAuthenticator

    return [PartnerAuthenticator(db), staff_authenticator(db),
            bearer_authenticator(SignIn(db, settings))]


def create_app(settings: Settings | None = None, db: Database | None = None,
               authenticators: list[Authenticator] | None = None,
               limits: Limits | None = None, reads: ReadDatabase | None = None) -> Starlette:
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    # Read models (wallet, settlement preview) read here: POINTSNET_READ_DATABASE_URL's standby
    # while it is fresh enough, else the primary. Write paths only ever get `db`.
    reads = reads or ReadDatabase(db, settings.read_database_url,
                                  max_lag=settings.read_max_lag_seconds)
    limits = limits or Limits()
    graphql_schema = root_schema.graphql_schema
    rules = [limit_rule(limits)]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = DocumentCache(graphql_schema, rules, max_tokens=limits.max_tokens)
    endpoint = GraphQLEndpoint(
        graphql_schema, db, settings,
        authenticators if authenticators is not None else default_authenticators(db, settings),
        documents, limits, reads,
        PersistedOperations(graphql_schema, lean_earns.OPERATIONS + lean_buys.OPERATIONS,
                            documents))

    async def graphql_get(request: Request) -> Response:
        if settings.production:
            return JSONResponse({"errors": [{"message": "POST GraphQL requests to this URL",
                                             "extensions": {"code": "METHOD_NOT_ALLOWED"}}]},
                                status_code=405)
        return await explorer(request)

    async def graphql_explorer_asset(request: Request) -> Response:
        if settings.production:  # the explorer is off in production, and so are its files
            raise HTTPException(404)
        return await explorer_asset(request)

    async def graphql_slash(request: Request) -> Response:
        # Starlette would answer a 307 to /graphql with an empty body; a partner's request is
        # signed over its @path, so following that redirect fails verification anyway. Say where
        # the endpoint is instead (the member pages keep their /wallet/ -> /wallet redirect).
        return api_error(f"The GraphQL endpoint is {GRAPHQL_PATH}, without a trailing slash.",
                         "NOT_FOUND", 404)

    wallet_site = WalletSite(db, settings, reads=reads)
    backoffice = Backoffice(db, settings, reads=reads)

    async def http_error(request: Request, exc: Exception) -> Response:
        """404 and 405 for the whole app: a browser gets the wallet's not-found page in its
        language, any other caller a GraphQL-shaped JSON error naming what to do instead."""
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})  # a 405 carries Allow
        if wants_html(request):
            response = wallet_not_found(wallet_site.page(request), exc.status_code)
            response.headers.update(headers)
            return response
        if exc.status_code == 405:
            allowed = headers.get("Allow", "")
            return api_error(f"{request.url.path} does not take {request.method}; "
                             f"it takes {allowed}.", "METHOD_NOT_ALLOWED", 405, headers)
        return api_error(f"Nothing is served at {request.url.path}; the GraphQL API is "
                         f"POST {GRAPHQL_PATH}.", "NOT_FOUND", 404, headers)

    routes = [
        Route(GRAPHQL_PATH, endpoint.__call__, methods=["POST"]),
        Route(GRAPHQL_PATH, graphql_get, methods=["GET"]),
        Route(f"{GRAPHQL_PATH}/", graphql_slash, methods=["GET", "POST"]),
        Route(ASSETS_PATH + "/{name}", graphql_explorer_asset, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz_route(db), methods=["GET"]),
        Route("/metrics", metrics_route(db, settings, reads), methods=["GET"]),
        *wallet_routes(wallet_site),  # member pages: /signin, /wallet, ...
        *settlement_routes(db, settings),  # POST /stripe/webhook
        *notification_routes(db, settings),  # POST /notifications/sms/inbound (STOP)
        *backoffice_routes(backoffice),  # /console/signin, /partner/signin, /backoffice/...
        *console_routes(backoffice),  # the operator's console: /console/...
        *settlement_pages(backoffice),  # /console/dashboards, /console/finance, /partner/...
        *partner_portal(backoffice),  # the partner portal: /partner/...
        *partner_console_routes(backoffice),  # its partner pages: /console/partners/...
        *simulation_routes(backoffice),  # /console/campaigns/simulation (prices: contracts)
    ]
    watch_pool(db)
    count_replays()
    app = Starlette(routes=routes, middleware=[Middleware(RequestObserver)], exception_handlers={
        404: http_error, 405: http_error,
        # PostgreSQL restarting or unreachable: 503 + Retry-After, not a plain-text 500.
        psycopg.OperationalError: on_database_error, DBAPIError: on_database_error})
    app.state.db = db
    app.state.reads = reads
    app.state.backoffice = backoffice  # network.backoffice.site.require finds it here
    app.state.settings = settings
    app.state.documents = endpoint.documents
    return app
