"""The QR's SVG writer (network/wallet/qr.svg) writes what segno's own writer writes, byte for
byte, for the codes the hub shows: card numbers, hub coupon codes, pool codes of every length,
and titles that need escaping."""

from __future__ import annotations

import segno

from network import cards
from network.programme import reward_codes
from network.wallet import qr


def test_the_svg_is_segnos_own() -> None:
    codes = ([cards.generate() for _ in range(20)]
             + [reward_codes.printable(reward_codes.generate(), True) for _ in range(50)]
             + ["CAFE", "CAFE-0001", "pharmacy.2026_x-9", "Z" * 64, "0" * 64])
    for code in codes:
        symbol = segno.make(code, error="m", micro=False, mask=0)
        for title in ("Coupon code", "کد تخفیف", 'a <b> & "c"'):
            assert qr.svg(symbol.matrix, title) == symbol.svg_inline(
                scale=1, border=qr.BORDER, dark="#111", light="#fff", title=title,
                svgclass="qr", omitsize=True)


def test_card_svg_draws_the_code() -> None:
    drawn = qr.card_svg("3R96-TRCP-RYBP-6M", "Coupon code")
    assert drawn.startswith('<svg viewBox="0 0 25 25" class="qr"><title>Coupon code</title>')
    assert drawn.endswith('"/></svg>') and drawn.count("<path") == 2
