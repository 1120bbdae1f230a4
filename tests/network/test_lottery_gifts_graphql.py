"""`me { lotteries gifts }`, `enterLottery`, `sendPoints`, `acceptGift` and `declineGift` over
HTTP through the ASGI app, on both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from graphene import relay

from infra.app import create_app
from network import members
from network.clock import utcnow
from network.ledger.verify import verify
from network.notifications import inline
from network.programme import lottery
from network.programme import lottery_store as store
from tests.network import wallet_world as ww
from tests.network.test_wallet_graphql import Api, TestClient
from tests.support import ledger_world as w

HOUR = dt.timedelta(hours=1)

LOTTERIES = """{ me { lotteries { id code name nameFa status entryPrice maxEntriesPerMember
  prizes { position count label labelFa rewardId } commitment seed myEntries myEntryHashes
  winners myWinningPositions } } }"""
ENTER = """mutation($input: EnterLotteryInput!) { enterLottery(input: $input) {
  entryHash lottery { myEntries } wallet { spendable } userErrors { field code message } } }"""
SEND = """mutation($input: SendPointsInput!) { sendPoints(input: $input) {
  gift { id direction points status counterpartCard expiresAt } wallet { spendable held }
  userErrors { field code message } } }"""
ACCEPT = """mutation($input: AnswerGiftInput!) { acceptGift(input: $input) {
  gift { id status } wallet { spendable } userErrors { field code message } } }"""
DECLINE = """mutation($input: AnswerGiftInput!) { declineGift(input: $input) {
  gift { id status } wallet { spendable } userErrors { field code message } } }"""
GIFTS = "{ me { gifts { id direction points status counterpartCard } } }"


@pytest.fixture
def world(db, monkeypatch):
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    inline._drainers.clear()
    now = utcnow()
    cafe = w.partner(db, "cafe")
    sara = ww.enrol(db, email="sara@example.com", name="Sara", by=cafe)
    ali = ww.enrol(db, email="ali@example.com", name="Ali", by=cafe)
    ww.earn(db, cafe, sara, 500, at=now - HOUR)
    draw = store.open_draw(db, code="phone", name_en="A phone", name_fa="یک گوشی",
                           opens_at=now - HOUR, closes_at=now + HOUR, entry_price=40,
                           max_entries_per_member=2, sponsor_party_id=cafe,
                           prizes=[store.Prize(1, "Phone", "گوشی", 9)], now=now - HOUR)
    settings = dataclasses.replace(ww.settings(), member_transfers=True, gift_consent=True,
                                   gift_daily_limit=300)
    api = Api(db, TestClient(create_app(settings, db)))
    ali_card = db.read(lambda c: members.get(c, ali, w.SECRET)).card_number
    return {"api": api, "draw": draw, "sara": sara, "ali": ali, "ali_card": ali_card,
            "now": now}


def enter(api: Api, token: str, draw_id: str, key: str) -> dict[str, Any]:
    return api.call(ENTER, {"input": {"drawId": draw_id, "idempotencyKey": key}},
                    token)["data"]["enterLottery"]


def test_a_member_enters_sees_their_hashes_and_after_the_draw_the_seed_and_result(db, world):
    api, draw = world["api"], world["draw"]
    token = api.sign_in("sara@example.com")
    draw_id = relay.Node.to_global_id("LotteryDraw", draw.id)
    first = enter(api, token, draw_id, "e1")
    assert first["userErrors"] == [] and first["wallet"]["spendable"] == 460
    assert enter(api, token, draw_id, "e1") == first  # a retry: the same entry, no more points
    second = enter(api, token, draw_id, "e2")
    assert second["lottery"]["myEntries"] == 2
    third = enter(api, token, draw_id, "e3")
    assert third["userErrors"] == [{"field": "drawId", "code": "ENTRY_LIMIT_REACHED",
                                    "message": "a member may hold 2 entries in this draw"}]
    bad = enter(api, token, "nonsense", "e4")
    assert bad["userErrors"][0]["code"] == "INVALID_ID"
    shown = api.call(LOTTERIES, token=token)["data"]["me"]["lotteries"]
    assert len(shown) == 1
    mine = shown[0]
    assert mine["status"] == "OPEN" and mine["seed"] is None and mine["winners"] is None
    assert mine["commitment"] == draw.commitment
    assert mine["prizes"] == [{"position": 1, "count": 1, "label": "Phone", "labelFa": "گوشی",
                               "rewardId": "9"}]
    assert sorted(mine["myEntryHashes"]) == sorted([first["entryHash"], second["entryHash"]])

    store.close(db, "phone", now=world["now"] + 2 * HOUR)
    store.draw_winners(db, "phone", secret=w.SECRET, now=world["now"] + 2 * HOUR)
    drawn = api.call(LOTTERIES, token=token)["data"]["me"]["lotteries"][0]
    assert drawn["status"] == "DRAWN"
    assert lottery.commitment(bytes.fromhex(drawn["seed"])) == drawn["commitment"]
    assert drawn["winners"][0] in drawn["myEntryHashes"]  # the only entrant wins
    assert drawn["myWinningPositions"] == [1]
    assert verify(db) == []


def test_ali_sees_none_of_saras_entries(db, world):
    api, draw = world["api"], world["draw"]
    sara = api.sign_in("sara@example.com")
    enter(api, sara, relay.Node.to_global_id("LotteryDraw", draw.id), "e1")
    ali = api.sign_in("ali@example.com")
    seen = api.call(LOTTERIES, token=ali)["data"]["me"]["lotteries"][0]
    assert seen["myEntries"] == 0 and seen["myEntryHashes"] == []
    refused = enter(api, ali, relay.Node.to_global_id("LotteryDraw", draw.id), "a1")
    assert refused["userErrors"][0]["code"] == "INSUFFICIENT_POINTS"


def test_a_gift_waits_for_consent_and_is_accepted(db, world):
    api = world["api"]
    sara = api.sign_in("sara@example.com")
    sent = api.call(SEND, {"input": {"cardNumber": world["ali_card"], "points": 120,
                                     "idempotencyKey": "g1"}}, sara)["data"]["sendPoints"]
    assert sent["userErrors"] == []
    assert sent["gift"]["status"] == "PENDING" and sent["gift"]["direction"] == "SENT"
    assert sent["gift"]["counterpartCard"] == "•••• " + world["ali_card"][-4:]
    assert sent["wallet"] == {"spendable": 380, "held": 120}
    over = api.call(SEND, {"input": {"cardNumber": world["ali_card"], "points": 200,
                                     "idempotencyKey": "g2"}}, sara)["data"]["sendPoints"]
    assert over["userErrors"][0]["code"] == "GIFT_LIMIT_EXCEEDED"
    for variables, code in (
        ({"cardNumber": "7012345678901232", "points": 5}, "RECEIVER_NOT_FOUND"),
        ({"points": 5}, "RECEIVER_REQUIRED"),
        ({"cardNumber": world["ali_card"], "points": 0}, "INVALID_AMOUNT"),
    ):
        refused = api.call(SEND, {"input": variables | {"idempotencyKey": w.key()}},
                           sara)["data"]["sendPoints"]
        assert refused["userErrors"][0]["code"] == code, refused
    ali = api.sign_in("ali@example.com")
    waiting = api.call(GIFTS, token=ali)["data"]["me"]["gifts"]
    assert [(g["direction"], g["status"], g["points"]) for g in waiting] == [
        ("RECEIVED", "PENDING", 120)]
    not_hers = api.call(ACCEPT, {"input": {"giftId": waiting[0]["id"]}}, sara)["data"]
    assert not_hers["acceptGift"]["userErrors"][0]["code"] == "GIFT_NOT_FOUND"
    accepted = api.call(ACCEPT, {"input": {"giftId": waiting[0]["id"]}}, ali)["data"]
    assert accepted["acceptGift"]["gift"]["status"] == "ACCEPTED"
    assert accepted["acceptGift"]["wallet"]["spendable"] == 120
    declined = api.call(DECLINE, {"input": {"giftId": waiting[0]["id"]}}, ali)["data"]
    assert declined["declineGift"]["userErrors"][0]["code"] == "GIFT_NOT_PENDING"
    assert verify(db) == []


OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "member"


def test_the_documented_lottery_and_gift_operations_work_as_written(db, world):
    ops = {p.stem: p.read_text() for p in OPERATIONS.glob("*.graphql")}
    api, draw = world["api"], world["draw"]
    sara = api.sign_in("sara@example.com")
    entered = api.call(ops["EnterLottery"], {"input": {
        "drawId": relay.Node.to_global_id("LotteryDraw", draw.id), "idempotencyKey": "t1"}},
        sara, status=200)["data"]["enterLottery"]
    assert entered["userErrors"] == [] and entered["lottery"]["myEntries"] == 1
    listed = api.call(ops["Lotteries"], token=sara, status=200)["data"]["me"]["lotteries"]
    assert listed[0]["myEntryHashes"] == [entered["entryHash"]]
    for key in ("s1", "s2"):
        sent = api.call(ops["SendPoints"], {"input": {"cardNumber": world["ali_card"],
                                                      "points": 10, "idempotencyKey": key}},
                        sara, status=200)["data"]["sendPoints"]
        assert sent["userErrors"] == [] and sent["gift"]["status"] == "PENDING"
    ali = api.sign_in("ali@example.com")
    waiting = api.call(ops["Gifts"], token=ali, status=200)["data"]["me"]["gifts"]
    assert [g["status"] for g in waiting] == ["PENDING", "PENDING"]
    accepted = api.call(ops["AcceptGift"], {"input": {"giftId": waiting[0]["id"]}},
                        ali, status=200)["data"]["acceptGift"]
    assert accepted["gift"]["status"] == "ACCEPTED" and accepted["wallet"]["spendable"] == 10
    declined = api.call(ops["DeclineGift"], {"input": {"giftId": waiting[1]["id"],
                                                       "blockSender": True}},
                        ali, status=200)["data"]["declineGift"]
    assert declined["gift"]["status"] == "DECLINED"
    again = api.call(ops["SendPoints"], {"input": {"cardNumber": world["ali_card"], "points": 10,
                                                   "idempotencyKey": "s3"}},
                     sara, status=200)["data"]["sendPoints"]
    assert again["userErrors"][0]["code"] == "RECEIVER_BLOCKED"
    assert verify(db) == []


STAFF_OPERATIONS = OPERATIONS.parent / "staff"


def test_an_operator_opens_closes_and_draws_over_graphql(db, world):
    from network import staff

    ops = {p.stem: p.read_text() for p in STAFF_OPERATIONS.glob("*Lottery.graphql")}
    api = world["api"]
    viewer = staff.create(db, "Vera", {"viewer"})[1]
    olga = staff.create(db, "Olga", {"operator"})[1]
    closes = (world["now"] - HOUR).isoformat()  # already over: it can close at once
    opening = {"input": {"code": "tickets", "name": "Tickets", "nameFa": "بلیت",
                         "sponsorCode": "cafe", "opensAt": (world["now"] - 2 * HOUR).isoformat(),
                         "closesAt": closes, "entryPrice": 10, "maxEntriesPerMember": 2,
                         "prizes": [{"count": 1, "label": "Two tickets", "labelFa": "دو بلیت",
                                     "rewardId": "12"}]}}
    denied = api.call(ops["OpenLottery"], opening, viewer)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    opened = api.call(ops["OpenLottery"], opening, olga)["data"]["openLottery"]
    assert opened["userErrors"] == [] and opened["lottery"]["status"] == "open"
    assert opened["lottery"]["commitment"] == db.read(store.get, "tickets").commitment
    again = api.call(ops["OpenLottery"], opening, olga)["data"]["openLottery"]
    assert again["userErrors"][0]["code"] == "DRAW_EXISTS"
    bad = api.call(ops["OpenLottery"], {"input": opening["input"] | {
        "code": "x", "sponsorCode": "nobody"}}, olga)["data"]["openLottery"]
    assert bad["userErrors"] == [{"field": "sponsorCode", "code": "PARTY_NOT_FOUND",
                                  "message": "no partner with code 'nobody'"}]
    early = api.call(ops["DrawLottery"], {"code": "tickets"}, olga)["data"]["drawLottery"]
    assert early["userErrors"][0]["code"] == "DRAW_NOT_CLOSED"
    closed = api.call(ops["CloseLottery"], {"code": "tickets"}, olga)["data"]["closeLottery"]
    assert closed["lottery"] == {"code": "tickets", "status": "closed", "entries": 0}
    drawn = api.call(ops["DrawLottery"], {"code": "tickets"}, olga)["data"]["drawLottery"]
    assert drawn["lottery"]["status"] == "drawn" and drawn["lottery"]["winners"] == []
    assert lottery.commitment(bytes.fromhex(drawn["lottery"]["seed"])) == \
        drawn["lottery"]["commitment"]
