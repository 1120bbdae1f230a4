"""What every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from network.auth import DeferredClaim, MemberPrincipal, PartnerPrincipal, Principal, StaffPrincipal
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.read_database import ReadDatabase

if TYPE_CHECKING:
    from starlette.requests import Request


class PermissionDenied(Exception):
    """A resolver was reached by the wrong kind of caller; rendered as a GraphQL error."""

    code = "FORBIDDEN"


@dataclass
class RequestContext:
    db: Database
    settings: Settings
    principal: Principal | None = None
    request: Request | None = None
    headers: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)
    # Per-request memo for resolvers (e.g. loaded parties), never shared across requests.
    cache: dict[str, Any] = field(default_factory=dict)
    # Where read models read (the replica when fresh, else `db`); never for a write decision.
    reads: ReadDatabase = None  # type: ignore[assignment]  # set in __post_init__
    # A check the request's first write must make (its nonce claim), when the endpoint left it
    # to an operation that can fold it into its own statement (a single earn); else None.
    deferred: DeferredClaim | None = None

    def __post_init__(self) -> None:
        if self.reads is None:
            self.reads = ReadDatabase(self.db)

    def partner(self, scope: str | None = None) -> PartnerPrincipal:
        """The calling partner, or PermissionDenied; with `scope`, the key must carry it."""
        if not isinstance(self.principal, PartnerPrincipal):
            raise PermissionDenied("this field needs a partner's signed request")
        if scope is not None and scope not in self.principal.scopes:
            raise PermissionDenied(f"this key lacks the '{scope}' scope")
        return self.principal

    def member(self) -> MemberPrincipal:
        if not isinstance(self.principal, MemberPrincipal):
            raise PermissionDenied("this field needs a signed-in member")
        return self.principal

    def staff(self, role: str | None = None) -> StaffPrincipal:
        if not isinstance(self.principal, StaffPrincipal):
            raise PermissionDenied("this field needs a finance staff token")
        if role is not None and role not in self.principal.roles:
            raise PermissionDenied(f"this field needs the '{role}' role")
        return self.principal
