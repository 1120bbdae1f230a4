"""Self-enrolment, the profile and the privacy rights over the member GraphQL API (HTTP through
the ASGI app, SQLite and PostgreSQL): joining with a code (and what it must not reveal), the
profile_completed fact and its campaign points, the data export, erasure, the audit log."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from typing import Any

import pytest
from sqlalchemy import select

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import audit, cards, members, parties, privacy
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import journal_entries
from network.db.schema import members as members_table
from network.ledger.verify import verify
from network.notifications import inline
from network.notifications.schema import notification_outbox
from network.profile import member_profiles
from network.programme import store
from network.programme.campaigns import Campaign, FixedPoints, Trigger, sole_funder
from network.programme.schema import member_events
from network.signin.schema import member_sessions, signin_codes
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

REQUEST_JOIN = """mutation($input: RequestJoinCodeInput!) { requestJoinCode(input: $input) {
  channel maskedAddress expiresInSeconds userErrors { field code message } } }"""
JOIN = """mutation($input: JoinNetworkInput!) { joinNetwork(input: $input) {
  token memberId cardNumber cardQrSvg joined session { kind }
  userErrors { field code message } } }"""
VERIFY = """mutation($input: VerifySignInCodeInput!) { verifySignInCode(input: $input) {
  token userErrors { field code } } }"""
REQUEST_SIGNIN = """mutation($input: RequestSignInCodeInput!) { requestSignInCode(input: $input) {
  userErrors { code } } }"""
ME = """{ me { id cardNumber email phone displayName locale referralCode
  profile { displayName birthDate city language interests availableInterests complete
            completedAt } } }"""
EXPORT = "{ me { dataExport } }"
PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  completedNow profile { displayName birthDate city language interests complete }
  userErrors { field code message } } }"""
ERASE = """mutation($input: EraseMyDataInput!) { eraseMyData(input: $input) {
  erased userErrors { field code message } } }"""


class Api:
    def __init__(self, db: Database, client: TestClient) -> None:
        self.db = db
        self.client = client

    def call(self, query: str, variables: dict[str, Any] | None = None,
             token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                headers=headers).json()

    def request_join(self, address: str, **more: Any) -> dict[str, Any]:
        return self.call(REQUEST_JOIN, {"input": {"address": address, **more}}
                         )["data"]["requestJoinCode"]

    def join(self, address: str, code: str, **more: Any) -> dict[str, Any]:
        return self.call(JOIN, {"input": {"address": address, "code": code, **more}}
                         )["data"]["joinNetwork"]

    def inbox(self) -> ww.Inbox:
        return ww.deliver(self.db, ww.Inbox())

    def joined(self, address: str, **more: Any) -> dict[str, Any]:
        assert self.request_join(address, **more)["userErrors"] == []
        answer = self.join(address, self.inbox().code_for(address), **more)
        assert answer["userErrors"] == [], answer
        return answer


@pytest.fixture
def api(db: Database, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    inline._drainers.clear()
    return Api(db, TestClient(create_app(ww.settings(), db)))


def _member_id(answer: dict[str, Any]) -> int:
    from graphql_relay import from_global_id

    return int(from_global_id(answer["memberId"])[1])


def test_a_stranger_joins_with_a_code_and_gets_a_card_and_qr_at_once(api, db):
    asked = api.request_join("new@example.com", language="fa")
    assert asked["channel"] == "email" and asked["maskedAddress"] == "n••@example.com"
    sent = api.inbox().messages
    assert [m.recipient for m in sent] == ["new@example.com"]
    assert "عضویت" in sent[0].subject  # the join message, in the language asked for
    answer = api.join("new@example.com", ww.CODE.search(sent[0].body.translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))).group(1), language="fa")
    assert answer["userErrors"] == [] and answer["joined"] is True
    assert cards.is_valid(answer["cardNumber"]) and answer["cardQrSvg"].startswith("<svg")
    me = api.call(ME, token=answer["token"])["data"]["me"]
    assert (me["cardNumber"], me["email"], me["locale"]) == (answer["cardNumber"],
                                                              "new@example.com", "fa")
    # The enrolled fact, as a partner's enrolment records it, with no partner: self-enrolled.
    member_id = _member_id(answer)
    fact = db.read(lambda c: c.execute(select(member_events).where(
        member_events.c.member_id == member_id)).one())
    assert (fact.type, fact.partner_id) == ("enrolled", None)
    # The join message is theirs now: in their export, and in their erasure.
    assert db.read(lambda c: c.execute(select(notification_outbox.c.member_id)).scalar_one()) \
        == member_id
    # The code is spent: it does not enrol or sign in twice.
    again = api.join("new@example.com", "000000")
    assert again["userErrors"][0]["code"] in ("CODE_INVALID",)


def test_joining_with_a_members_address_reveals_nothing_and_just_signs_them_in(api, db):
    sara = ww.enrol(db, email="sara@example.com", name="Sara")
    member_answer = api.request_join("sara@example.com")
    stranger_answer = api.request_join("nobody@example.com")
    # Alike, apart from the masked address itself.
    assert {k: v for k, v in member_answer.items() if k != "maskedAddress"} == \
        {k: v for k, v in stranger_answer.items() if k != "maskedAddress"}
    inbox = api.inbox()
    to_sara = [m for m in inbox.messages if m.recipient == "sara@example.com"][0]
    assert "already have" in to_sara.body  # said only to whoever holds the address
    answer = api.join("sara@example.com", inbox.code_for("sara@example.com"))
    assert answer["joined"] is False and _member_id(answer) == sara
    assert db.read(lambda c: len(c.execute(select(members_table.c.id)).all())) == 1


def test_a_join_code_does_not_sign_in_on_the_sign_in_path(api, db):
    """A stranger's join code proves the address only to the join path: the sign-in path still
    treats a stranger's code as one that was never sent."""
    api.request_join("new@example.com")
    code = api.inbox().code_for("new@example.com")
    refused = api.call(VERIFY, {"input": {"address": "new@example.com", "code": code}}
                       )["data"]["verifySignInCode"]
    assert refused["token"] is None and refused["userErrors"][0]["code"] == "CODE_INVALID"


def test_a_referrer_code_is_checked_before_the_code_is_sent_and_recorded(api, db):
    sara = ww.enrol(db, email="sara@example.com", name="Sara")
    code = db.read(members.get, sara, ww.SECRET).referral_code
    for bad in ("NOT-A-CODE", "0000000000"):
        refused = api.request_join("new@example.com", referrerCode=bad)
        assert refused["userErrors"][0]["field"] == "referrerCode"
        assert refused["userErrors"][0]["code"] == "REFERRER_NOT_FOUND"
    assert api.inbox().messages == []  # nothing sent for a refused request
    answer = api.joined("+989351112233", referrerCode=code.lower())
    joined = db.read(members.get, _member_id(answer), ww.SECRET)
    assert joined.referred_by == sara and joined.phone == "+989351112233"


def test_join_codes_are_rate_limited_like_sign_in(api, db):
    answers = [api.request_join("spam@example.com") for _ in range(6)]
    assert [a["userErrors"][0]["code"] if a["userErrors"] else None for a in answers] == \
        [None] * 5 + ["RATE_LIMITED"]


def _profile_campaign(db: Database, points: int) -> None:
    network = db.read(parties.network_party_id)
    db.write(store.create, Campaign(
        id=0, code="profile-bonus", name_en="Profile bonus", name_fa="جایزهٔ نمایه",
        trigger=Trigger("lifecycle", "profile_completed"), effect=FixedPoints(points),
        funder=sole_funder(network), starts_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        owner_party_id=network)
    db.write(store.set_status, "profile-bonus", "active")


def test_completing_the_profile_raises_the_fact_once_and_its_campaign_pays_once(api, db):
    _profile_campaign(db, 50)
    token = api.joined("new@example.com")["token"]
    partial = api.call(PROFILE, {"input": {"displayName": "Neda", "city": "Shiraz"}},
                       token=token)["data"]["updateProfile"]
    assert partial["completedNow"] is False and partial["profile"]["complete"] is False
    done = api.call(PROFILE, {"input": {"birthDate": "1990-03-21",
                                        "interests": ["travel", "coffee", "travel"]}},
                    token=token)["data"]["updateProfile"]
    assert done["completedNow"] is True
    assert done["profile"]["interests"] == ["coffee", "travel"]  # the network's order, once
    # Emptied and filled again: no second fact, no second bonus.
    api.call(PROFILE, {"input": {"city": ""}}, token=token)
    again = api.call(PROFILE, {"input": {"city": "Yazd", "language": "fa"}},
                     token=token)["data"]["updateProfile"]
    assert again["completedNow"] is False and again["profile"]["language"] == "fa"
    me = api.call(ME, token=token)["data"]["me"]
    member_id = int(me["id"] and db.read(lambda c: c.execute(
        select(members_table.c.id)).scalar_one()))
    facts = db.read(lambda c: c.execute(select(member_events.c.type).where(
        member_events.c.member_id == member_id)).scalars().all())
    assert sorted(facts) == ["enrolled", "profile_completed"]
    bonuses = db.read(lambda c: c.execute(select(journal_entries.c.points).where(
        journal_entries.c.member_id == member_id, journal_entries.c.kind == "bonus"))
        .scalars().all())
    assert bonuses == [50]
    assert me["profile"]["complete"] and me["profile"]["completedAt"]
    assert verify(db) == []
    # The audit log names the fields changed, never their values.
    logged = db.read(lambda c: audit.entries(c, subject=f"member:{member_id}"))
    assert [e.action for e in logged] == ["profile.updated"] * 4
    assert "Shiraz" not in json.dumps([e.after for e in logged])


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"birthDate": "1890-01-01"}, "birthDate", "INVALID_BIRTH_DATE"),
    ({"birthDate": "21/03/1990"}, "birthDate", "INVALID_BIRTH_DATE"),
    ({"interests": ["coffee", "gambling"]}, "interests", "UNKNOWN_INTEREST"),
    ({"city": "x" * 101}, "city", "CITY_TOO_LONG"),
    ({"displayName": "x" * 201}, "displayName", "NAME_TOO_LONG"),
    ({"language": "de"}, "language", "INVALID_LOCALE"),
])
def test_bad_profile_changes_are_named_and_write_nothing(api, db, change, field, code):
    token = api.joined("new@example.com")["token"]
    before = w.row_counts(db)
    answer = api.call(PROFILE, {"input": {"displayName": "Neda", **change}},
                      token=token)["data"]["updateProfile"]
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [(field, code)]
    assert w.row_counts(db) == before
    assert db.read(lambda c: c.execute(select(members_table.c.display_name)).scalar()) is None


def test_the_export_holds_everything_and_erasure_keeps_only_the_books(api, db):
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    answer = api.joined("neda@example.com")
    token, member_id = answer["token"], _member_id(answer)
    card = answer["cardNumber"]
    api.call(PROFILE, {"input": {"displayName": "Neda", "birthDate": "1990-03-21",
                                 "city": "Shiraz", "interests": ["books"]}}, token=token)
    ww.earn(db, cafe, member_id, 800, at=utcnow() - dt.timedelta(days=2))
    from network import ledger

    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=w.key(), partner_id=shop,
                  member_id=member_id, points=300, now=utcnow() - dt.timedelta(days=1))
    api.call(REQUEST_SIGNIN, {"input": {"address": "neda@example.com"}})  # a message of theirs
    api.request_join("neda@example.com")  # queued, not sent: its address must go too
    exported = api.call(EXPORT, token=token)["data"]["me"]["dataExport"]
    data = json.loads(exported) if isinstance(exported, str) else exported
    assert data["member"]["email"] == "neda@example.com" and data["member"]["cardNumber"] == card
    assert data["profile"]["city"] == "Shiraz" and data["profile"]["interests"] == ["books"]
    assert len(data["ledgerEntries"]) == 2 and len(data["lots"]) == 1
    assert data["consumptions"][0]["points"] == 300 and data["balance"]["balance"] == 500
    assert data["sessions"] and "token_hash" not in data["sessions"][0]
    assert data["notifications"] and "body" not in data["notifications"][0]
    assert [e["type"] for e in data["events"]] == ["enrolled", "profile_completed"]

    refused = api.call(ERASE, {"input": {"confirm": False}}, token=token)["data"]["eraseMyData"]
    assert refused["erased"] is False and refused["userErrors"][0]["code"] == \
        "ERASURE_NOT_CONFIRMED"
    books = w.row_counts(db)
    assert api.call(ERASE, {"input": {"confirm": True}}, token=token)["data"]["eraseMyData"] == \
        {"erased": True, "userErrors": []}

    # Personal data gone or pseudonymised...
    row = db.read(lambda c: c.execute(select(members_table).where(
        members_table.c.id == member_id)).one())
    assert (row.phone_cipher, row.phone_lookup, row.email_cipher, row.email_lookup,
            row.display_name, row.birth_date) == (None,) * 6
    assert row.card_number == f"erased-{member_id}"
    extra = db.read(lambda c: c.execute(select(member_profiles)).one())
    assert (extra.city, extra.interests, extra.erased_at is not None) == (None, [], True)
    assert db.read(lambda c: c.execute(select(member_sessions)).all()) == []
    assert db.read(lambda c: c.execute(select(signin_codes)).all()) == []
    messages = db.read(lambda c: c.execute(select(notification_outbox)).all())
    assert len(messages) == 3 and all(m.recipient is None and m.body is None for m in messages)
    assert all(m.status != "pending" for m in messages)  # nothing queued goes out now
    # ...the books as they were: same entries, lots, consumptions, balances; verify clean.
    after = w.row_counts(db)
    for table in ("journal_entries", "postings", "lots", "consumptions", "member_balances",
                  "member_events", "members"):
        assert after[table] == books[table], table
    assert verify(db) == []
    # The token is dead, the address signs nobody in, the card names nobody.
    assert api.call(ME, token=token).get("data") is None
    api.call(REQUEST_SIGNIN, {"input": {"address": "neda@example.com"}})
    assert [m for m in api.inbox().messages if m.recipient == "neda@example.com"] == []
    assert db.read(lambda c: members.find(c, ww.SECRET, card_number=card)) is None
    assert members.id_by_card(db, card) is None
    # Operators see the request and its completion, with ids and counts only.
    logged = db.read(lambda c: audit.entries(c, action="erasure.*"))
    assert [(e.action, e.actor_kind, e.subject) for e in logged] == [
        ("erasure.requested", "member", f"member:{member_id}"),
        ("erasure.completed", "system", f"member:{member_id}")]
    assert "neda" not in json.dumps([e.after for e in logged]).lower()
    # Erasing twice changes nothing and logs nothing more.
    assert privacy.erase(db, secret=ww.SECRET, member_id=member_id, now=utcnow()) == {}
    assert len(db.read(lambda c: audit.entries(c, action="erasure.*"))) == 2


def test_the_same_address_can_join_again_after_erasure_as_a_new_member(api, db):
    first = api.joined("neda@example.com")
    api.call(ERASE, {"input": {"confirm": True}}, token=first["token"])
    second = api.joined("neda@example.com")
    assert second["joined"] is True and _member_id(second) != _member_id(first)
    assert second["cardNumber"] != first["cardNumber"]


def test_erasure_needs_a_member(api, db):
    answer = api.call(ERASE, {"input": {"confirm": True}})
    assert answer.get("data") is None or answer["data"]["eraseMyData"] is None


def test_the_documented_operations_work_as_written(api, db):
    """graphql/operations/member/{RequestJoinCode,JoinNetwork,UpdateProfile,MyData,
    EraseMyData}.graphql, exactly as a member app would send them."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "member"
    ops = {p.stem: p.read_text() for p in folder.glob("*.graphql")}
    asked = api.call(ops["RequestJoinCode"], {"input": {"address": "new@example.com"}}
                     )["data"]["requestJoinCode"]
    assert asked["userErrors"] == [] and asked["channel"] == "email"
    joined = api.call(ops["JoinNetwork"], {"input": {
        "address": "new@example.com", "code": api.inbox().code_for("new@example.com")}}
    )["data"]["joinNetwork"]
    assert joined["joined"] is True and cards.is_valid(joined["cardNumber"])
    token = joined["token"]
    profile = api.call(ops["UpdateProfile"], {"input": {
        "displayName": "Neda", "birthDate": "1990-03-21", "city": "Shiraz",
        "interests": ["coffee"]}}, token=token)["data"]["updateProfile"]
    assert profile["completedNow"] is True and profile["profile"]["complete"] is True
    mine = api.call(ops["MyData"], token=token)["data"]["me"]["dataExport"]
    assert json.loads(mine)["profile"]["city"] == "Shiraz"
    erased = api.call(ops["EraseMyData"], {"input": {"confirm": True}}, token=token)
    assert erased["data"]["eraseMyData"] == {"erased": True, "userErrors": []}


def test_message_choices_are_exported_and_erased_while_the_consent_record_stays(api, db):
    from network.notifications import preferences
    from network.notifications.consent_schema import message_consents, message_preferences

    answer = api.joined("leila@example.com")
    token, member_id = answer["token"], _member_id(answer)
    db.write(preferences.change, member_id, preferences.Change(
        marketing_email=True, time_zone="Asia/Tehran",
        wording_version=preferences.WORDING_VERSION), source="web", now=utcnow(),
        network_zone="UTC")
    exported = api.call(EXPORT, token=token)["data"]["me"]["dataExport"]
    data = json.loads(exported) if isinstance(exported, str) else exported
    assert data["messagePreferences"][0]["time_zone"] == "Asia/Tehran"
    assert [c["category"] for c in data["messageConsents"]] == ["marketing"]
    assert data["lotteryEntries"] == [] and data["giftsSent"] == []

    done = privacy.erase(db, secret=ww.SECRET, member_id=member_id, now=utcnow())
    assert done["messagePreferences"] == 1
    assert db.read(lambda c: c.execute(select(message_preferences)).all()) == []
    kept = db.read(lambda c: c.execute(select(message_consents)).all())
    assert [(c.member_id, c.granted) for c in kept] == [(member_id, True)]
    assert verify(db) == []
