"""An erased member (network/privacy.py) cannot be credited by member id either: every award path
(the general GraphQL path, the persisted operations' lean path, PostgreSQL's one-statement earn,
a batch's lines) answers MEMBER_NOT_FOUND, as the card lookup does for an erased card, and
books nothing. A retry of an award booked before the erasure still gets its first answer."""

from __future__ import annotations

from typing import Any

import pytest
from graphene import relay
from sqlalchemy import event

from infra.persisted_operations import PersistedOperations
from network import ledger, privacy
from network.clock import utcnow
from network.ledger import errors
from network.ledger.verify import verify
from tests.partners.conftest import Hub, operation

AWARD = operation("AwardPoints")
BATCH = operation("AwardPointsBatch")
GENERAL = " "  # the same operation, not the persisted text: graphql-core answers it


@pytest.fixture
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    execute = PersistedOperations.execute

    def spy(self: PersistedOperations, prepared: Any, *args: Any) -> Any:
        calls.append(prepared.name)
        return execute(self, prepared, *args)

    monkeypatch.setattr(PersistedOperations, "execute", spy)
    return calls


def _erase(hub: Hub, member_id: int) -> None:
    privacy.erase(hub.db, secret=hub.settings.secret_key, member_id=member_id, now=utcnow())


def _by_id(member_id: int) -> str:
    return relay.Node.to_global_id("PartnerMember", member_id)


def _award(member_id: int) -> dict[str, Any]:
    return {"input": {"memberId": _by_id(member_id), "amount": 1000, "currency": "EUR"}}


def test_an_erased_member_is_not_found_by_id_on_the_lean_and_the_general_path(any_hub,
                                                                               lean_calls):
    member = any_hub.enrol(phone="+989121234567")
    cafe = any_hub.client("cafe")
    booked = cafe.execute(AWARD, _award(member.id), idempotency_key="before-erasure")
    assert booked["data"]["awardPoints"]["userErrors"] == []
    _erase(any_hub, member.id)
    before = any_hub.ledger_counts()
    for text in (AWARD, AWARD + GENERAL):
        refused = cafe.execute(text, _award(member.id))["data"]["awardPoints"]
        assert refused["transaction"] is None
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == \
            [("memberId", "MEMBER_NOT_FOUND")]
    assert lean_calls == ["AwardPoints", "AwardPoints"]  # the persisted text, and its retry
    assert any_hub.ledger_counts() == before
    # The award booked before the erasure is still its key's first answer.
    again = cafe.execute(AWARD, _award(member.id), idempotency_key="before-erasure")
    assert again == booked
    assert any_hub.ledger_counts() == before
    assert verify(any_hub.db) == []


def test_a_batch_refuses_the_erased_members_lines_and_books_the_others(any_hub):
    gone, kept = any_hub.enrol(phone="+989121234567"), any_hub.enrol(phone="+989121234568")
    _erase(any_hub, gone.id)
    before = any_hub.ledger_counts()
    lines = [{"memberId": _by_id(gone.id), "amount": 500, "currency": "EUR"},
             {"memberId": _by_id(kept.id), "amount": 500, "currency": "EUR"},
             {"cardNumber": kept.card_number, "amount": 300, "currency": "EUR"}]
    answer = any_hub.client("cafe").execute(BATCH, {"input": {"lines": lines}})
    result = answer["data"]["awardPointsBatch"]
    assert (result["accepted"], result["rejected"]) == (2, 1)
    first = result["results"][0]
    assert first["transaction"] is None
    assert [(e["field"], e["code"]) for e in first["userErrors"]] == \
        [("lines.0.memberId", "MEMBER_NOT_FOUND")]
    assert [r["transaction"]["points"] for r in result["results"][1:]] == [50, 30]
    entries, postings_count, lots_count = any_hub.ledger_counts()
    assert (entries, postings_count, lots_count) == \
        (before[0] + 2, before[1] + 4, before[2] + 2)
    assert verify(any_hub.db) == []


def test_the_one_statement_earn_hands_an_erased_member_to_the_general_way_which_refuses(pg_db):
    """On PostgreSQL the common earn is one statement that sends nothing through SQLAlchemy;
    for an erased member it books nothing and the general way (which does send statements)
    names the refusal."""
    from tests.support import ledger_world as w

    cafe, member = w.partner(pg_db, "cafe"), w.member(pg_db)
    privacy.erase(pg_db, secret=w.SECRET, member_id=member, now=utcnow())
    before = w.row_counts(pg_db)
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(pg_db.engine, "before_cursor_execute", record)
    try:
        with pytest.raises(errors.MemberNotFound) as refused:
            ledger.earn(pg_db, scope=f"partner:{cafe}", idempotency_key="k-erased",
                        issuer_id=cafe, member_id=member, points=100, now=utcnow())
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", record)
    assert refused.value.field == "memberId"
    assert any("member_balances" in s for s in sent)  # the general way ran after the statement
    assert w.row_counts(pg_db) == before
    assert verify(pg_db) == []
