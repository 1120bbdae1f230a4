"""The API contract: graphql/schema.graphql matches the code, and every documented operation
(graphql/operations/partner and member) is valid against it; the partner tests execute exactly
these files."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from infra.schema import schema, sdl
from tests.partners.conftest import OPERATIONS

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "graphql" / "schema.graphql"


def test_exported_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), (
        "graphql/schema.graphql is out of date: run `pointsnet schema export`"
    )


DOCUMENTED = sorted(OPERATIONS.parent.glob("*/*.graphql"))


@pytest.mark.parametrize("path", DOCUMENTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_documented_operation_is_valid(path: Path) -> None:
    document = parse(path.read_text())
    assert validate(schema.graphql_schema, document) == []
    [definition] = document.definitions
    assert definition.name.value == path.stem  # type: ignore[attr-defined]


def test_every_partner_root_field_has_a_documented_operation() -> None:
    from partners.scopes import FIELD_SCOPES

    documented = "\n".join(p.read_text() for p in OPERATIONS.glob("*.graphql"))
    for field in FIELD_SCOPES:
        assert f"{field}(" in documented, field
