"""Where the browser tests save screenshots for a person to look at: tests/artifacts/shots/<suite>/
(git-ignored), or $POINTSNET_SHOTS/<suite>. Saving them asserts nothing; looking at them is the
point (phone and desktop, English and Persian)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("POINTSNET_SHOTS")
            or Path(__file__).resolve().parents[1] / "artifacts" / "shots")


def shots_dir(suite: str) -> Path:
    return ROOT / suite
