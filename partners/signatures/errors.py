"""One exception with a stable machine code, so every caller (HTTP 401 body, CLI verdict) can
say exactly which check failed instead of a bare "unauthorized"."""

from __future__ import annotations


class SignatureError(Exception):
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    SIGNATURE_MALFORMED = "SIGNATURE_MALFORMED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SIGNATURE_EXPIRED = "SIGNATURE_EXPIRED"
    ALGORITHM_UNSUPPORTED = "ALGORITHM_UNSUPPORTED"
    COMPONENT_UNRESOLVABLE = "COMPONENT_UNRESOLVABLE"

    def __init__(self, code: str, message: str, *, label: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.label = label
