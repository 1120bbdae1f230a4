"""The member API at its edges, through the ASGI app on both databases: ids the API never
issued, other spellings of a phone number, control characters, sessions that already ended.
Each refusal is the field's own userError and writes nothing."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from graphql_relay import from_global_id
from sqlalchemy import select, update

from network.clock import utcnow
from network.notifications.schema import notification_outbox
from network.signin.schema import member_sessions
from tests.network import test_wallet_graphql as gql
from tests.network import wallet_world as ww
from tests.network.test_wallet_graphql import CONTACT, DONATE, REQUEST, REVOKE
from tests.support import ledger_world as w

# The member API and Sara's wallet, exactly as test_wallet_graphql builds them.
api = gql.api
world = gql.world


def raw_id(text: str) -> str:
    """A global id as a client could forge it: base64 of any 'Type:key'."""
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("key", ["²", "١", "99999999999999999999", "0", "+5", " 5"])
def test_ids_the_api_never_issued_are_invalid_ids(api, db, world, key):
    token = api.sign_in("sara@example.com")
    before = w.row_counts(db)
    donated = api.call(DONATE, {"input": {"charityId": raw_id(f"Charity:{key}"), "points": 1,
                                          "idempotencyKey": "k"}}, token=token)
    assert donated["data"]["donate"]["userErrors"] == [{
        "field": "charityId", "code": "INVALID_ID", "message": "charityId is not a Charity id."}]
    revoked = api.call(REVOKE, {"input": {"sessionId": raw_id(f"MemberSession:{key}")}},
                       token=token)["data"]["revokeSession"]
    assert revoked == {"revoked": False, "userErrors": [{
        "field": "sessionId", "code": "INVALID_ID",
        "message": "sessionId is not a MemberSession id."}]}
    assert w.row_counts(db) == before


@pytest.mark.parametrize("phone", [
    "+९८९१२१२३४५६७",  # Sara's own number in Devanagari digits
    "+９８９１２１２３４５６７",  # fullwidth
    "۰۹۱۲۱۲۳۴۵۶۷",  # as dialled in Iran, in Persian digits
    "0912 123 4567",  # as dialled in Iran
])
def test_another_spelling_of_a_members_phone_is_that_phone(api, db, world, phone):
    """Every decimal digit reads as its ASCII digit, so no spelling dodges PHONE_TAKEN."""
    ali = api.sign_in("ali@example.com")
    before = w.row_counts(db)
    result = api.call(CONTACT, {"input": {"phone": phone}}, token=ali)["data"]["updateContact"]
    assert result["member"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [("phone", "PHONE_TAKEN")]
    assert w.row_counts(db) == before


@pytest.mark.parametrize("phone", ["+98912123456²", "+98 912 CALL ME", "12"])
def test_a_phone_no_sms_reaches_is_refused(api, db, world, phone):
    ali = api.sign_in("ali@example.com")
    before = w.row_counts(db)
    result = api.call(CONTACT, {"input": {"phone": phone}}, token=ali)["data"]["updateContact"]
    assert result["member"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [("phone", "INVALID_PHONE")]
    assert w.row_counts(db) == before


def test_a_phone_spelled_with_no_break_spaces_is_the_same_number(api, db, world):
    token = api.sign_in("sara@example.com")
    ww.deliver(db, ww.Inbox())
    notices = ww.count(db, notification_outbox)
    result = api.call(CONTACT, {"input": {"phone": "+98\u00a0912\u00a0123\u20074567"}},
                      token=token)["data"]["updateContact"]
    assert result["userErrors"] == [] and result["member"]["phone"] == "+989121234567"
    assert ww.count(db, notification_outbox) == notices  # unchanged: nobody is told
    taken = api.call(CONTACT, {"input": {"phone": "+98\u00a0912 123 4567"}},
                     token=api.sign_in("ali@example.com"))["data"]["updateContact"]
    assert taken["userErrors"][0]["code"] == "PHONE_TAKEN"
    asked = api.call(REQUEST, {"input": {"address": "+98\u00a0912\u00a0123\u00a04567"}}
                     )["data"]["requestSignInCode"]
    assert asked["userErrors"] == [] and asked["channel"] == "sms"


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"email": "sara\x00@example.com"}, "email", "INVALID_EMAIL"),
    ({"email": "sa\x1bra@example.com"}, "email", "INVALID_EMAIL"),
    ({"displayName": "Sa\x00ra"}, "displayName", "INVALID_NAME"),
    ({"displayName": "Sara\nAdmin"}, "displayName", "INVALID_NAME"),
])
def test_control_characters_are_refused_by_name(api, db, world, change, field, code):
    token = api.sign_in("sara@example.com")
    before = w.row_counts(db)
    result = api.call(CONTACT, {"input": change}, token=token, status=200)
    payload = result["data"]["updateContact"]
    assert payload["member"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert w.row_counts(db) == before


def test_a_persian_name_keeps_its_zero_width_non_joiner(api, world):
    token = api.sign_in("sara@example.com")
    name = "سارا نیک‌نام"
    result = api.call(CONTACT, {"input": {"displayName": name}}, token=token)
    assert result["data"]["updateContact"]["member"]["displayName"] == name


def test_a_sign_in_code_for_an_address_with_control_characters_is_refused(api, db, world):
    before = w.row_counts(db)
    asked = api.call(REQUEST, {"input": {"address": "sara\x00@example.com"}}, status=200)
    assert asked["data"]["requestSignInCode"]["userErrors"][0]["code"] == "INVALID_EMAIL"
    assert w.row_counts(db) == before


def test_an_expired_session_is_not_revoked(api, db, world):
    token = api.sign_in("sara@example.com")
    api.sign_in("sara@example.com")
    listed = api.call("{ me { sessions { id current } } }", token=token)["data"]["me"]["sessions"]
    other = next(s["id"] for s in listed if not s["current"])
    other_id = int(from_global_id(other)[1])
    db.write(lambda c: c.execute(update(member_sessions).where(
        member_sessions.c.id == other_id).values(expires_at=utcnow() - dt.timedelta(seconds=1))))
    result = api.call(REVOKE, {"input": {"sessionId": other}}, token=token)["data"]
    assert result["revokeSession"] == {"revoked": False, "userErrors": [{
        "field": "sessionId", "code": "SESSION_NOT_FOUND",
        "message": "You have no live session with this id."}]}
    assert db.read(lambda c: c.execute(select(member_sessions.c.revoked_at).where(
        member_sessions.c.id == other_id)).scalar_one()) is None
