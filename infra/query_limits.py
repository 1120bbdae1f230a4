"""Depth, alias, cost, field and token limits, checked once per distinct document (the result is
cached), and the body limits the endpoint applies before reading a request.

Cost: every field costs 1; a field given `first: n` multiplies what is below it by n, since a
connection of n nodes resolves its selection n times. Fragments are followed, cycles are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
)

from partners import root_fields


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_cost: int = 20_000
    # Fields in the document as written (a fragment's once). The spec's own rules run only on a
    # document within every limit here, and the one that checks that fields can merge grows
    # with the square of the fields sharing a name: 1,000 `__typename` took 500 ms to validate,
    # 300 take 95 ms. The largest documented operation has 47, GraphiQL's introspection 72, and
    # 30 aliased lookups of 9 fields each fit.
    max_fields: int = 300
    # Bodies and documents are bounded before any of their work is done (issue 15: a 2 MB
    # document of 400,000 fields cost 7-24 s of CPU to parse before it was refused).
    max_body_bytes: int = 2 * 1024 * 1024  # signed requests: a 1,000-line batch is ~100 KB
    # Requests without a partner signature (members, staff, the explorer, anyone): nothing they
    # send comes near this, and the body is read before anyone is authenticated.
    max_unsigned_body_bytes: int = 64 * 1024
    # graphql-core's `max_tokens` (comments count too): parsing stops at the first token over
    # it. The largest documented operation has 104 tokens and GraphiQL's introspection 183; a
    # batch's lines travel in `variables`, which are JSON, not tokens.
    max_tokens: int = root_fields.MAX_TOKENS


    def __post_init__(self) -> None:
        # The partner authenticator reads a document's root fields (for its scope check) with
        # its own token limit and sees none in a longer document: the endpoint must never run
        # a document the authenticator could not read.
        if self.max_tokens > root_fields.MAX_TOKENS:
            raise ValueError(f"max_tokens is at most {root_fields.MAX_TOKENS} (partners/"
                             "root_fields.py reads documents only that far)")


@dataclass
class Measure:
    """What a selection set adds up to: `depth` counts its own level and the levels below it."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def add(self, other: Measure) -> None:
        """A fragment's selections, at this same level."""
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.cost += other.cost


# The standard introspection query (GraphiQL's) nests `ofType` 8 deep, depth 15: its depth is
# bounded by graphql-core's own MaxIntrospectionDepthRule instead, and its cost still counts.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def _first_argument(node: FieldNode, variables: dict[str, object]) -> int:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            if isinstance(argument.value, VariableNode):
                # Unknown until execution: assume the cap, the worst a caller can ask for.
                return 100
    return 1


def _measure(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode],
             known: dict[str, Measure], seen: frozenset[str]) -> Measure:
    """Walks a selection set once. Each fragment is measured once (`known`) however often it is
    spread: walking every spread made `F0 { ...F1 ...F1 } F1 { ...F2 ...F2 } …` cost 2^n steps,
    7 s of CPU for a 900-byte document of 22 such fragments."""
    out = Measure(depth=1)
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.alias is not None:
                out.aliases += 1
            if selection.selection_set is None:
                out.cost += 1
                continue
            below = _measure(selection.selection_set, fragments, known, seen)
            if selection.name.value not in INTROSPECTION_ROOTS:
                out.depth = max(out.depth, 1 + below.depth)
            out.aliases += below.aliases
            out.cost += 1 + _first_argument(selection, {}) * below.cost
        elif isinstance(selection, InlineFragmentNode):
            out.add(_measure(selection.selection_set, fragments, known, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue  # the spec's own rules report cycles and unknown fragments
            if name not in known:
                known[name] = _measure(fragments[name].selection_set, fragments, known,
                                       seen | {name})
            out.add(known[name])
    return out


def limit_rule(limits: Limits) -> type[ASTValidationRule]:
    class QueryLimits(ASTValidationRule):
        fields = 0

        def enter_field(self, *_: object) -> None:
            self.fields += 1

        def leave_document(self, *_: object) -> None:
            if self.fields > limits.max_fields:
                self.context.report_error(GraphQLError(
                    f"the document has {self.fields} fields, the limit is {limits.max_fields}",
                    extensions={"code": "TOO_MANY_FIELDS"}))

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            context: ValidationContext = self.context
            fragments = {
                d.name.value: d for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            out = _measure(node.selection_set, fragments, {}, frozenset())
            checks = (
                ("QUERY_TOO_DEEP", out.depth, limits.max_depth, "depth"),
                ("TOO_MANY_ALIASES", out.aliases, limits.max_aliases, "aliases"),
                ("QUERY_TOO_COSTLY", out.cost, limits.max_cost, "cost"),
            )
            for code, value, limit, noun in checks:
                if value > limit:
                    context.report_error(GraphQLError(
                        f"query {noun} is {value}, the limit is {limit}", node,
                        extensions={"code": code}))

    return QueryLimits
