"""What the whole app answers for a URL nobody serves or a method a URL does not take: a browser
gets the wallet's not-found page in its language, any other caller a GraphQL-shaped JSON error."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network.db.engine import Database
from tests.network import wallet_world as ww

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def client(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    return TestClient(create_app(ww.settings(), sqlite_db), base_url="https://wallet.test")


@pytest.mark.parametrize(("language", "title"), [("en", "Not found"), ("fa", "پیدا نشد")])
def test_a_browser_gets_the_not_found_page_in_its_language(client, language, title):
    response = client.get("/nope", headers={"Accept": BROWSER, "Accept-Language": language})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}"' in response.text and f"<h1>{title}</h1>" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_language_cookie_decides_as_on_every_other_page(client):
    client.cookies.set("__Host-pn_lang", "fa")
    response = client.get("/nope", headers={"Accept": BROWSER, "Accept-Language": "en"})
    assert 'dir="rtl"' in response.text


def test_a_browser_using_the_wrong_method_gets_the_page_with_405(client):
    response = client.get("/signout", headers={"Accept": BROWSER})
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert "<h1>Not found</h1>" in response.text


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/nope", 404, "NOT_FOUND"),
    ("POST", "/", 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/signout", 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/wallet/static/nothing.js", 404, "NOT_FOUND"),
])
def test_api_clients_get_json_errors(client, method, path, status, code):
    response = client.request(method, path, headers={"Accept": "application/json"},
                              follow_redirects=False)
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": code} and path in error["message"]
    assert client.request(method, path).json()["errors"][0]["extensions"]["code"] == code  # */*


def test_graphql_with_a_trailing_slash_says_where_the_endpoint_is(client):
    response = client.post("/graphql/", json={"query": "{ __typename }"}, follow_redirects=False)
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND" and "/graphql," in error["message"]
    assert client.post("/graphql", json={"query": "{ __typename }"}).status_code == 200


def test_member_pages_still_forgive_a_trailing_slash(client):
    response = client.get("/wallet/", headers={"Accept": BROWSER}, follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"].endswith("/wallet")


def test_production_graphql_get_keeps_its_own_405(sqlite_db, monkeypatch):
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    settings = ww.settings("production")
    response = TestClient(create_app(settings, sqlite_db)).get("/graphql")
    assert response.status_code == 405
    assert response.json() == {"errors": [{"message": "POST GraphQL requests to this URL",
                                           "extensions": {"code": "METHOD_NOT_ALLOWED"}}]}
