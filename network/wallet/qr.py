"""The member card's QR code, as inline SVG so the page needs no image request and no JS."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import escape

import segno

from network.wallet import qr_version1

BORDER = 2  # modules of quiet zone around the symbol
_DARK_RUNS = re.compile(rb"\x01+")


@lru_cache(maxsize=4096)
def card_svg(card_number: str, title: str) -> str:
    """A scannable QR of the bare card number (what till scanners type into the card field).

    The mask pattern is fixed instead of chosen by scoring all eight: every mask is valid and
    announced in the symbol's format bits, and scoring them cost ~2 ms of the page's ~5 ms.
    A hub coupon code's symbol comes from qr_version1 (segno's, built in a tenth of the time).
    """
    rows = qr_version1.matrix(card_number)
    if rows is None:
        rows = segno.make(card_number, error="m", micro=False, mask=0).matrix
    return svg(rows, title)


def svg(matrix: Sequence[bytes | bytearray], title: str) -> str:
    """The symbol as segno's `svg_inline(scale=1, border=BORDER, dark="#111", light="#fff",
    title=title, svgclass="qr", omitsize=True)` writes it, byte for byte (tests/network/
    test_qr.py compares them), at a fraction of its cost: each row's dark runs are found by one
    regular-expression scan instead of a Python step per module, and every run after a row's
    first is a move along the row (`m{gap} 0h{length}`, segno's relative moves), so only the
    first run of a row computes where the pen stopped. A coupon bought over the API answers
    with its QR."""
    size = len(matrix) + 2 * BORDER
    moves: list[str] = []
    x, y = 0, 0.0  # where the pen stopped: each move is relative to it, as segno writes them
    for number, row in enumerate(matrix):
        spans = [run.span() for run in _DARK_RUNS.finditer(row)]
        if not spans:
            continue
        line = number + BORDER + 0.5  # a stroke one module wide along the row's middle
        down = line - y
        start, end = spans[0]
        moves.append(f"{'m' if moves else 'M'}{start + BORDER - x} "
                     f"{int(down) if down == int(down) else down}h{end - start}")
        for start, after in spans[1:]:
            moves.append(f"m{start - end} 0h{after - start}")
            end = after
        x, y = end + BORDER, line
    return (f'<svg viewBox="0 0 {size} {size}" class="qr"><title>{escape(title)}</title>'
            f'<path fill="#fff" d="M0 0h{size}v{size}h-{size}z"/>'
            f'<path class="qrline" stroke="#111" d="{"".join(moves)}"/></svg>')
