"""The HTTP request as the signature layer sees it: method, target URI, field lines, body.

Deliberately independent of any web framework so the same verifier serves the Starlette hub, the
httpx client and the `pointsnet signature verify` command reading a raw request from a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


class MessageError(ValueError):
    """The request cannot be interpreted (bad target URI, unparsable raw message)."""


_DEFAULT_PORTS = {"http": 80, "https": 443}


def combine_lines(lines: Sequence[str]) -> str:
    """A field's value from its lines (RFC 9110 5.3): what a signature covers (RFC 9421 2.1),
    so whoever reads a header after the hub verified it must read it this way too."""
    return ", ".join(line.strip() for line in lines)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target_uri: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        parts = urlsplit(self.target_uri)
        if not parts.scheme or not parts.netloc:
            raise MessageError(f"target URI must be absolute: {self.target_uri!r}")
        # Field lines by lowercased name, built once: a verification looks up a dozen fields.
        by_name: dict[str, list[str]] = {}
        for key, value in self.headers:
            by_name.setdefault(key.lower(), []).append(value)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_by_name", by_name)

    @property
    def scheme(self) -> str:
        return self._parts.scheme.lower()

    @property
    def authority(self) -> str:
        """Host lowercased, default port dropped (RFC 9421 section 2.2.3 via RFC 9110 4.2.3)."""
        host = (self._parts.hostname or "").lower()
        if ":" in host:
            host = f"[{host}]"
        try:
            port = self._parts.port
        except ValueError as exc:
            raise MessageError(f"bad port in {self.target_uri!r}") from exc
        if port is None or port == _DEFAULT_PORTS.get(self.scheme):
            return host
        return f"{host}:{port}"

    @property
    def path(self) -> str:
        return self._parts.path or "/"

    @property
    def query(self) -> str:
        """The query without its leading '?'; empty when absent."""
        return self._parts.query

    def header_lines(self, name: str) -> list[str]:
        """Every field line with this name, in order (names compare case-insensitively)."""
        return list(self._by_name.get(name.lower(), ()))

    def header(self, name: str) -> str | None:
        """The combined field value (lines joined by ', '), or None if the field is absent."""
        lines = self.header_lines(name)
        if not lines:
            return None
        return combine_lines(lines)

    def with_headers(self, extra: list[tuple[str, str]]) -> HttpRequest:
        return HttpRequest(self.method, self.target_uri, (*self.headers, *extra), self.body)
