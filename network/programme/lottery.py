"""A verifiable lottery draw: the pure rules (no database), so anyone can re-run them.

Commit-reveal, as `pointsnet lottery verify` checks it from the four published files:

1. When a draw opens the hub makes a secret 32-byte seed and publishes
   `commitment = sha256(seed)` (commitment.txt). The seed cannot change after that.
2. Each entry gets a public **entry hash**, `sha256(salt || draw code || ":" || entry id)` in hex,
   where `salt` is a second per-draw secret that is never published: the hashes name no member,
   and no one can map them back to entry ids. A member sees their own hashes on their wallet.
3. When entries close the hub freezes the list: every entry hash, sorted ascending, one a line
   (entries.txt). Sorting makes the list independent of the order members entered in.
4. Then it reveals the seed (seed.txt) and draws: winners are the first `n` entries of a
   Fisher-Yates shuffle of the frozen list driven by `HMAC-SHA256(seed, ...)`, where `n` is the
   number of prizes (or of entries, if fewer) (winners.txt: `position hash` a line; prize
   positions are given in order, the first prize's count first).

The random index for step i of the shuffle is drawn without modulo bias: the 256-bit integer
`HMAC-SHA256(seed, b"pointsnet-lottery-v1|" + code + b"|" + list + b"|" + i + b"|" + attempt)`
(list: the 32-byte sha256 of entries.txt as published, i and attempt as 8-byte big-endian) is
accepted only below the largest multiple of the range, otherwise the next attempt is tried.
The list's digest is in the message so that every entry counts: a list with one entry dropped,
added or changed (even one that did not win) draws other winners, and verify sees it.

What this proves: the seed was fixed before any entry (its commitment was public), and the
winners follow from it and the published list alone. A member checks their own entry hashes are
on the list, and the count of entries can be set against the points paid to enter.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

DOMAIN = b"pointsnet-lottery-v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TOP = 1 << 256


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def entry_hash(salt: bytes, draw_code: str, entry_id: int) -> str:
    """An entry's public name: reveals neither the member nor the entry id."""
    return hashlib.sha256(salt + draw_code.encode() + b":" + str(entry_id).encode()).hexdigest()


def entries_text(entries: Sequence[str]) -> str:
    """entries.txt exactly as published: the sorted hashes, one a line."""
    return "".join(f"{h}\n" for h in sorted(entries))


def _uniform(seed: bytes, draw_code: str, listed: bytes, step: int, bound: int) -> int:
    """A uniform integer in [0, bound) from the seed, by rejection sampling."""
    limit = _TOP - _TOP % bound
    attempt = 0
    while True:
        message = b"|".join((DOMAIN, draw_code.encode(), listed, step.to_bytes(8, "big"),
                             attempt.to_bytes(8, "big")))
        value = int.from_bytes(hmac.new(seed, message, hashlib.sha256).digest(), "big")
        if value < limit:
            return value % bound
        attempt += 1  # happens with probability below 2**-128 for any realistic bound


def winners(seed: bytes, draw_code: str, entries: Sequence[str], prizes: int) -> list[str]:
    """The winning entry hashes in prize order: a partial Fisher-Yates shuffle of the list."""
    pool = sorted(entries)
    listed = hashlib.sha256(entries_text(pool).encode()).digest()
    count = min(prizes, len(pool))
    for i in range(count):
        j = i + _uniform(seed, draw_code, listed, i, len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]


# --- The published files ----------------------------------------------------------------------

COMMITMENT, ENTRIES, SEED, WINNERS = "commitment.txt", "entries.txt", "seed.txt", "winners.txt"


@dataclass(frozen=True)
class Published:
    """What a draw publishes, as text files a member can read and keep."""

    draw_code: str
    prizes: int
    commitment: str
    entries: tuple[str, ...] | None = None  # after entries close
    seed: bytes | None = None  # after the draw
    winners: tuple[str, ...] | None = None

    def files(self) -> dict[str, str]:
        out = {COMMITMENT: f"draw {self.draw_code}\nprizes {self.prizes}\n"
                           f"commitment {self.commitment}\n"}
        if self.entries is not None:
            out[ENTRIES] = entries_text(self.entries)
        if self.seed is not None:
            out[SEED] = f"{self.seed.hex()}\n"
        if self.winners is not None:
            out[WINNERS] = "".join(f"{i} {h}\n" for i, h in enumerate(self.winners, 1))
        return out


class FileProblem(ValueError):
    """A published file that cannot be read as what it should be."""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_commitment(text: str) -> tuple[str, int, str]:
    """(draw code, prizes, commitment) from commitment.txt."""
    fields: dict[str, str] = {}
    for line in _lines(text):
        key, _, value = line.partition(" ")
        fields[key] = value.strip()
    code, prizes, digest = fields.get("draw"), fields.get("prizes"), fields.get("commitment")
    if not code or not prizes or not prizes.isdigit() or not digest or not _HEX64.fullmatch(digest):
        raise FileProblem(f"{COMMITMENT}: needs the lines 'draw CODE', 'prizes N' and "
                          "'commitment <64 hex digits>'")
    return code, int(prizes), digest


def parse_entries(text: str) -> list[str]:
    entries = _lines(text)
    for number, line in enumerate(entries, 1):
        if not _HEX64.fullmatch(line):
            raise FileProblem(f"{ENTRIES} line {number}: not an entry hash (64 hex digits)")
    if entries != sorted(entries):
        raise FileProblem(f"{ENTRIES}: the entry hashes are not in ascending order")
    if len(set(entries)) != len(entries):
        raise FileProblem(f"{ENTRIES}: an entry hash appears twice")
    return entries


def parse_seed(text: str) -> bytes:
    lines = _lines(text)
    if len(lines) != 1 or not re.fullmatch(r"[0-9a-f]{64}", lines[0]):
        raise FileProblem(f"{SEED}: needs one line of 64 hex digits (the 32-byte seed)")
    return bytes.fromhex(lines[0])


def parse_winners(text: str) -> list[str]:
    found = []
    for number, line in enumerate(_lines(text), 1):
        position, _, digest = line.partition(" ")
        if position != str(number) or not _HEX64.fullmatch(digest.strip()):
            raise FileProblem(f"{WINNERS} line {number}: expected '{number} <entry hash>'")
        found.append(digest.strip())
    return found


def verify(files: dict[str, str]) -> list[str]:
    """Every difference between the published files and a recomputed draw (empty: MATCH).

    `files` maps the four file names to their text; a missing one is a difference too.
    """
    missing = [name for name in (COMMITMENT, ENTRIES, SEED, WINNERS) if name not in files]
    if missing:
        when = {COMMITMENT: "published when the draw opens",
                ENTRIES: "published when entries close", SEED: "published by the draw",
                WINNERS: "published by the draw"}
        return [f"{name}: missing ({when[name]})" for name in missing]
    try:
        code, prizes, digest = parse_commitment(files[COMMITMENT])
        entries = parse_entries(files[ENTRIES])
        seed = parse_seed(files[SEED])
        published = parse_winners(files[WINNERS])
    except FileProblem as exc:
        return [str(exc)]
    problems = []
    if commitment(seed) != digest:
        problems.append(f"{SEED}: sha256 of the seed is {commitment(seed)}, but the commitment "
                        f"published when the draw opened is {digest}")
    expected = winners(seed, code, entries, prizes)
    if len(published) != len(expected):
        problems.append(f"{WINNERS}: {len(published)} winners listed; the draw gives "
                        f"{len(expected)} ({prizes} prizes, {len(entries)} entries)")
    for position, (got, want) in enumerate(zip(published, expected, strict=False), 1):
        if got != want:
            problems.append(f"{WINNERS} position {position}: lists {got}, the seed and the "
                            f"entries give {want}")
    return problems
