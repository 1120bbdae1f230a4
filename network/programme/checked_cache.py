"""A value per database kept by this process and checked, not re-read, on use: what the campaign
index (network/programme/store.py) and the tier ladder (network/programme/ladder_store.py) do so
that an earn pays no round trip to learn that nothing changed.

For `ttl()` seconds after its last check a value is used as it is; after that one cheap read
(`token`: a version number, the newest row) says whether it changed, and only then is it built
again. A change made in this process drops the key at once (`drop`), so this process never uses
a stale value; another process's change is seen within the ttl.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class _Entry(Generic[T]):
    token: Any
    value: T
    checked: float  # time.monotonic() of the last check


class CheckedCache(Generic[T]):
    def __init__(self, ttl: Callable[[], float]) -> None:
        self._ttl = ttl  # read on every use, so a module's constant stays the one setting
        self._entries: dict[str, _Entry[T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, token: Callable[[], Any], build: Callable[[Any], T],
            at: float | None = None) -> T:
        """The value for `key` (a database URL); `at`: a time.monotonic() reading, given by
        tests."""
        now = time.monotonic() if at is None else at
        entry = self._entries.get(key)
        if entry is not None and now - entry.checked < self._ttl():
            return entry.value
        current = token()
        if entry is not None and entry.token == current:
            entry.checked = now
            return entry.value
        value = build(current)
        with self._lock:
            self._entries[key] = _Entry(current, value, now)
        return value

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
