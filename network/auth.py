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

from network.errors import HubError

if TYPE_CHECKING:
    from starlette.requests import Request


class AuthError(HubError):
    """An HTTP 401/403 refusal of the whole request, before any field runs.

    A HubError for its shape (code, message; `field` is always None: no input field is at
    fault, the credential is), but never a userError: it is answered by the endpoint with its
    HTTP `status` and no `data`, so it appears in no mutation's error-code enum. Its codes are
    the README's authentication table."""

    code = "UNAUTHORIZED"

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status

    def response_body(self) -> dict[str, object]:
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
