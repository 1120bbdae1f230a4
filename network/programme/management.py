"""A partner managing its own campaigns (the signed API's createCampaign, updateCampaign and
setCampaignStatus): the store's functions, scoped to the partner, idempotent, with approval.

- A partner sees and changes only the campaigns it owns; another's is CAMPAIGN_NOT_FOUND, as if
  it did not exist.
- Parties in a document may be ids (`partyId`, numbers in `conditions.partners`) or codes
  (`party`, strings), as in the CLI: partners know each other by code.
- A campaign that needs approval (approval.reasons) is saved as a draft whose approval is
  pending; activating it needs the network's approval of that very definition. An active
  campaign cannot take a definition that needs approval (pause it first), so nothing unapproved
  ever runs.
- Every write is idempotent by (partner, Idempotency-Key): a retry answers the first result and
  writes nothing; only a successful write is remembered.
- Every refusal is a CampaignRefused carrying every problem, each naming its field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from network import idempotency, parties
from network.clock import utcnow
from network.db.engine import Database
from network.errors import HubError
from network.programme import approval, codec, store
from network.programme.campaigns import Status
from network.programme.validation import Problem

# Every code validation.py, codec.py, the store and approval may put in a problem: the per-mutation
# error enums list them (tests/network/programme/test_management.py checks none is missing).
PROBLEM_CODES = (
    "CAMPAIGN_INVALID", "CAMPAIGN_NOT_FOUND", "CAMPAIGN_CODE_TAKEN", "STATUS_CHANGE_NOT_ALLOWED",
    "PARTY_UNKNOWN", "CAMPAIGN_ENDED", "CAMPAIGN_DOCUMENT_INVALID", "FIELD_REQUIRED",
    "FIELD_UNKNOWN", "WRONG_TYPE", "NOT_A_NUMBER", "TIME_INVALID", "EFFECT_UNKNOWN",
    "AMOUNT_NEGATIVE", "ATTRIBUTE_KEY_REQUIRED", "BUDGET_BELOW_SPENT", "BUDGET_NOT_POSITIVE",
    "BUDGET_TOO_LARGE", "CATEGORY_UNKNOWN", "CHANNEL_UNKNOWN", "CODE_INVALID",
    "CONDITION_NOT_FOR_TRIGGER", "EFFECT_NOT_FOR_TRIGGER", "REWARD_UNKNOWN", "REWARD_NOT_ACTIVE",
    "DRAW_UNKNOWN", "DRAW_NOT_OPEN", "ENTRIES_OUT_OF_RANGE",
    "EVENT_TYPE_UNKNOWN", "FUNDER_DUPLICATE", "FUNDER_REQUIRED", "LIFECYCLE_UNKNOWN",
    "LIMIT_OUT_OF_RANGE", "MULTIPLIER_OUT_OF_RANGE", "NAME_REQUIRED", "NEVER_MATCHES",
    "POINTS_NOT_POSITIVE", "POINTS_TOO_LARGE", "PRIORITY_OUT_OF_RANGE", "RATE_OUT_OF_RANGE",
    "SCHEDULE_NAME_INVALID", "SEGMENT_UNKNOWN", "SHARES_NOT_WHOLE", "SHARE_OUT_OF_RANGE",
    "STACKING_UNKNOWN", "STATUS_UNKNOWN", "TIER_UNKNOWN", "TIME_WITHOUT_ZONE", "TOO_PRECISE",
    "TRIGGER_NAME_NOT_ALLOWED", "TRIGGER_UNKNOWN", "WEEKDAY_INVALID", "WINDOW_EMPTY",
    "WINDOW_OVERLAP", *approval.ApprovalError.codes)


class CampaignRefused(HubError):
    """A campaign change refused: `problems` lists every reason with its field."""

    code = "CAMPAIGN_INVALID"
    codes = PROBLEM_CODES

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, code=first.code, field=first.field)

    @classmethod
    def of(cls, error: HubError) -> CampaignRefused:
        problems = getattr(error, "problems", None) or (
            Problem(error.field or "", error.code, error.message),)
        return cls(problems)


@dataclass(frozen=True, slots=True)
class Managed:
    """A stored campaign with what its manager needs to see about approval."""

    stored: store.StoredCampaign
    approval: approval.Approval
    reasons: tuple[Problem, ...]  # why it needs approval (empty: it does not)
    note: str | None = None  # the network's note on a rejection


def view(conn: Connection, found: Iterable[store.StoredCampaign]) -> list[Managed]:
    """Campaigns with their approval, in one read of the approvals."""
    found = list(found)
    network = parties.network_party_id(conn)
    rows = approval.rows(conn, (s.campaign.id for s in found))
    out = []
    for s in found:
        why = approval.reasons(s.campaign, owner_party_id=s.owner_party_id,
                               network_party_id=network)
        row = rows.get(s.campaign.id)
        out.append(Managed(s, approval.shown(bool(why), row, s.campaign), why,
                           row.note if row else None))
    return out


def owned(conn: Connection, partner_id: int, code: str) -> store.StoredCampaign:
    """CODE if this partner owns it; CAMPAIGN_NOT_FOUND otherwise (another's stays unseen)."""
    stored = store.get(conn, code)
    if stored.owner_party_id != partner_id:
        raise CampaignRefused((Problem("code", "CAMPAIGN_NOT_FOUND",
                                       f"no campaign with code {code!r}"),))
    return stored


def list_owned(conn: Connection, partner_id: int, *, after_id: int = 0, limit: int = 20
               ) -> list[Managed]:
    """The partner's campaigns in creation order, after `after_id`, at most `limit`."""
    # The store lists every campaign; a partner has few, and the store is not ours to change.
    mine = [s for s in store.list_campaigns(conn)
            if s.owner_party_id == partner_id and s.campaign.id > after_id]
    return view(conn, mine[:limit])


def awaiting_approval(conn: Connection) -> list[Managed]:
    """Campaigns waiting for the network's decision, oldest request first."""
    waiting = approval.pending(conn)
    by_id = {s.campaign.id: s for s in store.list_campaigns(conn)}
    return view(conn, [by_id[i] for i in waiting if i in by_id])


def resolve_parties(conn: Connection, doc: Any) -> Any:
    """A copy of the document with party codes turned into ids (`{"party": "cafe"}` in funder,
    "cafe" in conditions.partners); unknown codes are PARTY_UNKNOWN naming the field."""
    if not isinstance(doc, dict):
        return doc
    doc = copy.deepcopy(doc)
    problems: list[Problem] = []

    def party(code: str, field: str) -> Any:
        found = parties.by_code(conn, code)
        if found is None:
            problems.append(Problem(field, "PARTY_UNKNOWN", f"{field}: no party with code "
                                                            f"{code!r}"))
        return found

    for index, part in enumerate(doc.get("funder") or []):
        if isinstance(part, dict) and isinstance(part.get("party"), str):
            part["partyId"] = party(part.pop("party"), f"funder[{index}].party")
    conditions = doc.get("conditions")
    if isinstance(conditions, dict) and isinstance(conditions.get("partners"), list):
        conditions["partners"] = [party(p, "conditions.partners") if isinstance(p, str) else p
                                  for p in conditions["partners"]]
    if problems:
        raise CampaignRefused(problems)
    return doc


# ---- the writes -------------------------------------------------------------------------------

def _idempotent(db: Database, *, scope: str, key: str, operation: str, params: dict[str, Any],
                work: Callable[[Connection], str]) -> Managed:
    """Run `work` (which answers the campaign's code) once per (scope, key); a retry answers
    the campaign as it is now, writing nothing."""
    digest = idempotency.request_hash(operation, params)

    def write(conn: Connection) -> Managed:
        replay = idempotency.claim(conn, scope, key, digest)
        if replay is not None:
            return view(conn, [store.get(conn, replay["code"])])[0]
        try:
            code = work(conn)
        except (store.CampaignError, codec.CampaignDocumentError,
                approval.ApprovalError) as error:
            raise CampaignRefused.of(error) from None
        idempotency.remember(conn, scope, key, digest, {"code": code}, utcnow())
        return view(conn, [store.get(conn, code)])[0]

    return db.write(write)


def _needs(conn: Connection, stored: store.StoredCampaign) -> bool:
    return approval.needed(conn, stored.campaign, stored.owner_party_id)


def create(db: Database, *, partner_id: int, scope: str, idempotency_key: str,
           definition: Any) -> Managed:
    """Save the partner's new campaign as a draft, asking for approval when it needs one."""
    def work(conn: Connection) -> str:
        campaign = codec.from_document(resolve_parties(conn, definition))
        stored = store.create(conn, campaign, owner_party_id=partner_id)
        approval.ask(conn, stored.campaign, _needs(conn, stored))
        return stored.campaign.code

    return _idempotent(db, scope=scope, key=idempotency_key, operation="createCampaign",
                       params={"definition": definition}, work=work)


def update(db: Database, *, partner_id: int, scope: str, idempotency_key: str, code: str,
           definition: Any) -> Managed:
    """Replace the definition of the partner's campaign CODE (its code stays)."""
    def work(conn: Connection) -> str:
        current = owned(conn, partner_id, code)
        campaign = codec.from_document(resolve_parties(conn, definition))
        needs = approval.needed(conn, campaign, partner_id)
        if needs and current.campaign.status == "active":
            raise approval.ApprovalError(
                f"campaign {code!r} is active and this definition needs the network's "
                "approval; pause it, update it, and activate it once approved",
                code="APPROVAL_REQUIRED", field="definition")
        stored = store.update(conn, code, campaign)
        approval.ask(conn, stored.campaign, needs)
        return code

    return _idempotent(db, scope=scope, key=idempotency_key, operation="updateCampaign",
                       params={"code": code, "definition": definition}, work=work)


def set_status(db: Database, *, partner_id: int, scope: str, idempotency_key: str, code: str,
               status: Status) -> Managed:
    """Activate, pause or end the partner's campaign CODE; activating one that needs approval
    needs the network's approval of its current definition."""
    def work(conn: Connection) -> str:
        current = owned(conn, partner_id, code)
        if status == "active":
            approval.require_approved(conn, current.campaign, _needs(conn, current))
        store.set_status(conn, code, status)
        return code

    return _idempotent(db, scope=scope, key=idempotency_key, operation="setCampaignStatus",
                       params={"code": code, "status": status}, work=work)


def decide(db: Database, code: str, decision: str, *, by: str, note: str | None = None
           ) -> Managed:
    """The network approves or rejects CODE's pending request (staff GraphQL and the CLI)."""
    def write(conn: Connection) -> Managed:
        try:
            stored = store.get(conn, code)
            approval.decide(conn, stored.campaign, "approved" if decision == "approve"
                            else "rejected", by=by, note=note)
        except (store.CampaignError, approval.ApprovalError) as error:
            raise CampaignRefused.of(error) from None
        return view(conn, [stored])[0]

    return db.write(write)
