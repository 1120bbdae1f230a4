"""Depth, alias, cost and body-size limits, and introspection off in production, as a partner
meets them over HTTP."""

from __future__ import annotations

from infra.app import create_app
from network.config import Settings
from tests.partners.conftest import BASE_URL, Hub, TestClient, error_code, gql_body, post_signed


def _codes(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.get("extensions", {}).get("code") for e in response.json()["errors"]}


def test_too_deep(hub: Hub) -> None:
    query = "{ " + "partner { " * 13 + "code" + " }" * 13 + " }"
    response = post_signed(hub, gql_body(query))
    assert response.status_code == 400
    assert "QUERY_TOO_DEEP" in _codes(response)


def test_too_many_aliases(hub: Hub) -> None:
    query = "{ " + " ".join(f"a{i}: partner {{ code }}" for i in range(31)) + " }"
    response = post_signed(hub, gql_body(query))
    assert response.status_code == 400 and _codes(response) == {"TOO_MANY_ALIASES"}
    ok = "{ " + " ".join(f"a{i}: partner {{ code }}" for i in range(30)) + " }"
    assert post_signed(hub, gql_body(ok)).status_code == 200


def test_too_costly(hub: Hub) -> None:
    selection = (
        "partner { transactions(first: 100) { edges { node "
        "{ id kind points reference bookedAt memberId reverses holdId } } } }"
    )
    query = "{ " + " ".join(f"t{i}: {selection}" for i in range(25)) + " }"
    response = post_signed(hub, gql_body(query))
    assert response.status_code == 400 and _codes(response) == {"QUERY_TOO_COSTLY"}


def test_body_too_large(hub: Hub) -> None:
    body = gql_body("{ partner { code } }", {"pad": "x" * (2 * 1024 * 1024)})
    response = post_signed(hub, body)
    assert response.status_code == 413 and error_code(response) == "BODY_TOO_LARGE"


def test_introspection_is_off_in_production(hub: Hub) -> None:
    query = gql_body("{ __schema { queryType { name } } }")
    assert (
        hub.http.post(
            "/graphql", content=query, headers={"Content-Type": "application/json"}
        ).status_code
        == 200
    )
    production = Settings(database_url=hub.db.url, env="production", secret_key="prod-secret")
    with TestClient(create_app(production, hub.db), base_url=BASE_URL) as client:
        response = client.post(
            "/graphql", content=query, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert "introspection" in response.json()["errors"][0]["message"].lower()
