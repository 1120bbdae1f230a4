"""Coupon codes, as pure functions: the hub's own (Crockford base32 with a check character) and
a partner's uploaded pool (CSV, every bad line reported with its number).

Every code is kept in one canonical form (upper case, no spaces or hyphens), so a till that
types `abcd-1234` finds `ABCD1234`, and two lines that differ only so are duplicates.

Hub codes carry 13 random symbols (65 bits from `secrets`: unguessable) and Crockford's mod-37
check symbol. Draws whose check value would be one of the five extra symbols (`*~$=U`) are
redrawn, so every code is letters and digits only (fit for a QR code, a till's keyboard and a
phone call) at the cost of a fifth of a bit. A mistyped symbol, or two neighbours swapped, fails
the check, so the till is told "mistyped" rather than "unknown".
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CHECK_SYMBOLS = ALPHABET + "*~$=U"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# What a person may type for a symbol that is not in the alphabet (Crockford's decoding).
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
DATA_SYMBOLS = 13
HUB_CODE_LENGTH = DATA_SYMBOLS + 1

MAX_CODES_PER_UPLOAD = 100_000
MIN_LENGTH, MAX_LENGTH = 4, 64
_POOL_CODE = re.compile(r"[A-Z0-9_.-]+")


def canonical(code: str) -> str:
    """Upper case, spaces and hyphens dropped: the form codes are stored and looked up in."""
    return "".join(code.split()).replace("-", "").upper()


def check_symbol(data: str) -> str:
    value = 0
    for symbol in data:
        value = value * 32 + _VALUE[symbol]
    return CHECK_SYMBOLS[value % 37]


# A random byte as a symbol: its low five bits (256 = 8 x 32, so every symbol is equally
# likely, as `secrets.choice` draws them). One `token_bytes` and one `translate` per code: a
# `secrets.choice` per symbol cost a purchase about a tenth of its hub time (cProfile).
_SYMBOL_OF_BYTE = bytes(ord(ALPHABET[b % 32]) for b in range(256))


def generate() -> str:
    """A new hub code in canonical form (14 symbols, the last the check)."""
    while True:
        data = secrets.token_bytes(DATA_SYMBOLS).translate(_SYMBOL_OF_BYTE).decode("ascii")
        check = check_symbol(data)
        if check in ALPHABET:
            return data + check


def as_hub_code(typed: str) -> str | None:
    """`typed` read as a hub code (O as 0, I and L as 1), or None if it cannot be one."""
    code = canonical(typed).translate(_READ_AS)
    if len(code) != HUB_CODE_LENGTH or any(c not in _VALUE for c in code):
        return None
    return code


def check_ok(code: str) -> bool:
    return check_symbol(code[:-1]) == code[-1]


def printable(code: str, generated: bool) -> str:
    """How a member sees a code: a hub code in groups of four, a pool code as uploaded."""
    if not generated:
        return code
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int
    code: str  # CODE_MALFORMED | CODE_DUPLICATE_IN_FILE | CODE_EXISTS
    message: str


def parse_csv(text: str) -> tuple[list[tuple[int, str]], list[LineProblem]]:
    """The codes of an upload (first column; a first line `code` is a header) as (line number,
    canonical code), and every problem by line number. Blank lines are skipped; nothing else
    is."""
    codes: list[tuple[int, str]] = []
    problems: list[LineProblem] = []
    first_line: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        raw = row[0].strip()
        if number == 1 and raw.lower() == "code":
            continue
        code = canonical(raw)
        if len(row) > 1 and any(cell.strip() for cell in row[1:]):
            problems.append(LineProblem(number, "CODE_MALFORMED",
                                        f"line {number}: one code a line, found {len(row)} "
                                        "columns"))
        elif not MIN_LENGTH <= len(code) <= MAX_LENGTH or not _POOL_CODE.fullmatch(code):
            problems.append(LineProblem(
                number, "CODE_MALFORMED",
                f"line {number}: {raw[:80]!r} is not a code ({MIN_LENGTH} to {MAX_LENGTH} "
                "letters, digits, '.', '_' or '-')"))
        elif code in first_line:
            problems.append(LineProblem(number, "CODE_DUPLICATE_IN_FILE",
                                        f"line {number}: {code} is already on line "
                                        f"{first_line[code]}"))
        else:
            first_line[code] = number
            codes.append((number, code))
    return codes, problems
