"""Debian's headless Chromium for the browser tests, driven by Playwright: never a downloaded
Playwright build (the launch checks the version against Debian's binary)."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _debian_chromium_major() -> str:
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True)
    return re.search(r"(\d+)\.", out.stdout).group(1)  # type: ignore[union-attr]


@contextlib.contextmanager
def launched(args: list[str]) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install -y chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        assert chromium.version.split(".")[0] == _debian_chromium_major()
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def fresh(chromium: Browser) -> Iterator[Browser]:
    """`chromium` for one test: the contexts (cookies, pages) it opened are closed after it, so
    the next test starts with none, as with a browser of its own."""
    try:
        yield chromium
    finally:
        for context in chromium.contexts:
            context.close()
