"""The plain-leaf shortcut answers exactly what graphql-core's own executor answers: the same data,
and the same errors at the same paths, whatever the objects behind the fields hold."""

from __future__ import annotations

import enum
from typing import Any

import graphene
from graphql import ExecutionContext, execute, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.field_execution import PlainLeavesExecutionContext


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


ColourType = graphene.Enum.from_enum(Colour)


class Leaf(graphene.ObjectType):
    number = graphene.Int()
    required_number = graphene.Int(required=True)
    text = graphene.String()
    required_text = graphene.String(required=True)
    flag = graphene.Boolean()
    ratio = graphene.Float()
    ident = graphene.ID()
    colour = graphene.Field(ColourType)
    with_default = graphene.Int(default_value=7)
    with_argument = graphene.Int(times=graphene.Int(default_value=2))
    computed = graphene.Int()

    def resolve_with_argument(parent: Any, info: graphene.ResolveInfo, times: int) -> int:
        return times * 10

    def resolve_computed(parent: Any, info: graphene.ResolveInfo) -> int:
        return 42


class Branch(graphene.ObjectType):
    leaf = graphene.Field(Leaf)
    leaves = graphene.List(graphene.NonNull(Leaf))
    required_leaf = graphene.Field(Leaf, required=True)


class Query(graphene.ObjectType):
    branch = graphene.Field(Branch)

    def resolve_branch(root: Any, info: graphene.ResolveInfo) -> Any:
        return info.context


SCHEMA = graphene.Schema(query=Query).graphql_schema
LEAF_FIELDS = ("number requiredNumber text requiredText flag ratio ident colour withDefault "
               "withArgument computed alias: number __typename")
QUERY = parse(f"{{ branch {{ leaf {{ {LEAF_FIELDS} }} leaves {{ {LEAF_FIELDS} }} "
              f"requiredLeaf {{ number }} }} }}")


class Thing:
    """An object whose attributes are the given ones (and nothing else)."""

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


class Exploding:
    @property
    def number(self) -> int:
        raise RuntimeError("boom")


values = st.one_of(
    st.none(), st.integers(min_value=-(2**40), max_value=2**40), st.text(max_size=5),
    st.booleans(), st.floats(allow_nan=True), st.sampled_from([Colour.RED, "BLUE", 3]),
    st.just(ValueError("stored error")), st.lists(st.integers(), max_size=2),
)
leaf_names = ("number", "required_number", "text", "required_text", "flag", "ratio", "ident",
              "colour", "with_default")


@st.composite
def leaves(draw: st.DrawFn) -> Any:
    attributes = draw(st.dictionaries(st.sampled_from(leaf_names), values))
    return attributes if draw(st.booleans()) else Thing(**attributes)


def _answer(context_class: type[ExecutionContext], branch: Any) -> tuple[Any, list[Any]]:
    result = execute(SCHEMA, QUERY, context_value=branch, execution_context_class=context_class)
    return result.data, [error.formatted for error in result.errors or []]


@settings(max_examples=300, deadline=None)
@given(leaf=leaves(), listed=st.lists(leaves(), max_size=3), required=leaves())
def test_the_shortcut_answers_what_graphql_core_answers(leaf: Any, listed: list[Any],
                                                        required: Any) -> None:
    branch = {"leaf": leaf, "leaves": listed, "required_leaf": required}
    assert _answer(PlainLeavesExecutionContext, branch) == _answer(ExecutionContext, branch)


def test_errors_keep_their_paths_and_nulls_propagate() -> None:
    branch = {"leaf": Exploding(), "leaves": [{"required_number": None}, {"number": 5}],
              "required_leaf": {"number": "not a number"}}
    data, errors = _answer(PlainLeavesExecutionContext, branch)
    assert (data, errors) == _answer(ExecutionContext, branch)
    # A non-null field's error ends its object (the rest of `leaf`, the rest of `leaves`).
    assert [(error["path"], error["message"]) for error in errors] == [
        (["branch", "leaf", "number"], "boom"),
        (["branch", "leaf", "requiredNumber"],
         "Cannot return null for non-nullable field Leaf.requiredNumber."),
        (["branch", "leaves", 0, "requiredNumber"],
         "Cannot return null for non-nullable field Leaf.requiredNumber."),
        (["branch", "requiredLeaf", "number"],
         "Int cannot represent non-integer value: 'not a number'"),
    ]
    assert data == {"branch": {"leaf": None, "leaves": None, "requiredLeaf": {"number": None}}}


def test_plain_fields_are_read_directly_and_others_resolve_as_declared() -> None:
    branch = {"leaf": Thing(number=3, text="سلام", colour=Colour.BLUE, required_number=1,
                            required_text="x"),
              "leaves": [], "required_leaf": {"number": 1}}
    data, errors = _answer(PlainLeavesExecutionContext, branch)
    assert errors == []
    assert data["branch"]["leaf"] == {
        "number": 3, "requiredNumber": 1, "text": "سلام", "requiredText": "x", "flag": None,
        "ratio": None, "ident": None, "colour": "BLUE", "withDefault": 7, "withArgument": 20,
        "computed": 42, "alias": 3, "__typename": "Leaf"}
