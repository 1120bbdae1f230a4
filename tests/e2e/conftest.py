"""One Chromium per test module (starting one takes seconds), each test with contexts of its
own. Not one per session: a live Playwright keeps its event loop marked as running in the
thread, which would break asyncio.run in the other tests of the same worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.e2e.chromium import CHROMIUM_ARGS, fresh, launched


@pytest.fixture(scope="module")
def _chromium() -> Iterator[Browser]:
    with launched(CHROMIUM_ARGS) as chromium:
        yield chromium


@pytest.fixture
def browser(_chromium: Browser) -> Iterator[Browser]:
    with fresh(_chromium) as chromium:
        yield chromium
