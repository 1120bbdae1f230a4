"""graphql-core's executor with a shortcut for the field most answers are made of.

Most fields of an answer are leaves read straight off an object: `points`, `index`,
`balanceAfter`, a userError's `code`. graphql-core treats each like any other field: it builds a
twelve-part `GraphQLResolveInfo`, a `Path`, the arguments, calls graphene's default resolver
through two functions, then walks `complete_value`'s type checks down to `serialize`. That is
most of the CPU of a 1,000-line batch answer (about 6,000 such fields).

`PlainLeavesExecutionContext` does the same work directly for a field that (1) graphene resolves
with its default attribute-or-key resolver, (2) takes no arguments and (3) has a scalar or enum
type: it reads the attribute and serializes it. Anything else, and any value the shortcut cannot
finish without an error (null in a non-null field, a failed `serialize`, an attribute that
raises), goes through graphql-core's own `execute_field`, so every error is the one graphql-core
reports, at the same path. Resolvers here are synchronous (`infra.graphql_endpoint` tells
graphql-core so), so the override has no awaitable branch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver, dict_resolver
from graphql import (
    ExecutionContext,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path

_DEFAULT_RESOLVERS = (dict_or_attr_resolver, attr_resolver, dict_resolver)
_NOT_PLAIN = object()  # the shortcut gave up: run the field the general way

Leaf = Callable[[Any], Any]  # source -> serialized value, or _NOT_PLAIN


@functools.cache  # per field of a schema; the hub has one schema, which lives as long as it
def _plain_leaf(parent_type: GraphQLObjectType, field_name: str) -> Leaf | None:
    """How to complete `parent_type.field_name` without graphql-core, or None."""
    field = parent_type.fields.get(field_name)
    if field is None or field.args:
        return None
    resolve = field.resolve
    if not (isinstance(resolve, functools.partial) and resolve.func in _DEFAULT_RESOLVERS
            and len(resolve.args) == 2 and not resolve.keywords):
        return None
    leaf_type = get_nullable_type(field.type)
    if not is_leaf_type(leaf_type):
        return None
    attname, default = resolve.args
    serialize = leaf_type.serialize  # type: ignore[union-attr]
    nullable = not is_non_null_type(field.type)
    by_key = resolve.func is dict_resolver
    by_attribute = resolve.func is attr_resolver

    def complete(source: Any) -> Any:
        try:
            if by_key or (not by_attribute and isinstance(source, dict)):
                value = source.get(attname, default)
            else:
                value = getattr(source, attname, default)
            if value is None or value is Undefined:
                return None if nullable else _NOT_PLAIN
            if isinstance(value, Exception):
                return _NOT_PLAIN
            serialized = serialize(value)
        except Exception:  # noqa: BLE001 - graphql-core's path names the error
            return _NOT_PLAIN
        return _NOT_PLAIN if serialized is None or serialized is Undefined else serialized

    return complete


class PlainLeavesExecutionContext(ExecutionContext):
    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, fields: dict[str, list[FieldNode]]) -> dict[str, Any]:
        if self.middleware_manager is not None:
            return super().execute_fields(parent_type, source_value, path, fields)
        results: dict[str, Any] = {}
        for response_name, field_nodes in fields.items():
            leaf = _plain_leaf(parent_type, field_nodes[0].name.value)
            if leaf is not None:
                value = leaf(source_value)
                if value is not _NOT_PLAIN:
                    results[response_name] = value
                    continue
            result = self.execute_field(parent_type, source_value, field_nodes,
                                        Path(path, response_name, parent_type.name))
            if result is not Undefined:
                results[response_name] = result
        return results


class NotPlain(Exception):
    """A value `leaves` cannot complete as graphql-core would without its error machinery."""


def leaves(schema: GraphQLSchema, type_name: str,
           *names: str) -> Callable[[Any], dict[str, Any]]:
    """source -> {name: serialized value} for plain leaf fields of `type_name`, in the given
    order, completed as `PlainLeavesExecutionContext` completes them; raises NotPlain where
    graphql-core would have to report an error (infra/persisted_operations.py then lets it)."""
    parent = schema.get_type(type_name)
    assert isinstance(parent, GraphQLObjectType)
    readers = [(name, _plain_leaf(parent, name)) for name in names]
    assert all(read is not None for _, read in readers), f"not all plain: {type_name}{names}"

    def read(source: Any) -> dict[str, Any]:
        out = {}
        for name, leaf in readers:
            value = leaf(source)  # type: ignore[misc]
            if value is _NOT_PLAIN:
                raise NotPlain(f"{type_name}.{name}")
            out[name] = value
        return out

    return read
