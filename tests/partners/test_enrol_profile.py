"""enrolMember with a birth date and a referrer's code, over signed HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from network import members
from network.db.schema import idempotency_keys
from network.db.schema import members as members_table
from network.programme.schema import member_events
from tests.partners.conftest import Hub, operation


def _counts(hub: Hub) -> tuple[int, int, int]:
    return hub.db.read(lambda conn: tuple(  # type: ignore[return-value]
        conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (members_table, member_events, idempotency_keys)))


def _enrol(client, key: str, **fields: object) -> dict:  # type: ignore[no-untyped-def]
    return client.execute(operation("EnrolMember"), {"input": fields},
                          idempotency_key=key)["data"]["enrolMember"]


def test_enrol_with_birth_date_and_referrer(any_hub: Hub) -> None:
    sara = any_hub.enrol()
    with any_hub.client() as client:
        before = _counts(any_hub)
        refused = _enrol(client, "e-1", email="ali@example.com", referrerCode="ZZZZZZZZZZ")
        assert refused["member"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
            ("REFERRER_NOT_FOUND", "referrerCode")]
        too_late = _enrol(client, "e-1", email="ali@example.com", birthDate="2999-01-01")
        assert [(e["code"], e["field"]) for e in too_late["userErrors"]] == [
            ("INVALID_INPUT", "birthDate")]
        assert _counts(any_hub) == before
        # nothing was claimed: the same key, corrected, enrols
        ok = _enrol(client, "e-1", email="ali@example.com", birthDate="1991-07-04",
                    referrerCode=sara.referral_code.lower())
        assert ok["userErrors"] == []
    ali = any_hub.db.read(members.find, any_hub.settings.secret_key, email="ali@example.com")
    assert ali is not None and ali.referred_by == sara.id
    assert ali.birth_date is not None and ali.birth_date.isoformat() == "1991-07-04"
    kinds = any_hub.db.read(lambda conn: conn.execute(
        select(member_events.c.type, member_events.c.partner_id)
        .where(member_events.c.member_id == ali.id)).all())
    assert [tuple(k) for k in kinds] == [("enrolled", any_hub.partners["cafe"].party_id)]
