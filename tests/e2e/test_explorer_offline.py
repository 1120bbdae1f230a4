"""GET /graphql (the GraphiQL explorer) works with no internet: the page names only the hub's
own URLs, and Debian's headless Chromium, with every request to anywhere else refused and DNS
resolving nothing but 127.0.0.1, loads it and runs a query through it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Request, Route, expect

from infra.explorer import ASSET_TYPES, ASSETS
from tests.e2e.chromium import CHROMIUM_ARGS, launched
from tests.e2e.shots import shots_dir
from tests.e2e.test_wallet_browser import DESKTOP, PHONE
from tests.support.hub_process import hub_process

SHOTS = shots_dir("i22scale")
# Belt and braces beside the request filter below: the browser cannot resolve any other host.
OFFLINE_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


class _Urls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture(scope="module")
def hub(pg_url: str) -> Iterator[str]:
    with hub_process(pg_url, "explorer-test-secret", workers=1) as base:
        yield base


def test_the_page_names_only_the_hubs_own_files(hub: str) -> None:
    page = httpx.get(f"{hub}/graphql")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    parser = _Urls()
    parser.feed(page.text)
    assert len(parser.urls) == 5  # the stylesheet and four scripts
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        got = httpx.get(f"{hub}{url}")
        assert got.status_code == 200, url
        assert got.content == (ASSETS / url.rsplit("/", 1)[1]).read_bytes()
    assert "<script>" not in page.text  # no inline script: CSP allows files from the hub only
    for name in ASSET_TYPES:  # no file asks for a source map we do not ship
        assert "sourceMappingURL" not in (ASSETS / name).read_text(encoding="utf-8"), name
    assert httpx.get(f"{hub}/graphql/explorer/../../pyproject.toml").status_code == 404
    assert httpx.get(f"{hub}/graphql/explorer/SHA256SUMS").status_code == 404


@pytest.fixture(scope="module")
def _chromium() -> Iterator[Browser]:
    """This module's Chromium (conftest's `browser` hands it out): DNS resolves 127.0.0.1 only."""
    with launched(OFFLINE_ARGS) as chromium:
        yield chromium


@pytest.mark.browser
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_explorer_runs_a_query_in_chromium_without_network(
        hub: str, browser: Browser, size: str) -> None:
    host = urlsplit(hub).netloc
    refused: list[str] = []
    problems: list[str] = []

    def only_the_hub(route: Route, request: Request) -> None:
        if urlsplit(request.url).netloc == host or request.url.startswith("data:"):
            route.continue_()
        else:
            refused.append(request.url)
            route.abort("internetdisconnected")

    context = browser.new_context(viewport=DESKTOP if size == "desktop" else PHONE,
                                  device_scale_factor=1 if size == "desktop" else 2)
    context.route("**/*", only_the_hub)
    page = context.new_page()
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    page.goto(f"{hub}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible(timeout=20_000)
    # Type a query into CodeMirror through its own API, then run it with the toolbar's button.
    page.evaluate("document.querySelector('.graphiql-query-editor .CodeMirror')"
                  ".CodeMirror.setValue('{ __typename }')")
    page.locator("button.graphiql-execute-button").click()
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"__typename": "Query"', timeout=20_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"explorer_{size}.png"))
    assert refused == []
    assert not [p for p in problems if re.search(r"Content Security Policy|failed:", p)], problems
    context.close()
