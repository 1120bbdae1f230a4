"""The member card's QR code, as inline SVG so the page needs no image request and no JS."""

from __future__ import annotations

from functools import lru_cache

import segno


@lru_cache(maxsize=4096)
def card_svg(card_number: str, title: str) -> str:
    """A scannable QR of the bare card number (what till scanners type into the card field).

    The mask pattern is fixed instead of chosen by scoring all eight: every mask is valid and
    announced in the symbol's format bits, and scoring them cost ~2 ms of the page's ~5 ms.
    """
    qr = segno.make(card_number, error="m", micro=False, mask=0)
    return qr.svg_inline(scale=1, border=2, dark="#111", light="#fff", title=title,
                         svgclass="qr", omitsize=True)
