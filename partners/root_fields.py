"""Which root fields a GraphQL request selects, known before it executes.

The authenticator needs this to refuse a key without the right scope (403) before any resolver
runs, and an unsigned request for partner fields (401). Parsing alone (no validation) is cheap,
results are cached by query text, and parsing stops after MAX_TOKENS tokens: a longer document
is refused by the endpoint (TOO_MANY_TOKENS) and cannot run, so its root fields do not matter.
"""

from __future__ import annotations

import json
from functools import lru_cache

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from graphql.error import GraphQLError

MAX_TOKENS = 1_000  # as infra/query_limits.Limits.max_tokens (a test checks they agree)


def _collect(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode],
             seen: set[str]) -> set[str]:
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _collect(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                seen.add(name)
                names |= _collect(fragments[name].selection_set, fragments, seen)
    return names


@lru_cache(maxsize=512)
def _root_fields(query: str, operation_name: str | None) -> frozenset[str]:
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return frozenset()  # the executor reports the syntax error; nothing can run
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    if len(operations) != 1:
        return frozenset()  # ambiguous or missing operation: the executor refuses to run it
    return frozenset(_collect(operations[0].selection_set, fragments, set()))


def root_fields(body: bytes) -> frozenset[str]:
    """Root field names of the operation the JSON body asks to run (empty if unreadable)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return frozenset()
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return frozenset()
    name = payload.get("operationName")
    return _root_fields(payload["query"], name if isinstance(name, str) else None)
