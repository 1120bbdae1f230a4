"""Who is calling: the principals the hub knows, and the error an authenticator raises.

An authenticator is `(request, body) -> Principal | None`: None means "not my kind of credential,
ask the next one"; AuthError means "my kind, and it failed", with a stable code that names the
check (SIGNATURE_EXPIRED, not "unauthorized"). It may block on the database: the GraphQL endpoint
calls it in a worker thread, in the same trip to the thread pool as the execution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, object]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


@dataclass(frozen=True)
class PartnerPrincipal:
    party_id: int
    key_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def scope(self) -> str:
        """The idempotency scope of this caller."""
        return f"partner:{self.party_id}"


@dataclass(frozen=True)
class MemberPrincipal:
    member_id: int
    session_id: int | None = None

    @property
    def scope(self) -> str:
        return f"member:{self.member_id}"


@dataclass(frozen=True)
class StaffPrincipal:
    staff_id: int
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def scope(self) -> str:
        return f"staff:{self.staff_id}"


Principal = PartnerPrincipal | MemberPrincipal | StaffPrincipal
Authenticator = Callable[["Request", bytes], Principal | None]
