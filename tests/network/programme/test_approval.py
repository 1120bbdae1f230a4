"""Which partner campaigns need the network's approval (pure), and that the campaign mutations'
error enums carry every code a campaign problem can have."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from network.programme import approval
from network.programme.campaigns import Conditions, FunderShare, Trigger
from network.programme.management import PROBLEM_CODES
from tests.network.programme.values import CAFE, NETWORK, SHOP, campaign

ROOT = Path(__file__).resolve().parents[3]


def _reasons(owner: int = CAFE, **overrides: object) -> set[tuple[str, str]]:
    found = approval.reasons(campaign(**overrides), owner_party_id=owner,
                             network_party_id=NETWORK)
    return {(p.field, p.code) for p in found}


def test_a_partner_funding_its_own_points_at_its_own_sales_needs_no_approval() -> None:
    assert _reasons(conditions=Conditions(partners=frozenset({CAFE}))) == set()


def test_funding_by_another_party_or_reaching_other_sales_needs_approval() -> None:
    own_sales = Conditions(partners=frozenset({CAFE}))
    co_funded = (FunderShare(CAFE, 5000), FunderShare(NETWORK, 5000))
    assert _reasons(conditions=own_sales, funder=co_funded) == {
        ("funder[1].partyId", "FUNDS_OTHER_PARTY")}
    assert _reasons(conditions=Conditions(partners=frozenset({CAFE, SHOP}))) == {
        ("conditions.partners", "TOUCHES_OTHER_SALES")}
    # No partner condition: every partner's sales.
    assert _reasons(conditions=Conditions()) == {("conditions.partners",
                                                  "TOUCHES_OTHER_SALES")}


def test_a_lifecycle_campaign_touches_no_sales_and_the_network_needs_no_approval() -> None:
    welcome = Trigger("lifecycle", "enrolled")
    assert _reasons(trigger=welcome, conditions=Conditions()) == set()
    assert _reasons(owner=NETWORK, conditions=Conditions(),
                    funder=(FunderShare(SHOP, 10000),)) == set()


def test_an_approval_is_of_one_definition() -> None:
    first = campaign(conditions=Conditions(partners=frozenset({CAFE, SHOP})))
    row = approval.ApprovalRow("approved", approval.digest(first), "Olga", None)
    assert approval.shown(True, row, first) == "APPROVED"
    changed = dataclasses.replace(first, priority=first.priority + 1)
    assert approval.shown(True, row, changed) == "PENDING_APPROVAL"
    assert approval.shown(False, None, changed) == "NOT_NEEDED"
    # Written by network staff (no request): the network's own act is its approval.
    assert approval.shown(True, None, changed) == "APPROVED"


def test_the_mutation_enums_carry_every_campaign_problem_code() -> None:
    """Validation, the codec and the store name their codes at the raise site: each must be in
    PROBLEM_CODES, or a refusal would escape the mutation's userErrors."""
    named: set[str] = set()
    for name in ("validation.py", "codec.py", "store.py"):
        text = (ROOT / "network" / "programme" / name).read_text()
        named |= set(re.findall(r'"([A-Z]{2,}(?:_[A-Z]+)+)"', text))
    named |= set(approval.ApprovalError.codes)
    assert len(named) > 40
    assert named - set(PROBLEM_CODES) == set()
