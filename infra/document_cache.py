"""Parse + validate costs ~2.5 ms and executing ~0.14 ms, so validated documents are cached:
a bounded LRU keyed by the query text alone (variables stay out, so one entry serves all calls).

The cache fills before any signature is checked (anonymous callers may read public fields), so
it is bounded by size as well as by count: a parsed document takes up to ~100 times its text,
and 512 unique 2 MiB texts once grew the server by hundreds of MB. Query texts over
MAX_DOCUMENT_CHARS are parsed and validated on every request and never kept; the texts kept
add up to at most MAX_TOTAL_CHARS. Every documented operation is well under 1 KiB.

Parsing stops after `max_tokens` tokens (TOO_MANY_TOKENS): parse and validate grow with the
tokens (validating repeated fields more than linearly), and a 2 MB text of 400,000 fields took
seconds of CPU to parse before any limit could refuse it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
    validate,
)

MAX_DOCUMENT_CHARS = 16 * 1024
MAX_TOTAL_CHARS = 512 * 1024
MAX_TOKENS = 1_000  # query_limits.Limits.max_tokens, the app's own setting

Checked = tuple[DocumentNode | None, list[GraphQLError]]


class DocumentCache:
    def __init__(self, schema: GraphQLSchema, extra_rules: Sequence[type[ASTValidationRule]],
                 max_entries: int = 512, max_document_chars: int = MAX_DOCUMENT_CHARS,
                 max_total_chars: int = MAX_TOTAL_CHARS, max_tokens: int = MAX_TOKENS) -> None:
        self.schema = schema
        self.extra_rules = list(extra_rules)
        self.max_entries = max_entries
        self.max_document_chars = max_document_chars
        self.max_total_chars = max_total_chars
        self.max_tokens = max_tokens
        self._entries: OrderedDict[str, Checked] = OrderedDict()
        self.total_chars = 0  # of the query texts held, the keys of _entries
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Checked:
        with self._lock:
            found = self._entries.get(query)
            if found is not None:
                self._entries.move_to_end(query)
                self.hits += 1
                return found
        self.misses += 1
        result = self._check(query)
        if len(query) > self.max_document_chars:
            return result
        with self._lock:
            if query not in self._entries:  # another thread may have checked it meanwhile
                self.total_chars += len(query)
            self._entries[query] = result
            while (len(self._entries) > self.max_entries
                   or self.total_chars > self.max_total_chars):
                evicted, _ = self._entries.popitem(last=False)
                self.total_chars -= len(evicted)
        return result

    def _check(self, query: str) -> Checked:
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError as error:
            too_long = "Parsing aborted" in error.message  # graphql-core's words for max_tokens
            if too_long:
                error.message = (f"the document has more than {self.max_tokens} tokens; send "
                                 "values in variables, or split the query")
            error.extensions = {"code": "TOO_MANY_TOKENS" if too_long else "GRAPHQL_PARSE_FAILED"}
            return None, [error]
        # The hub's own limits first (one cheap walk): the spec's rules run only on a document
        # within them, as some grow faster than the document (see query_limits.max_fields).
        errors = validate(self.schema, document, self.extra_rules)
        if not errors:
            errors = validate(self.schema, document, specified_rules)
        for error in errors:
            if not error.extensions:
                error.extensions = {"code": "GRAPHQL_VALIDATION_FAILED"}
        return (None if errors else document), list(errors)
