"""The smallest QR symbol (version 1, 21 x 21 modules) of a short alphanumeric text, such as a hub
coupon code (`3R96-TRCP-RYBP-6M`), or of a short run of digits, such as a member's card number
(`7012345678901232`, segno's numeric mode), exactly as `segno.make(text, error="m", micro=False,
mask=0)` builds it, in a tenth of its time.

A bought coupon's answer carries its QR, and segno's encoder was about a third of the hub's CPU
for a purchase, and the card's QR on every wallet page cost it about 2 ms under load (about 0.1
ms here): it builds every symbol from scratch (the function patterns, a Python step per module
to place the bits and another to mask them). With the version, the error level and the
mask fixed, a symbol is a fixed picture (finder, timing and format patterns, and the mask over the
data region) with each bit of the message flipped at its fixed place. Both are taken once per
error level from segno's own functions (`_layout`); per text only the message (mode, count, data,
padding and Reed-Solomon codewords, ISO/IEC 18004 7.4 to 7.6) is computed here, as segno
computes it, with segno's Galois-field tables. Texts this does not cover (other characters, more
than 20 alphanumeric symbols or 34 digits) return None and segno draws them.
tests/network/test_qr.py compares the two on many texts.
"""

from __future__ import annotations

import functools

from segno import consts, encoder

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHANUMERIC)}
SIZE = 21
# segno's error levels, lowest to highest, as boost_error_level raises them from M.
_BOOST_FROM_M = (consts.ERROR_LEVEL_M, consts.ERROR_LEVEL_Q, consts.ERROR_LEVEL_H)
_PADS = (0b11101100, 0b00010001)


def _error_words(data: list[int], degree: int) -> list[int]:
    """The Reed-Solomon error codewords of `data`, with segno's own tables (its make_blocks
    computes the same, around a buffer of bits this module does not build)."""
    gen, log, exp = consts.GEN_POLY[degree], consts.GALIOS_LOG, consts.GALIOS_EXP
    rest = data + [0] * degree
    for k in range(len(data)):
        coef = rest[k]
        if coef:
            lcoef = log[coef]
            for n, g in enumerate(gen, k + 1):
                rest[n] ^= exp[lcoef + g]
    return rest[len(data):]


@functools.cache
def _layout(error: int) -> tuple[tuple[bytes, ...], tuple[tuple[int, int], ...], int, int]:
    """(the symbol with every message bit 0, masked and with its format information; each
    message bit's (row, column) in placement order; data codewords; error codewords)."""
    [block] = consts.ECC[1][error]
    assert block.num_blocks == 1
    total = block.num_total
    # Placement order: every message bit given its own number (8 * 26 = 208 fit in a byte,
    # above segno's 0, 1 and its 2 for "not yet set").
    numbered = encoder.make_matrix(SIZE, SIZE)
    encoder.add_finder_patterns(numbered, SIZE, SIZE)
    encoder.add_alignment_patterns(numbered, SIZE, SIZE)
    encoder.add_codewords(numbered, list(range(3, 3 + 8 * total)), 1)
    places = {value - 3: (i, j) for i, row in enumerate(numbered)
              for j, value in enumerate(row) if value >= 3}
    blank = encoder.make_matrix(SIZE, SIZE)
    encoder.add_finder_patterns(blank, SIZE, SIZE)
    encoder.add_alignment_patterns(blank, SIZE, SIZE)
    encoder.add_codewords(blank, [0] * (8 * total), 1)
    _, blank = encoder.find_and_apply_best_mask(blank, SIZE, SIZE, 0)
    encoder.add_format_info(blank, 1, error, 0)
    return (tuple(bytes(row) for row in blank), tuple(places[k] for k in range(8 * total)),
            block.num_data, total - block.num_data)


def _numeric(text: str) -> tuple[int, int]:
    """Digits as segno's numeric mode writes them: mode 0001, the count in 10 bits, groups of
    three digits in 10 bits, a last group of two in 7, of one in 4 (ISO/IEC 18004 7.4.3)."""
    n = len(text)
    stream, bits = (0b0001 << 10) | n, 4 + 10
    for i in range(0, n, 3):
        group = text[i:i + 3]
        width = (4, 7, 10)[len(group) - 1]
        stream = (stream << width) | int(group)
        bits += width
    return stream, bits


def _alphanumeric(text: str) -> tuple[int, int]:
    """Mode 0010, the count in 9 bits, pairs of symbols in 11 bits, a last single one in 6."""
    n = len(text)
    stream = (0b0010 << 9) | n
    for i in range(0, n - 1, 2):
        stream = (stream << 11) | (_VALUE[text[i]] * 45 + _VALUE[text[i + 1]])
    if n % 2:
        stream = (stream << 6) | _VALUE[text[-1]]
    return stream, 4 + 9 + 11 * (n // 2) + 6 * (n % 2)


def matrix(text: str) -> list[bytearray] | None:
    """segno's matrix of `text` (rows of 0 and 1 bytes), or None when `text` needs more than
    version 1 in numeric or alphanumeric mode."""
    if not text or not all(c in _VALUE for c in text):
        return None
    # segno's choice of mode: numeric for ASCII digits alone, else alphanumeric.
    stream, bits = _numeric(text) if text.isdigit() else _alphanumeric(text)
    if bits > consts.SYMBOL_CAPACITY[1][_BOOST_FROM_M[0]]:
        return None  # a larger version: segno's
    error = _BOOST_FROM_M[0]
    for level in _BOOST_FROM_M[1:]:  # segno raises the level while the data still fits
        if consts.SYMBOL_CAPACITY[1][level] < bits:
            break
        error = level
    template, places, data_words, error_count = _layout(error)
    capacity = 8 * data_words
    terminator = min(capacity - bits, 4)
    length = bits + terminator
    padding = 8 - length % 8  # segno's: a whole zero byte when already on a byte boundary
    stream <<= terminator + padding
    length += padding
    words = list(stream.to_bytes(length // 8, "big"))
    words += [_PADS[k % 2] for k in range(capacity // 8 - length // 8)]
    words = words[:data_words]
    message = words + _error_words(words, error_count)
    rows = [bytearray(row) for row in template]
    k = 0
    for word in message:
        for shift in range(7, -1, -1):
            if (word >> shift) & 1:
                i, j = places[k]
                rows[i][j] ^= 1
            k += 1
    return rows
