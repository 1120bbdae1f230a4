"""The member's GraphQL slice over HTTP through the ASGI app: sign-in, every `me` field, every
member mutation, and refusals -- wrong, expired and over-tried codes, another member's data."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import pytest
from graphene import relay
from graphql_relay import from_global_id
from sqlalchemy import select, update

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import ledger
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import journal_entries
from network.ledger.balances import summary
from network.notifications import inline
from network.notifications.schema import notification_outbox
from network.signin.schema import member_sessions, signin_codes
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

DAY = dt.timedelta(days=1)


def gid(type_name: str, value: int) -> str:
    return relay.Node.to_global_id(type_name, value)


class Api:
    def __init__(self, db: Database, client: TestClient) -> None:
        self.db = db
        self.client = client

    def call(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None,
             status: int | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                    headers=headers)
        if status is not None:
            assert response.status_code == status, response.text
        return response.json()

    def request_code(self, address: str, language: str | None = None) -> dict[str, Any]:
        return self.call(REQUEST, {"input": {"address": address, "language": language}}
                         )["data"]["requestSignInCode"]

    def verify(self, address: str, code: str) -> dict[str, Any]:
        return self.call(VERIFY, {"input": {"address": address, "code": code}}
                         )["data"]["verifySignInCode"]

    def code(self, address: str) -> str:
        return ww.deliver(self.db, ww.Inbox()).code_for(address)

    def sign_in(self, address: str) -> str:
        assert self.request_code(address)["userErrors"] == []
        token = self.verify(address, self.code(address))["token"]
        assert token
        return token


REQUEST = """mutation($input: RequestSignInCodeInput!) { requestSignInCode(input: $input) {
  channel maskedAddress expiresInSeconds userErrors { field code message } } }"""
VERIFY = """mutation($input: VerifySignInCodeInput!) { verifySignInCode(input: $input) {
  token memberId session { id kind current expiresAt } userErrors { field code message } } }"""
ME = """query($first: Int, $after: String) { me {
  id cardNumber cardQrSvg displayName email phone locale
  wallet { total spendable pending held debt
    pendingLots { points at } expiring { points at } longer: expiring(withinDays: 400) { points }
    tier { name earned nextName nextThreshold remaining since keptUntil pointsToKeep
      earnMultiplier }
    partners { party { id kind code name nameFa } earned spent } }
  history(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id kind points walletPoints reference bookedAt
      party { id kind code name } reverses { id kind } reversedBy { id kind } } } }
  sessions { id kind current userAgent ip createdAt lastSeenAt expiresAt } } }"""
DONATE = """mutation($input: DonateInput!) { donate(input: $input) {
  entry { id kind points walletPoints party { id name } }
  wallet { spendable total } userErrors { field code message } } }"""
CONTACT = """mutation($input: UpdateContactInput!) { updateContact(input: $input) {
  member { email phone displayName locale } userErrors { field code message } } }"""
SIGN_OUT = """mutation($input: SignOutInput!) { signOut(input: $input) { revoked
  userErrors { code } } }"""
REVOKE = """mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { revoked
  userErrors { field code message } } }"""
NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on WalletEntry { kind points } ... on Member { cardNumber }
  ... on MemberSession { sessionKind: kind } } }"""


@pytest.fixture
def api(db: Database, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    inline._drainers.clear()
    return Api(db, TestClient(create_app(ww.settings(), db)))


@pytest.fixture
def world(db: Database) -> dict[str, Any]:
    """Sara's wallet: earns at two partners, a pending earn, a redemption, a partial reversal
    and an open hold, booked relative to now (the API reads the real clock)."""
    now = utcnow()
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    mahak = w.charity(db, "mahak")
    sara = ww.enrol(db, email="sara@example.com", phone="+989121234567", name="Sara", by=cafe)
    ali = ww.enrol(db, email="ali@example.com", name="Ali", by=shop)
    c1 = ww.earn(db, cafe, sara, 1000, at=now - 200 * DAY, expires_in=230 * DAY, reference="C-1")
    ww.earn(db, shop, sara, 500, at=now - 10 * DAY, expires_in=310 * DAY, reference="S-1")
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=w.key(), partner_id=shop,
                  member_id=sara, points=300, reference="S-2", now=now - 5 * DAY)
    reversal = ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key=w.key(),
                                   partner_id=cafe, entry_id=c1.entry_id, points=100,
                                   now=now - 4 * DAY)
    ww.earn(db, cafe, sara, 200, at=now - DAY, pending=14 * DAY, reference="C-2")
    ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key=w.key(), partner_id=cafe,
                          member_id=sara, points=50, reference="H-1", now=now)
    ali_entry = ww.earn(db, shop, ali, 70, at=now - DAY, reference="A-1")
    return {"cafe": cafe, "shop": shop, "mahak": mahak, "sara": sara, "ali": ali,
            "c1": c1.entry_id, "reversal": reversal.entry_id, "ali_entry": ali_entry.entry_id}


def test_sign_in_and_every_me_field_matches_the_ledger(api, db, world):
    sent = api.request_code("SARA@example.com")
    assert sent == {"channel": "email", "maskedAddress": "s•••@example.com",
                    "expiresInSeconds": 600, "userErrors": []}
    verified = api.verify("sara@example.com", api.code("sara@example.com"))
    assert verified["userErrors"] == [] and verified["token"].startswith("pns_")
    assert verified["memberId"] == gid("Member", world["sara"])
    assert verified["session"]["kind"] == "bearer"
    me = api.call(ME, {"first": 4}, token=verified["token"], status=200)["data"]["me"]

    assert me["id"] == gid("Member", world["sara"])
    assert (me["displayName"], me["email"], me["phone"], me["locale"]) == (
        "Sara", "sara@example.com", "+989121234567", "en")
    assert len(me["cardNumber"]) == 16 and me["cardQrSvg"].startswith("<svg")

    truth = db.read(summary, world["sara"], utcnow())
    wallet = me["wallet"]
    assert (wallet["total"], wallet["spendable"], wallet["pending"], wallet["held"],
            wallet["debt"]) == (truth.total, truth.spendable, truth.pending, truth.held,
                                truth.debt) == (1250, 1050, 200, 50, 0)
    assert [p["points"] for p in wallet["pendingLots"]] == [200]
    assert [e["points"] for e in wallet["expiring"]] == [550]  # C-1's lot, 30 days left
    assert sorted(e["points"] for e in wallet["longer"]) == [500, 550]
    assert wallet["tier"] == {"name": "blue", "earned": 1600, "nextName": "silver",
                              "nextThreshold": 2000, "remaining": 400, "since": None,
                              "keptUntil": None, "pointsToKeep": 0, "earnMultiplier": "1"}
    by_code = {p["party"]["code"]: p for p in wallet["partners"]}
    assert (by_code["cafe"]["earned"], by_code["cafe"]["spent"]) == (1100, 0)
    assert (by_code["shop"]["earned"], by_code["shop"]["spent"]) == (500, 300)
    assert by_code["cafe"]["party"]["kind"] == "partner"

    page = me["history"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False
    nodes = [e["node"] for e in page["edges"]]
    assert [(n["kind"], n["points"], n["walletPoints"], n["reference"]) for n in nodes] == [
        ("HOLD", 50, -50, "H-1"), ("EARN", 200, 200, "C-2"), ("REVERSE_EARN", 100, -100, None),
        ("REDEEM", 300, -300, "S-2")]
    assert nodes[2]["reverses"]["id"] == gid("WalletEntry", world["c1"])
    assert nodes[3]["party"]["code"] == "shop"
    rest = api.call(ME, {"first": 4, "after": page["pageInfo"]["endCursor"]},
                    token=verified["token"])["data"]["me"]["history"]
    older = [e["node"] for e in rest["edges"]]
    assert [(n["kind"], n["walletPoints"], n["reference"]) for n in older] == [
        ("EARN", 500, "S-1"), ("EARN", 1000, "C-1")]
    assert older[1]["reversedBy"] == [{"id": gid("WalletEntry", world["reversal"]),
                                       "kind": "REVERSE_EARN"}]
    assert rest["pageInfo"]["hasNextPage"] is False and rest["pageInfo"]["hasPreviousPage"]
    ledger_ids = db.read(lambda c: c.execute(select(journal_entries.c.id).where(
        journal_entries.c.member_id == world["sara"])).scalars().all())
    assert sorted(int(from_global_id(n["id"])[1]) for n in nodes + older) == \
        sorted(ledger_ids)
    assert [(s["kind"], s["current"], s["userAgent"]) for s in me["sessions"]] == [
        ("bearer", True, "testclient")]


def test_me_shows_a_tier_kept_on_retention(api, db, world):
    """Sara reached gold 370 days ago on a bonus now out of the window; the job last saw her
    qualify 60 days ago, so gold is kept 30 days more, unless she earns what it needs."""
    from zoneinfo import ZoneInfo

    from network.programme import tiers_store

    now = utcnow()
    ledger.award_bonus(db, scope="t", idempotency_key=w.key(), member_id=world["sara"],
                       points=12_000, reason="goodwill", now=now - 370 * DAY)
    tiers_store.recalc_all(db, now - 370 * DAY, zone=ZoneInfo("UTC"))
    tiers_store.recalc_all(db, now - 60 * DAY, zone=ZoneInfo("UTC"))
    api.request_code("sara@example.com")
    token = api.verify("sara@example.com", api.code("sara@example.com"))["token"]
    tier = api.call(ME, {"first": 1}, token=token, status=200)["data"]["me"]["wallet"]["tier"]
    since = dt.datetime.fromisoformat(tier.pop("since"))
    assert abs(since - (now - 370 * DAY)) < dt.timedelta(seconds=1)
    assert tier == {"name": "gold", "earned": 1600, "nextName": "platinum",
                    "nextThreshold": 50_000, "remaining": 48_400,
                    "keptUntil": ((now - 60 * DAY).date() + 90 * DAY).isoformat(),
                    "pointsToKeep": 8_400, "earnMultiplier": "1.5"}


def test_me_needs_a_member_token(api, world):
    anonymous = api.call("{ me { id } }", status=400)
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    forged = api.call("{ me { id } }", token="pns_forged", status=401)
    assert forged["errors"][0]["extensions"]["code"] == "SESSION_INVALID"


def test_wrong_code_then_too_many_attempts(api, db, world):
    api.request_code("sara@example.com")
    code = api.code("sara@example.com")
    wrong = "000000" if code != "000000" else "111111"
    first = api.verify("sara@example.com", wrong)
    assert first["token"] is None
    assert first["userErrors"] == [{"field": "code", "code": "CODE_INVALID",
                                    "message": "That code is not right. 4 attempts left."}]
    for _ in range(3):
        assert api.verify("sara@example.com", wrong)["userErrors"][0]["code"] == "CODE_INVALID"
    assert api.verify("sara@example.com", wrong)["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    late = api.verify("sara@example.com", code)
    assert late["token"] is None and late["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert ww.count(db, member_sessions) == 0


def test_expired_code(api, db, world):
    api.request_code("+98 912 123 4567")
    code = api.code("+989121234567")
    db.write(lambda c: c.execute(update(signin_codes).values(
        expires_at=utcnow() - dt.timedelta(seconds=1))))
    expired = api.verify("+989121234567", code)
    assert expired["token"] is None and expired["userErrors"][0]["code"] == "CODE_EXPIRED"


def test_bad_sign_in_input_is_named(api, db, world):
    before = w.row_counts(db)
    assert api.request_code("sara@")["userErrors"][0] == {
        "field": "address", "code": "INVALID_EMAIL",
        "message": "Enter an email address like name@example.com."}
    assert api.request_code("sara@example.com", language="de")["userErrors"][0]["code"] == \
        "INVALID_LOCALE"
    assert api.verify("sara@example.com", "12")["userErrors"][0]["code"] == "INVALID_CODE_FORMAT"
    assert w.row_counts(db) == before


def test_code_requests_are_rate_limited(api, world):
    for _ in range(5):
        assert api.request_code("sara@example.com")["userErrors"] == []
    limited = api.request_code("sara@example.com")
    assert limited["userErrors"][0]["code"] == "RATE_LIMITED" and limited["channel"] is None


def test_another_members_data_is_refused(api, world):
    token = api.sign_in("sara@example.com")
    ali_token = api.sign_in("ali@example.com")
    for type_name, value in (("WalletEntry", world["ali_entry"]), ("Member", world["ali"])):
        assert api.call(NODE, {"id": gid(type_name, value)}, token=token)["data"]["node"] is None
    own = api.call(NODE, {"id": gid("WalletEntry", world["c1"])}, token=token)["data"]["node"]
    assert own == {"id": gid("WalletEntry", world["c1"]), "__typename": "WalletEntry",
                   "kind": "EARN", "points": 1000}
    ali_session = api.call("{ me { sessions { id } } }", token=ali_token)["data"]["me"]
    ali_session_id = ali_session["sessions"][0]["id"]
    assert api.call(NODE, {"id": ali_session_id}, token=token)["data"]["node"] is None
    refused = api.call(REVOKE, {"input": {"sessionId": ali_session_id}},
                       token=token)["data"]["revokeSession"]
    assert refused == {"revoked": False, "userErrors": [{
        "field": "sessionId", "code": "SESSION_NOT_FOUND",
        "message": "You have no live session with this id."}]}
    assert api.call("{ me { id } }", token=ali_token)["data"]["me"]["id"] == gid("Member",
                                                                                 world["ali"])
    # nor can anyone without a token ask for a member's entry
    anonymous = api.call(NODE, {"id": gid("WalletEntry", world["c1"])})
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_history_paging_limits(api, world):
    token = api.sign_in("sara@example.com")
    for first in (0, 101):
        result = api.call(ME, {"first": first}, token=token)
        assert result["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"
    bad = api.call(ME, {"after": "bm9wZQ=="}, token=token)
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_CURSOR", "field": "after"}


def test_donate_is_checked_idempotent_and_drops_the_balance(api, db, world):
    token = api.sign_in("sara@example.com")
    charity = gid("Charity", world["mahak"])
    listed = api.call("{ charities { id code } }", token=token)["data"]["charities"]
    assert listed == [{"id": charity, "code": "mahak"}]
    data = {"charityId": charity, "points": 400, "idempotencyKey": "don-1"}
    first = api.call(DONATE, {"input": data}, token=token)["data"]["donate"]
    assert first["userErrors"] == []
    assert first["entry"]["kind"] == "DONATE" and first["entry"]["walletPoints"] == -400
    assert first["wallet"] == {"spendable": 650, "total": 850}
    again = api.call(DONATE, {"input": data}, token=token)["data"]["donate"]
    assert again["entry"]["id"] == first["entry"]["id"] and again["wallet"]["spendable"] == 650
    reused = api.call(DONATE, {"input": {**data, "points": 10}}, token=token)["data"]["donate"]
    assert reused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert db.read(summary, world["sara"], utcnow()).spendable == 650
    me = api.call(ME, {"first": 1}, token=token)["data"]["me"]
    assert me["history"]["edges"][0]["node"]["kind"] == "DONATE"
    assert {p["party"]["code"]: p["spent"] for p in me["wallet"]["partners"]}["mahak"] == 400


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"points": 651}, "points", "INSUFFICIENT_POINTS"),
    ({"points": 0}, "points", "INVALID_AMOUNT"),
    ({"points": -5}, "points", "INVALID_AMOUNT"),
    ({"points": 2_000_000_000}, "points", "AMOUNT_TOO_LARGE"),
    ({"charityId": "not-an-id"}, "charityId", "INVALID_ID"),
    ({"charityId": relay.Node.to_global_id("WalletParty", 1)}, "charityId", "INVALID_ID"),
    ({"charityId": relay.Node.to_global_id("Charity", 9999)}, "charityId", "CHARITY_NOT_FOUND"),
    ({"idempotencyKey": ""}, "idempotencyKey", "IDEMPOTENCY_KEY_MISSING"),
])
def test_bad_donations_are_named_and_write_nothing(api, db, world, change, field, code):
    token = api.sign_in("sara@example.com")
    api.call(DONATE, {"input": {"charityId": gid("Charity", world["mahak"]), "points": 400,
                                "idempotencyKey": "first"}}, token=token)
    before = w.row_counts(db)
    data = {"charityId": gid("Charity", world["mahak"]), "points": 100,
            "idempotencyKey": "k-bad", **change}
    result = api.call(DONATE, {"input": data}, token=token)["data"]["donate"]
    assert result["entry"] is None
    assert (result["userErrors"][0]["field"], result["userErrors"][0]["code"]) == (field, code)
    assert w.row_counts(db) == before


def test_donating_a_partners_points_to_a_partner_is_refused(api, db, world):
    token = api.sign_in("sara@example.com")
    cafe_as_charity = gid("Charity", world["cafe"])
    result = api.call(DONATE, {"input": {"charityId": cafe_as_charity, "points": 10,
                                         "idempotencyKey": "x"}}, token=token)["data"]["donate"]
    assert result["userErrors"][0]["code"] == "CHARITY_NOT_FOUND"


def test_update_contact_and_sign_in_with_the_new_address(api, db, world):
    token = api.sign_in("sara@example.com")
    ww.deliver(db, ww.Inbox())
    result = api.call(CONTACT, {"input": {"email": "Sara.New@example.com", "displayName": "S.",
                                          "locale": "fa"}}, token=token)["data"]["updateContact"]
    assert result == {"member": {"email": "sara.new@example.com", "phone": "+989121234567",
                                 "displayName": "S.", "locale": "fa"}, "userErrors": []}
    notices = ww.deliver(db, ww.Inbox()).messages
    assert {(m.channel, m.recipient) for m in notices} == {("email", "sara@example.com"),
                                                           ("sms", "+989121234567")}
    assert all("تغییر" in m.body for m in notices)  # in the language the member just chose
    assert api.request_code("sara@example.com")["userErrors"] == []
    assert ww.count(db, notification_outbox) == 3  # 1 code + 2 notices: none for the old address
    assert api.sign_in("sara.new@example.com")
    removed = api.call(CONTACT, {"input": {"phone": ""}}, token=token)["data"]["updateContact"]
    assert removed["member"]["phone"] is None


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"email": "ali@example.com"}, "email", "EMAIL_TAKEN"),
    ({"email": "nope"}, "email", "INVALID_EMAIL"),
    ({"phone": "12"}, "phone", "INVALID_PHONE"),
    ({"email": "", "phone": ""}, "email", "CONTACT_REQUIRED"),
    ({"displayName": "x" * 201}, "displayName", "NAME_TOO_LONG"),
    ({"locale": "de"}, "locale", "INVALID_LOCALE"),
])
def test_bad_contact_changes_are_named_and_write_nothing(api, db, world, change, field, code):
    token = api.sign_in("sara@example.com")
    before = w.row_counts(db)
    result = api.call(CONTACT, {"input": change}, token=token)["data"]["updateContact"]
    assert result["member"] is None
    assert (result["userErrors"][0]["field"], result["userErrors"][0]["code"]) == (field, code)
    assert w.row_counts(db) == before


def test_sign_out_and_revoke_sessions(api, world):
    first = api.sign_in("sara@example.com")
    second = api.sign_in("sara@example.com")
    third = api.sign_in("sara@example.com")
    listed = api.call("{ me { sessions { id current } } }", token=first)["data"]["me"]["sessions"]
    assert [s["current"] for s in listed] == [False, False, True]
    out = api.call(SIGN_OUT, {"input": {}}, token=first)["data"]["signOut"]
    assert out == {"revoked": 1, "userErrors": []}
    assert api.call("{ me { id } }", token=first, status=401)
    revoke = api.call(REVOKE, {"input": {"sessionId": listed[1]["id"]}},
                      token=third)["data"]["revokeSession"]
    assert revoke == {"revoked": True, "userErrors": []}
    assert api.call("{ me { id } }", token=second, status=401)
    bad = api.call(REVOKE, {"input": {"sessionId": "junk"}}, token=third)["data"]["revokeSession"]
    assert bad["userErrors"][0]["code"] == "INVALID_ID"
    everywhere = api.call(SIGN_OUT, {"input": {"everywhere": True}}, token=third)
    assert everywhere["data"]["signOut"]["revoked"] == 1
    assert api.call("{ me { id } }", token=third, status=401)


@pytest.mark.parametrize("mutation", [DONATE, CONTACT, SIGN_OUT, REVOKE])
def test_member_mutations_need_a_member(api, world, mutation):
    inputs = {DONATE: {"charityId": "x", "points": 1, "idempotencyKey": "k"},
              CONTACT: {"email": "x@example.com"}, SIGN_OUT: {}, REVOKE: {"sessionId": "x"}}
    result = api.call(mutation, {"input": inputs[mutation]})
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_preloaded_and_separately_read_pages_agree(api, world):
    """`me` preloads one history page; aliases and fragments read their own, same answers."""
    token = api.sign_in("sara@example.com")
    two = api.call("""{ me { a: history(first: 1) { edges { node { id } } }
                             b: history(first: 2) { edges { node { id } } }
                             ...more } }
                      fragment more on Member { history(first: 3) { edges { node { id } } }
                                               wallet { spendable } }""", token=token)["data"]
    one = api.call("{ me { history(first: 3) { edges { node { id } } } } }",
                   token=token)["data"]["me"]["history"]["edges"]
    ids = [e["node"]["id"] for e in one]
    assert [e["node"]["id"] for e in two["me"]["a"]["edges"]] == ids[:1]
    assert [e["node"]["id"] for e in two["me"]["b"]["edges"]] == ids[:2]
    assert [e["node"]["id"] for e in two["me"]["history"]["edges"]] == ids
    assert two["me"]["wallet"]["spendable"] == 1050


OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "member"


def test_the_documented_member_operations_work_as_written(api, db, world):
    """graphql/operations/member/*.graphql, exactly as a member app would send them."""
    ops = {p.stem: p.read_text() for p in OPERATIONS.glob("*.graphql")}
    asked = api.call(ops["RequestSignInCode"], {"input": {"address": "sara@example.com"}},
                     status=200)["data"]["requestSignInCode"]
    assert asked["userErrors"] == [] and asked["channel"] == "email"
    code = api.code("sara@example.com")
    token = api.call(ops["VerifySignInCode"], {"input": {"address": "sara@example.com",
                                                        "code": code}},
                     status=200)["data"]["verifySignInCode"]["token"]
    me = api.call(ops["Wallet"], {"first": 2}, token=token, status=200)["data"]["me"]
    balance = db.read(summary, world["sara"], utcnow())
    assert me["wallet"]["spendable"] == balance.spendable
    assert len(me["history"]["edges"]) == 2 and me["history"]["pageInfo"]["hasNextPage"]
    assert me["referralLink"] == f"{ww.settings().base_url}/join?ref={me['referralCode']}"
    donated = api.call(ops["Donate"], {"input": {"charityId": gid("Charity", world["mahak"]),
                                                 "points": 25, "idempotencyKey": "tap-1"}},
                       token=token, status=200)["data"]["donate"]
    assert donated["userErrors"] == []
    assert donated["wallet"]["spendable"] == balance.spendable - 25


VALUE = """query { me { wallet { spendable
  spendableValue { amount amountMinor currency perPoint }
  pendingByPartner { points at partner { code name } } }
  sessions { device userAgent } } }"""


def test_me_has_the_spendable_value_pending_by_partner_and_device_names(api, db, world):
    """The wallet page's headline, over GraphQL too."""
    token = api.sign_in("sara@example.com")
    data = api.call(VALUE, token=token)["data"]["me"]
    wallet = data["wallet"]
    assert wallet["spendable"] == 1050  # 900 + 500 - 300 - 50 held
    assert wallet["spendableValue"] == {"amount": "5.25", "amountMinor": 525, "currency": "EUR",
                                        "perPoint": "0.005"}
    assert [(p["points"], p["partner"]["code"]) for p in wallet["pendingByPartner"]] == \
        [(200, "cafe")]
    assert dt.datetime.fromisoformat(wallet["pendingByPartner"][0]["at"]) > utcnow()
    assert data["sessions"][0]["device"] == data["sessions"][0]["userAgent"] == "testclient"
