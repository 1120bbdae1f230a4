"""Depth, alias and cost limits, checked once per distinct document (the result is cached).

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


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_cost: int = 20_000
    # Bodies and documents are bounded before any of their work is done (issue 15: a 2 MB
    # document of 400,000 fields cost 7-24 s of CPU to parse before it was refused).
    max_body_bytes: int = 2 * 1024 * 1024  # signed requests: a 1,000-line batch is ~100 KB
    # Requests without a partner signature (members, staff, the explorer, anyone): nothing they
    # send comes near this, and the body is read before anyone is authenticated.
    max_unsigned_body_bytes: int = 64 * 1024
    # graphql-core's `max_tokens` (comments count too): parsing stops at the first token over
    # it. The largest documented operation has 104 tokens and the introspection query 163; a
    # batch's lines travel in `variables`, which are JSON, not tokens.
    max_tokens: int = 1_000


@dataclass
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def _first_argument(node: FieldNode, variables: dict[str, object]) -> int:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            if isinstance(argument.value, VariableNode):
                # Unknown until execution: assume the cap, the worst a caller can ask for.
                return 100
    return 1


def _measure(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
             depth: int, seen: frozenset[str], out: Measure) -> int:
    """Walks the selection, records depth and aliases, returns the cost of this level."""
    if selection_set is None:
        return 0
    out.depth = max(out.depth, depth)
    cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.alias is not None:
                out.aliases += 1
            below = _measure(selection.selection_set, fragments, depth + 1, seen, out)
            cost += 1 + _first_argument(selection, {}) * below
        elif isinstance(selection, InlineFragmentNode):
            cost += _measure(selection.selection_set, fragments, depth, seen, out)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue  # the spec's own rules report cycles and unknown fragments
            cost += _measure(fragments[name].selection_set, fragments, depth, seen | {name}, out)
    return cost


def limit_rule(limits: Limits) -> type[ASTValidationRule]:
    class QueryLimits(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            context: ValidationContext = self.context
            fragments = {
                d.name.value: d for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            out = Measure()
            out.cost = _measure(node.selection_set, fragments, 1, frozenset(), out)
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
