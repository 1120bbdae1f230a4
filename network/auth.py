"""Who is calling: the principals the hub knows, and the error an authenticator raises.

An authenticator is `(request, body) -> Principal | None`: None means "not my kind of credential,
ask the next one"; AuthError means "my kind, and it failed", with a stable code that names the
check (SIGNATURE_EXPIRED, not "unauthorized"). It may block on the database: the GraphQL endpoint
calls it in a worker thread, in the same trip to the thread pool as the execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


class DeferredClaim:
    """A check of the request that writes, left for the request's first write to make: a signed
    request's nonce claim (partners/nonces.py), which a single earn makes inside its own one
    statement (network/ledger/pg_writer.py) instead of a round trip of its own.

    Whoever writes first for the request either embeds `sql` (one INSERT … RETURNING on
    PostgreSQL, named parameters `params`) as a CTE that its writes depend on and reports the
    outcome with `settle`, or calls `claim` (its own statement) before writing. The endpoint
    calls `claim` after the operation ran, for an operation that wrote nothing. A refused claim
    raises ClaimRefused and is remembered (`refusal`): the endpoint answers it (HTTP 401), never
    what the operation made of it, and nothing was written."""

    def __init__(self, sql: str, params: Mapping[str, Any], alone: Callable[[], bool],
                 refusal: Callable[[], AuthError], after: Callable[[], None]) -> None:
        self.sql, self.params = sql, params
        self._alone, self._why, self._after = alone, refusal, after
        self.claimed = False
        self.refusal: AuthError | None = None

    def claim(self) -> None:
        """Make the claim in a statement of its own, unless made already."""
        if not self.claimed:
            self.settle(self._alone())

    def settle(self, claimed: bool) -> None:
        """The outcome of the claim, made alone or inside another statement."""
        if self.refusal is not None:
            raise ClaimRefused(self.refusal)
        if not claimed:
            self.refusal = self._why()
            raise ClaimRefused(self.refusal)
        if not self.claimed:
            self.claimed = True
            self._after()


class ClaimRefused(Exception):  # noqa: N818 - named for what happened, like AuthError's codes
    """A DeferredClaim was refused: not a HubError, so that no mutation turns it into a
    userError; the endpoint answers `error`."""

    def __init__(self, error: AuthError) -> None:
        super().__init__(error.message)
        self.error = error


Principal = PartnerPrincipal | MemberPrincipal | StaffPrincipal
Authenticator = Callable[["Request", bytes], Principal | None]
