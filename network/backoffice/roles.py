"""Who may do what in the back office: two kinds of account, each with its own roles.

Staff (the hub's people): operator runs the network (members, goodwill, partners, programme,
audit); support helps members (find, look, block, replace a card, small goodwill); finance sees
money (dashboards, settlement); viewer reads and changes nothing. Partner users act for one
partner only: manager (everything of their partner, users too), cashier (the till's tasks),
analyst (reads and exports). A page names the roles it admits; the server checks them on every
page and every action, the navigation only hides what would be refused anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["staff", "partner_user"]
KINDS: tuple[str, ...] = ("staff", "partner_user")
STAFF_ROLES: tuple[str, ...] = ("operator", "support", "finance", "viewer")
PARTNER_ROLES: tuple[str, ...] = ("manager", "cashier", "analyst")
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {"staff": STAFF_ROLES, "partner_user": PARTNER_ROLES}

# Role sets pages use, named once so the console and the README say the same thing.
ANY_STAFF = frozenset(STAFF_ROLES)
MEMBER_READERS = frozenset({"operator", "support", "viewer"})
MEMBER_CARE = frozenset({"operator", "support"})  # block, replace a card, goodwill requests
OPERATORS = frozenset({"operator"})  # approve goodwill, audit log, partners, programme
ANY_PARTNER_USER = frozenset(PARTNER_ROLES)


@dataclass(frozen=True)
class Principal:
    """A signed-in back-office account, as a page handler sees it."""

    account_id: int
    name: str
    kind: str
    role: str
    partner_id: int | None
    session_id: int

    @property
    def actor_kind(self) -> Literal["staff", "partner_user"]:
        """The audit log's actor kind (network/audit.py)."""
        return "staff" if self.kind == "staff" else "partner_user"

    @property
    def scope(self) -> str:
        """The idempotency scope of what this account writes."""
        return f"backoffice:{self.account_id}"

    def may(self, roles: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
        return self.role in roles
