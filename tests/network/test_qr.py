"""The QR's SVG writer (network/wallet/qr.svg) writes what segno's own writer writes, byte for
byte, for the codes the hub shows: card numbers, hub coupon codes, pool codes of every length,
and titles that need escaping; the version-1 symbols (network/wallet/qr_version1.py) are
segno's, module for module."""

from __future__ import annotations

import random

import segno

from network import cards
from network.programme import reward_codes
from network.wallet import qr, qr_version1


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


def _segno(text: str) -> list[bytes]:
    return [bytes(row) for row in segno.make(text, error="m", micro=False, mask=0).matrix]


def test_version_1_symbols_are_segnos() -> None:
    """Every length 1 to 20 (so each error level segno boosts to: H up to 10 symbols, Q up to 16,
    M up to 20, and both parities of the last pair), every symbol of the alphabet, hub codes."""
    rnd = random.Random(18)
    texts = [reward_codes.printable(reward_codes.generate(), True) for _ in range(100)]
    texts += ["".join(rnd.choice(qr_version1.ALPHANUMERIC) for _ in range(length))
              for length in range(1, 21) for _ in range(40)]
    texts += [qr_version1.ALPHANUMERIC[k:k + 20] for k in range(0, 45, 5)]
    for text in texts:
        rows = qr_version1.matrix(text)
        assert rows is not None, text
        assert [bytes(row) for row in rows] == _segno(text), text


def test_version_1_numeric_symbols_are_segnos() -> None:
    """Digits alone take segno's numeric mode: every length 1 to 34 (each error level segno
    boosts to, each size of the last group of digits), leading zeros, member card numbers."""
    rnd = random.Random(21)
    texts = [cards.generate() for _ in range(200)]
    texts += ["".join(rnd.choice("0123456789") for _ in range(length))
              for length in range(1, 35) for _ in range(20)]
    texts += ["0" * length for length in range(1, 35)] + ["9" * length for length in range(1, 35)]
    for text in texts:
        rows = qr_version1.matrix(text)
        assert rows is not None, text
        assert [bytes(row) for row in rows] == _segno(text), text
    code = cards.generate()
    assert qr.card_svg(code, "Card") == qr.svg(_segno(code), "Card")


def test_what_version_1_leaves_to_segno() -> None:
    """Lower case or other characters (byte mode), Persian digits, more than 20 symbols or 34
    digits (a larger version), nothing at all: None, and card_svg asks segno."""
    for text in ("cafe-0001", "PHARMACY_2026", "A" * 21, "1" * 35, "۱۲۳۴", "", "Z" * 64,
                 "0" * 64):
        assert qr_version1.matrix(text) is None, text
    assert qr.card_svg("cafe-0001", "Card") == qr.svg(_segno("cafe-0001"), "Card")
