"""Where the browser tests save screenshots for a person to look at: tests/artifacts/shots/<suite>/
(git-ignored), or $POINTSNET_SHOTS/<suite>. Saving them asserts nothing; looking at them is the
point (phone and desktop, English and Persian)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(os.environ.get("POINTSNET_SHOTS")
            or Path(__file__).resolve().parents[1] / "artifacts" / "shots")


def shots_dir(suite: str) -> Path:
    return ROOT / suite


def shooter(suite: str) -> Callable[[Page, str], None]:
    """`shot(page, name)`: a full-page PNG of the page, `name`.png in the suite's folder."""
    folder = shots_dir(suite)

    def shot(page: Page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shot
