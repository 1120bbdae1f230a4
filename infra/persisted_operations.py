"""Persisted operations: documented mutations answered without graphql-core's executor.

A signed single earn spent about a fifth of the hub's CPU in graphql-core (coercing variables,
building a `GraphQLResolveInfo` and a `Path` per field, completing the payload field by field),
and a 1,000-line batch about three fifths: more than booking its lines. Yet the documented
operations (graphql/operations/*/*.graphql) are known in advance, so for those exact texts
the endpoint can skip the executor, as it already skips parse and validate (document_cache.py):

- the request's query text is looked up as a whole (a dict: its hash, then an equality check),
  so a document differing by one character takes the general path; and only for the caller
  the operation is meant for (`LeanOperation.principal`: a partner's key, a member's session),
  so anyone else gets graphql-core's own refusal;
- the root field's `input` is the document's `$input`, or an object whose every field is a
  variable of that field's own type (`input: {rewardId: $rewardId, …}`, as a member's
  BuyReward sends it): either way `plain_input` coerces the value the variables make only
  when it has the plain shape clients send (every value of the exact JSON type, no unknown
  key, no variable missing); anything else takes the general path, so every coercion error is
  graphql-core's own;
- the mutation's own `answer` runs the same domain code `mutate` runs (`HubMutation.carry_out`),
  so userErrors, replays, idempotency and metrics are the general path's;
- `LeanOperation.answer` builds the field's answer from the payload by hand, with the schema's
  own serializers. If it cannot (a value graphql-core would refuse, say), or the mutation raises,
  the payload or the error is completed by graphql-core itself (`_completed_generally`).

tests/partners/test_persisted_operations.py sends each request both ways and compares the bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputType,
    GraphQLObjectType,
    GraphQLSchema,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    VariableNode,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    located_error,
    parse,
    type_from_ast,
)
from graphql.pyutils import Path

from infra.document_cache import DocumentCache
from infra.field_execution import PlainLeavesExecutionContext
from network.auth import PartnerPrincipal
from network.gql.context import RequestContext

OPERATIONS_DIR = FilePath(__file__).resolve().parents[1] / "graphql" / "operations"


@dataclass(frozen=True)
class LeanOperation:
    """A documented mutation's lean path: `document` names its file under graphql/operations;
    `mutation` has `answer(ctx, input)` (partners.gql.mutation_support.PartnerMutation,
    network.gql.rewards.BuyReward); `principal` is the caller's type it is meant for."""

    document: str
    mutation: Any
    # schema -> (payload, context) -> the field's answer
    answer: Callable[[GraphQLSchema], Callable[[Any, RequestContext], Any]]
    principal: type = PartnerPrincipal
    # Its mutation makes the request's nonce claim itself (`RequestContext.deferred`): inside
    # its first write, or before writing anything
    claims_nonce: bool = False


@dataclass(frozen=True)
class Prepared:
    lean: LeanOperation
    query: str
    document: DocumentNode
    name: str  # the operation's name, which operationName may repeat
    key: str  # the root field's response key
    field_name: str
    node: FieldNode
    field: GraphQLField
    root: GraphQLObjectType
    input_type: GraphQLInputType  # of the field's `input` argument
    # None: `input: $input`; else (input field, the variable giving it) for each of its fields
    variables: tuple[tuple[str, str], ...] | None
    answer: Callable[[Any, RequestContext], Any]


def _prepare(schema: GraphQLSchema, lean: LeanOperation) -> Prepared:
    query = (OPERATIONS_DIR / lean.document).read_text()
    document = parse(query)
    [operation] = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert operation.operation == OperationType.MUTATION and operation.name is not None
    # One root field, no fragments or directives: nothing graphql-core would decide per request.
    [node] = operation.selection_set.selections
    assert isinstance(node, FieldNode) and not node.directives
    root = schema.mutation_type
    assert root is not None
    field = root.fields[node.name.value]
    [argument] = node.arguments
    assert argument.name.value == "input"
    input_type = field.args["input"].type
    declared = {d.variable.name.value: type_from_ast(schema, d.type)
                for d in operation.variable_definitions}
    variables: tuple[tuple[str, str], ...] | None = None
    if isinstance(argument.value, VariableNode):
        assert list(declared) == [argument.value.name.value]
        assert str(declared[argument.value.name.value]) == str(input_type)
    else:
        # An object of variables, each declared as its input field's own type (so coercing the
        # object coerces each variable as graphql-core would), each used once, nothing else.
        assert isinstance(argument.value, ObjectValueNode)
        fields = get_nullable_type(input_type).fields  # type: ignore[union-attr]
        variables = tuple((f.name.value, f.value.name.value)  # type: ignore[attr-defined]
                          for f in argument.value.fields)
        assert all(isinstance(f.value, VariableNode) for f in argument.value.fields)
        assert sorted(v for _, v in variables) == sorted(declared)
        assert all(str(declared[v]) == str(fields[name].type) for name, v in variables)
    return Prepared(lean, query, document, operation.name.value,
                    (node.alias or node.name).value, node.name.value, node,
                    field, root, input_type, variables, lean.answer(schema))


_NOT_PLAIN = object()
_ABSENT = object()
# The JSON type each built-in scalar takes without conversion (graphql-core turns an ID given as
# a number into a string, an integral float into an Int: those take the general path).
_PLAIN_SCALARS = {"String": str, "ID": str, "Int": int, "Boolean": bool}


Coerce = Callable[[Any], Any]


def plain_input(type_: GraphQLInputType, value: Any) -> Any:
    """`value` as graphql-core's `coerce_input_value` coerces it, when that takes no
    conversion and cannot fail; else _NOT_PLAIN. Fields come out in the schema's order under
    their Python names, inside the input type's own container (graphene's), as there."""
    return _coercer(type_)(value)


@functools.cache  # per input type of the one schema (no persisted input refers to itself)
def _coercer(type_: GraphQLInputType) -> Coerce:
    """`plain_input` for `type_`, decided once: a batch coerces 1,000 lines of one type."""
    if is_non_null_type(type_):
        required = _coercer(type_.of_type)  # type: ignore[union-attr]
        return lambda value: _NOT_PLAIN if value is None else required(value)
    nullable = _nullable_coercer(type_)
    return lambda value: None if value is None else nullable(value)


def _nullable_coercer(type_: GraphQLInputType) -> Coerce:
    if is_list_type(type_):
        item = _coercer(type_.of_type)  # type: ignore[union-attr]

        def coerce_list(value: Any) -> Any:
            if type(value) is not list:  # graphql-core would wrap a single value in a list
                return _NOT_PLAIN
            items = [item(each) for each in value]
            return _NOT_PLAIN if any(each is _NOT_PLAIN for each in items) else items

        return coerce_list
    if is_input_object_type(type_):
        names = type_.fields.keys()  # type: ignore[union-attr]
        # (name sent, Python name, its coercion, whether graphql-core fills it when absent or
        # refuses its absence: either way not plain)
        fields = [(name, field.out_name or name, _coercer(field.type),
                   field.default_value is not Undefined or is_non_null_type(field.type))
                  for name, field in type_.fields.items()]  # type: ignore[union-attr]
        container = type_.out_type  # type: ignore[union-attr]

        def coerce_object(value: Any) -> Any:
            if type(value) is not dict or not names >= value.keys():
                return _NOT_PLAIN
            coerced = {}
            for name, python_name, coerce, not_plain_when_absent in fields:
                given = value.get(name, _ABSENT)
                if given is _ABSENT:
                    if not_plain_when_absent:
                        return _NOT_PLAIN
                    continue
                item = coerce(given)
                if item is _NOT_PLAIN:
                    return _NOT_PLAIN
                coerced[python_name] = item
            return container(coerced)

        return coerce_object
    python = _PLAIN_SCALARS.get(getattr(type_, "name", ""))  # enums, custom scalars: general
    if python is None:
        return lambda value: _NOT_PLAIN
    if python is int:
        return lambda value: (value if type(value) is int
                              and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT else _NOT_PLAIN)
    return lambda value: value if type(value) is python else _NOT_PLAIN


def _never(_value: object) -> bool:
    return False


class PersistedOperations:
    def __init__(self, schema: GraphQLSchema, operations: Sequence[LeanOperation],
                 documents: DocumentCache | None = None) -> None:
        """`documents`: the endpoint's cache, whose rules (the app's query limits) a document
        must pass to be persisted here; one they refuse keeps being refused as they say."""
        self.schema = schema
        prepared = [_prepare(schema, lean) for lean in operations]
        self._by_query = {p.query: p for p in prepared
                          if documents is None or documents.get(p.query)[0] is not None}

    def match(self, query: str, operation_name: str | None, variables: dict[str, Any],
              principal: object) -> tuple[Prepared, Any] | None:
        """The persisted operation this request sends, for this caller, and its coerced input;
        or None."""
        prepared = self._by_query.get(query)
        if (prepared is None or operation_name not in (None, prepared.name)
                or not isinstance(principal, prepared.lean.principal)):
            return None
        if prepared.variables is None:
            given = variables.get("input")
        else:  # a variable left out is graphql-core's error to report, not a null
            given = {name: variables.get(variable, _ABSENT)
                     for name, variable in prepared.variables}
            if _ABSENT in given.values():
                return None
        coerced = plain_input(prepared.input_type, given)
        return None if coerced is _NOT_PLAIN else (prepared, coerced)

    def execute(self, prepared: Prepared, coerced: Any, context: RequestContext,
                variables: dict[str, Any]) -> ExecutionResult:
        try:
            payload = prepared.lean.mutation.answer(context, coerced)
        except Exception as error:  # noqa: BLE001 - answered as graphql-core answers it
            failure = error

            def raise_it() -> Any:
                raise failure

            return self._completed_generally(prepared, context, variables, raise_it)
        try:
            return ExecutionResult({prepared.key: prepared.answer(payload, context)}, None)
        except Exception:  # noqa: BLE001 - graphql-core completes it, errors and all
            return self._completed_generally(prepared, context, variables, lambda: payload)

    def _completed_generally(self, prepared: Prepared, context: RequestContext,
                             variables: dict[str, Any],
                             resolved: Callable[[], Any]) -> ExecutionResult:
        """What graphql-core's `execute_field` makes of the root field resolving to
        `resolved()`: the same completion, error location, path and null."""
        built = PlainLeavesExecutionContext.build(
            self.schema, prepared.document, None, context, variables, prepared.name,
            is_awaitable=_never)
        assert isinstance(built, PlainLeavesExecutionContext), built  # variables coerced before
        nodes = [prepared.node]
        path = Path(None, prepared.key, prepared.root.name)
        info = built.build_resolve_info(prepared.field, nodes, prepared.root, path)
        collected = built.collected_errors
        try:
            try:
                value = built.complete_value(prepared.field.type, nodes, info, path, resolved())
            except Exception as raw_error:  # noqa: BLE001 - as execute_field catches it
                built.handle_field_error(located_error(raw_error, nodes, path.as_list()),
                                         prepared.field.type, path)
                value = None
        except GraphQLError as error:  # a non-null root field: the whole data is null
            collected.add(error, None)
            return built.build_response(None, collected.errors)
        return built.build_response({prepared.key: value}, collected.errors)
