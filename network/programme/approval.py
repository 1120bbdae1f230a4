"""Network approval of partners' campaigns that reach beyond the partner's own points and sales.

A partner may fund only its own points at its own sales. A campaign a partner owns needs the
network's approval before it can be activated when (`reasons`, pure):
- its funder names any other party (another partner, or the network), or
- it is triggered by sales or partner events (purchase, return, event) and its partner condition
  is absent (every partner's sales) or names another partner.
Such a campaign is still saved (as a draft, its approval PENDING_APPROVAL) rather than refused,
so the partner can simulate it and the network can read what it is asked to approve.

An approval is of one definition: `campaign_approvals.definition_sha256` is the digest of the
definition that was approved, and any later change to the definition asks again (the row goes
back to pending). Network-owned campaigns need no approval, and one staff wrote for a partner
(`pointsnet campaigns create --owner cafe`) counts as approved: staff are the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy import update as sql_update

import network.programme.schema  # noqa: F401  (the campaigns table approvals refer to)
from network import parties
from network.clock import utcnow
from network.db.schema import BigId, Timestamp, metadata
from network.errors import HubError
from network.programme import codec
from network.programme.campaigns import Campaign
from network.programme.validation import Problem

State = Literal["pending", "approved", "rejected"]
# What the API shows: not needed, or the row's state.
Approval = Literal["NOT_NEEDED", "PENDING_APPROVAL", "APPROVED", "REJECTED"]
_SHOWN: dict[str, Approval] = {"pending": "PENDING_APPROVAL", "approved": "APPROVED",
                               "rejected": "REJECTED"}
SALES_TRIGGERS = frozenset({"purchase", "return", "event"})

campaign_approvals = Table(
    "campaign_approvals",
    metadata,
    Column("campaign_id", BigId, ForeignKey("campaigns.id"), primary_key=True,
           autoincrement=False),
    Column("state", String(16), nullable=False),  # pending | approved | rejected
    Column("definition_sha256", String(64), nullable=False),  # the definition asked about
    Column("requested_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp),
    Column("decided_by", String(200)),  # the staff token's name
    Column("note", String(500)),  # why it was rejected, for the partner
    CheckConstraint("state IN ('pending', 'approved', 'rejected')", name="state"),
)


class ApprovalError(HubError):
    """An approval step the programme refuses."""

    code = "APPROVAL_REQUIRED"
    codes = ("APPROVAL_REQUIRED", "CAMPAIGN_REJECTED", "NOT_PENDING_APPROVAL", "NOTE_TOO_LONG")


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    state: State
    definition_sha256: str
    decided_by: str | None
    note: str | None


# ---- pure -------------------------------------------------------------------------------------

def reasons(campaign: Campaign, *, owner_party_id: int, network_party_id: int
            ) -> tuple[Problem, ...]:
    """Why this campaign needs the network's approval (empty: it does not)."""
    if owner_party_id == network_party_id:
        return ()
    found: list[Problem] = []
    for index, part in enumerate(campaign.funder):
        if part.party_id != owner_party_id:
            whose = "the network" if part.party_id == network_party_id else \
                f"partner {part.party_id}"
            found.append(Problem(f"funder[{index}].partyId", "FUNDS_OTHER_PARTY",
                                 f"funder[{index}] is {whose}: a partner funds only its own "
                                 "points without the network's approval"))
    if campaign.trigger.kind in SALES_TRIGGERS:
        partners = campaign.conditions.partners
        if partners is None:
            found.append(Problem("conditions.partners", "TOUCHES_OTHER_SALES",
                                 "no partner condition: the campaign would apply to every "
                                 "partner's sales; name your own to need no approval"))
        elif set(partners) - {owner_party_id}:
            others = ", ".join(str(p) for p in sorted(set(partners) - {owner_party_id}))
            found.append(Problem("conditions.partners", "TOUCHES_OTHER_SALES",
                                 f"conditions.partners names other partners ({others})"))
    return tuple(found)


def digest(campaign: Campaign) -> str:
    """The definition's fingerprint (status and id aside): what an approval is of."""
    doc = codec.to_document(campaign)
    doc.pop("status", None)
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def shown(needed: bool, row: ApprovalRow | None, campaign: Campaign) -> Approval:
    """The approval the API reports for a campaign. A campaign that needs approval but has no
    request was written by network staff (`pointsnet campaigns create`): the network's own act
    is its approval, until the partner changes it over the API (which asks again)."""
    if not needed:
        return "NOT_NEEDED"
    if row is None:
        return "APPROVED"
    if row.definition_sha256 != digest(campaign):
        return "PENDING_APPROVAL"
    return _SHOWN[row.state]


# ---- the database -----------------------------------------------------------------------------

def rows(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, ApprovalRow]:
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    a = campaign_approvals.c
    found = conn.execute(select(a.campaign_id, a.state, a.definition_sha256, a.decided_by, a.note)
                         .where(a.campaign_id.in_(ids)))
    return {r.campaign_id: ApprovalRow(r.state, r.definition_sha256, r.decided_by, r.note)
            for r in found}


def ask(conn: Connection, campaign: Campaign, needed: bool, now: dt.datetime | None = None
        ) -> None:
    """After a save: ask for approval of this definition when it needs one (pending), else
    forget any earlier request."""
    a = campaign_approvals.c
    conn.execute(delete(campaign_approvals).where(a.campaign_id == campaign.id))
    if needed:
        conn.execute(insert(campaign_approvals).values(
            campaign_id=campaign.id, state="pending", definition_sha256=digest(campaign),
            requested_at=now or utcnow()))


def needed(conn: Connection, campaign: Campaign, owner_party_id: int) -> bool:
    """Whether this campaign of this owner needs the network's approval."""
    return bool(reasons(campaign, owner_party_id=owner_party_id,
                        network_party_id=parties.network_party_id(conn)))


def require_approved(conn: Connection, campaign: Campaign, needed: bool) -> None:
    """Refuse to activate a campaign that needs approval and has none for this definition."""
    if not needed:
        return
    row = rows(conn, [campaign.id]).get(campaign.id)
    state = shown(needed, row, campaign)
    if state == "REJECTED":
        note = f" ({row.note})" if row and row.note else ""
        raise ApprovalError(f"the network rejected campaign {campaign.code!r}{note}; change it "
                            "with updateCampaign to ask again", code="CAMPAIGN_REJECTED",
                            field="status")
    if state != "APPROVED":
        raise ApprovalError(f"campaign {campaign.code!r} funds other parties' points or applies "
                            "to other partners' sales; it can be activated once the network "
                            "approves it", code="APPROVAL_REQUIRED", field="status")


def decide(conn: Connection, campaign: Campaign, state: Literal["approved", "rejected"], *,
           by: str, note: str | None = None, now: dt.datetime | None = None) -> None:
    """Approve or reject the pending request for the campaign's current definition."""
    if note is not None and len(note) > 500:
        raise ApprovalError("a note is at most 500 characters", code="NOTE_TOO_LONG",
                            field="note")
    a = campaign_approvals.c
    row = rows(conn, [campaign.id]).get(campaign.id)
    if row is None or row.state != "pending" or row.definition_sha256 != digest(campaign):
        now_state = ("has no request (the network wrote it)" if row is None
                     else f"is {row.state}")
        raise ApprovalError(f"campaign {campaign.code!r} {now_state}; only a pending request "
                            "can be decided", code="NOT_PENDING_APPROVAL", field="code")
    conn.execute(sql_update(campaign_approvals).where(a.campaign_id == campaign.id).values(
        state=state, decided_by=by, note=note, decided_at=now or utcnow()))


def pending(conn: Connection) -> list[int]:
    """Ids of the campaigns waiting for a decision, oldest request first."""
    a = campaign_approvals.c
    return list(conn.execute(select(a.campaign_id).where(a.state == "pending")
                             .order_by(a.requested_at, a.campaign_id)).scalars())

