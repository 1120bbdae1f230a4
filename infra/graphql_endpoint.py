"""POST /graphql: body limits, authentication, the cached document, execution, error shape.

Authenticators and resolvers are synchronous (they wait on the database), so everything after
reading the body runs on a worker thread and never blocks the event loop. It is ONE trip to a
thread per request, on a small pool of the endpoint's own (`Settings.graphql_threads`, 4 by
default; infra/thread_hop.py, lighter than `run_in_executor`) rather than Starlette's AnyIO pool
of up to 40 threads: fewer threads contend less for the GIL, and four per process still keep the
database busy while some of them wait on it.
`infra/bench/partner_api.py --graphql-threads N` measures other sizes.

A partner's documented earn operation and a member's documented BuyReward, sent as documented,
skip graphql-core's executor (infra/persisted_operations.py); the answer then goes through the
same `_answer` as any other.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
)
from starlette.requests import Request
from starlette.responses import JSONResponse

from infra import metrics
from infra.document_cache import DocumentCache
from infra.field_execution import PlainLeavesExecutionContext
from infra.persisted_operations import PersistedOperations
from infra.query_limits import Limits
from infra.thread_hop import ThreadHop
from infra.unavailable import unavailable_response
from network.auth import (
    Authenticator,
    AuthError,
    ClaimRefused,
    DeferredClaim,
    Principal,
)
from network.config import Settings
from network.db.engine import Database, database_unavailable
from network.db.read_database import ReadDatabase
from network.errors import HubError
from network.gql.context import PermissionDenied, RequestContext
from partners.authenticator import PartnerAuthenticator, is_signed
from partners.signatures.message import combine_lines

log = logging.getLogger("pointsnet.graphql")


@functools.cache
def _thread_pool(threads: int) -> ThreadHop:
    """One pool per size and process, shared by every app in it (tests build hundreds)."""
    return ThreadHop(threads, "graphql")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status)


def _too_large(limit: int, signed: bool) -> JSONResponse:
    return _error(413, "BODY_TOO_LARGE", f"request body is over {limit} bytes"
                  + ("" if signed else " (the limit for requests without a partner signature)"))


# graphql-core ends many messages with " Did you mean 'contract'?": schema names, which
# production hides from callers (introspection is off there too).
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _without_suggestions(formatted: dict[str, Any]) -> dict[str, Any]:
    formatted["message"] = _SUGGESTION.sub("", formatted["message"])
    return formatted


def _format(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    formatted = error.formatted
    if error.path is None and original is None and not error.extensions:
        # The request as a whole, before any field ran: a missing or unknown operation name
        # (no location), or a variable not provided (located at its definition).
        formatted["extensions"] = {"code": "BAD_USER_INPUT" if error.nodes else "BAD_REQUEST"}
    # Refusals with a stable code, field and message: every domain's (network.errors).
    if isinstance(original, HubError):
        formatted["message"] = original.message
        formatted["extensions"] = {"code": original.code, "field": original.field}
    elif isinstance(original, PermissionDenied):
        formatted["extensions"] = {"code": PermissionDenied.code}
    elif isinstance(original, GraphQLError):
        # Variable coercion ("Int cannot represent …") wraps the caller's mistake: not a bug.
        formatted["extensions"] = {"code": "BAD_USER_INPUT"}
    elif original is not None:
        log.error("resolver failed", exc_info=original)
        formatted["message"] = "internal error"
        formatted["extensions"] = {"code": "INTERNAL_ERROR"}
    return formatted


def _combined_headers(request: Request) -> dict[str, str]:
    """Each field once, its lines combined as the signature covered them: a second
    Idempotency-Key line must not make the hub use a key the signature never covered (keeping
    the last line alone did)."""
    lines: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        lines.setdefault(name.lower(), []).append(value)
    return {name: combine_lines(values) for name, values in lines.items()}


def _unavailable(result: ExecutionResult) -> bool:
    return any(database_unavailable(e.original_error) for e in result.errors or ())


def _never(_value: object) -> bool:
    """Every resolver is synchronous. Saying so spares graphql-core an awaitable check on each
    of the ~5,000 values a 1,000-line batch answer resolves."""
    return False


def operation_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The root field names of the operation that runs (schema names, so a bounded metrics
    label, unlike the caller's operationName); empty if there is no such operation."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
                operation_name is None
                or (definition.name is not None and definition.name.value == operation_name)):
            return [selection.name.value for selection in definition.selection_set.selections
                    if isinstance(selection, FieldNode)]
    return []


def is_query(document: DocumentNode, operation_name: str | None) -> bool:
    """Is the operation that runs a query? A mutation's answer is read on the primary (its own
    write must show in it), so only queries may be routed to the read replica."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
                operation_name is None
                or (definition.name is not None and definition.name.value == operation_name)):
            return definition.operation == OperationType.QUERY
    return False


def _code(errors: object) -> str | None:
    """The first error code in a list of GraphQL errors or a payload's userErrors."""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code") or (errors[0].get("extensions") or {}).get("code")
        return str(code) if code else "ERROR"
    return None


def field_outcomes(data: dict[str, Any] | None, errors: list[dict[str, Any]] | None,
                   fields: list[str]) -> list[tuple[str, str]]:
    """(root field, outcome code) for each root field: with no data, the request's first error
    code; else an error in that field's path, else its payload's first userErrors code, else
    OK. Fields and answer keys pair by position (an alias renames a key, never the order)."""
    if data is None:
        return [(name, _code(errors) or "ERROR") for name in fields]
    outcomes = []
    for name, key in zip(fields, data, strict=False):
        value = data[key]
        code = _code([e for e in errors or () if (e.get("path") or [None])[0] == key])
        if code is None and isinstance(value, dict):
            code = _code(value.get("userErrors"))
        outcomes.append((name, code or "OK"))
    return outcomes


class GraphQLEndpoint:
    def __init__(self, schema: GraphQLSchema, db: Database, settings: Settings,
                 authenticators: Sequence[Authenticator], documents: DocumentCache,
                 limits: Limits, reads: ReadDatabase | None = None,
                 persisted: PersistedOperations | None = None) -> None:
        self.schema = schema
        self.persisted = persisted or PersistedOperations(schema, ())
        self.db = db
        self.reads = reads or ReadDatabase(db)
        self.primary_reads = ReadDatabase(db)  # for mutations' answers (read-your-writes)
        self.settings = settings
        self.authenticators = list(authenticators)
        self.documents = documents
        self.limits = limits

    async def __call__(self, request: Request) -> JSONResponse:
        # GraphQL over HTTP: a POST body is JSON. Anything else is refused before it is read,
        # as a mistake (a form post, text/plain) rather than parsed on a guess.
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            return _error(415, "UNSUPPORTED_MEDIA_TYPE",
                          "POST /graphql takes Content-Type: application/json, not "
                          f"{media_type or 'none'}")
        # The body is read before anyone is authenticated: only a request claiming a partner
        # signature (a batch) may send the larger body, refused unparsed if it is forged.
        signed = is_signed(request.headers)
        limit = self.limits.max_body_bytes if signed else self.limits.max_unsigned_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return _too_large(limit, signed)
        body = await request.body()
        if len(body) > limit:
            return _too_large(limit, signed)
        # The request id (a context variable) goes with the request into the thread.
        return await _thread_pool(self.settings.graphql_threads).run(
            contextvars.copy_context().run, self._respond, request, body)

    def _respond(self, request: Request, body: bytes) -> JSONResponse:
        request.state.operation = "graphql"
        deferred: DeferredClaim | None = None
        try:
            principal = None
            for authenticate in self.authenticators:
                if isinstance(authenticate, PartnerAuthenticator):
                    principal, deferred = authenticate.deferring(request, body)
                else:
                    principal = authenticate(request, body)
                if principal is not None:
                    break
        except AuthError as exc:
            return self._refused(request, exc, signed=isinstance(authenticate,
                                                                PartnerAuthenticator))
        try:
            payload = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "BAD_REQUEST", "the body is not JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _error(400, "BAD_REQUEST", 'the body must be {"query": "...", "variables": {}}')
        variables = payload.get("variables") or {}
        operation_name = payload.get("operationName")
        if not isinstance(variables, dict) or not (operation_name is None
                                                   or isinstance(operation_name, str)):
            return _error(400, "BAD_REQUEST", "variables must be an object, operationName a string")
        persisted = self.persisted.match(payload["query"], operation_name, variables, principal)
        if persisted is not None and persisted[0].lean.claims_nonce and deferred is not None:
            # A single earn claims the nonce in its own statement (one round trip, not two);
            # if it wrote nothing, the claim is made now, and a refusal is the answer.
            prepared, coerced = persisted
            fields = [prepared.field_name]
            context = self._context(request, principal, fields, self.primary_reads)
            context.deferred = deferred
            result = self.persisted.execute(prepared, coerced, context, variables)
            # (With the database unavailable the answer is 503 and the request is retried
            # whole: its statement may have committed, nonce and all, before the connection
            # broke, so claiming again could only answer a misleading NONCE_REPLAYED.)
            refused = None if _unavailable(result) else self._claimed(request, deferred)
            return refused or self._answer(request, result, fields)
        # Anything else runs only once the nonce is claimed.
        refused = self._claimed(request, deferred) if deferred is not None else None
        if refused is not None:
            return refused
        if persisted is not None:  # a documented mutation, sent as documented by its caller
            prepared, coerced = persisted
            fields = [prepared.field_name]
            context = self._context(request, principal, fields, self.primary_reads)
            result = self.persisted.execute(prepared, coerced, context, variables)
            return self._answer(request, result, fields)
        document, errors = self.documents.get(payload["query"])
        if document is None:
            return JSONResponse({"errors": self._public([e.formatted for e in errors])},
                                status_code=400)
        fields = operation_fields(document, operation_name)
        reads = self.reads if is_query(document, operation_name) else self.primary_reads
        context = self._context(request, principal, fields, reads)
        executed = execute(self.schema, document, None, context, variables, operation_name,
                           execution_context_class=PlainLeavesExecutionContext,
                           is_awaitable=_never)
        assert isinstance(executed, ExecutionResult)
        return self._answer(request, executed, fields)

    def _claimed(self, request: Request, deferred: DeferredClaim) -> JSONResponse | None:
        """Make the deferred nonce claim (if nothing made it yet): None, or the refusal."""
        try:
            deferred.claim()
        except ClaimRefused as refused:
            return self._refused(request, refused.error)
        return None

    def _refused(self, request: Request, error: AuthError, signed: bool = True) -> JSONResponse:
        request.state.outcome = error.code
        if signed:
            metrics.observe_refused_signature(error.code)
        return JSONResponse(error.response_body(), status_code=error.status)

    def _context(self, request: Request, principal: Principal | None, fields: list[str],
                 reads: ReadDatabase) -> RequestContext:
        operation = "+".join(fields[:3]) or "graphql"
        request.state.operation = operation
        metrics.current_operation.set(operation)
        return RequestContext(db=self.db, reads=reads, settings=self.settings,
                              principal=principal,
                              request=request, headers=_combined_headers(request))

    def _answer(self, request: Request, result: ExecutionResult,
                fields: list[str]) -> JSONResponse:
        """The HTTP answer to an executed operation, whichever way it was executed."""
        if _unavailable(result):
            request.state.outcome = "DATABASE_UNAVAILABLE"
            return unavailable_response()  # retried whole, with the same idempotency key
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = self._public([_format(e) for e in result.errors])
        outcomes = field_outcomes(result.data, response.get("errors"), fields)
        request.state.outcome = next((code for _, code in outcomes if code != "OK"), "OK")
        for name, code in outcomes:
            if name in metrics.LEDGER_MUTATIONS:
                metrics.observe_ledger(name, code)
        status = 200 if result.data is not None else 400
        if any((e.get("extensions") or {}).get("code") == "IDEMPOTENCY_IN_PROGRESS"
               for e in response.get("errors", [])):
            status = 409  # the first request with this key is still running: retry it later
        return JSONResponse(response, status_code=status)

    def _public(self, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.settings.production:
            return errors  # suggestions help developers
        return [_without_suggestions(e) for e in errors]
