"""Each documented partner operation over HTTP through the ASGI app: happy path and errors."""

from __future__ import annotations

from datetime import timedelta

from graphene import relay

from network import cards
from network.clock import utcnow
from tests.partners.conftest import Hub, operation


def _award(client, card: str, amount: int = 1000, **extra: object) -> dict:  # type: ignore[no-untyped-def]
    result = client.execute(
        operation("AwardPoints"),
        {"input": {"cardNumber": card, "amount": amount, "currency": "EUR", **extra}},
    )
    return result["data"]["awardPoints"]


def test_enrol_then_look_up_by_card_phone_and_id(any_hub: Hub) -> None:
    card = cards.generate()
    with any_hub.client() as client:
        enrolled = client.execute(
            operation("EnrolMember"),
            {"input": {"cardNumber": card, "phone": "+44 20 7946 0000", "email": "A@Example.com"}},
        )["data"]["enrolMember"]
        assert enrolled["userErrors"] == []
        member = enrolled["member"]
        assert member["cardNumber"] == card and member["enrolledHere"] is True
        for variables in (
            {"cardNumber": card},
            {"phone": "+442079460000"},
            {"email": "a@example.com"},
            {"id": member["id"]},
        ):
            found = client.execute(operation("LookUpMember"), variables)["data"]["partner"][
                "member"
            ]
            assert found["id"] == member["id"], variables
            assert found["balance"] == 0 and found["tier"] == "blue"
    with any_hub.client("shop") as shop:
        seen = shop.execute(operation("LookUpMember"), {"cardNumber": card})
        assert seen["data"]["partner"]["member"]["enrolledHere"] is False


def test_enrol_errors(any_hub: Hub) -> None:
    with any_hub.client() as client:
        bad = client.execute(
            operation("EnrolMember"), {"input": {"cardNumber": "7012345678901234"}}
        )
        assert bad["data"]["enrolMember"]["userErrors"][0]["code"] == "INVALID_CARD_NUMBER"
        client.execute(operation("EnrolMember"), {"input": {"phone": "+15550001111"}})
    with any_hub.client("shop") as shop:
        twin = shop.execute(operation("EnrolMember"), {"input": {"phone": "+1 555 000 1111"}})
        payload = twin["data"]["enrolMember"]
        assert payload["userErrors"][0]["code"] == "MEMBER_EXISTS"
        assert payload["member"]["enrolledHere"] is False  # the one network member, found


def test_enrol_refuses_addresses_no_message_reaches(any_hub: Hub) -> None:
    """Superscripts, letters and control characters are in no deliverable address."""
    with any_hub.client() as client:
        for field, value, code in (("phone", "+98912123456\u00b2", "INVALID_PHONE"),
                                   ("phone", "+98 912 CALL ME", "INVALID_PHONE"),
                                   ("email", "sara\x00@example.com", "INVALID_EMAIL"),
                                   ("email", "sara@exam\x1bple.com", "INVALID_EMAIL")):
            payload = client.execute(operation("EnrolMember"),
                                     {"input": {field: value}})["data"]["enrolMember"]
            assert payload["member"] is None, value
            assert [e["code"] for e in payload["userErrors"]] == [code], value


def test_every_spelling_of_one_phone_is_one_member(any_hub: Hub) -> None:
    """Persian, Devanagari or fullwidth digits, or the number as dialled in the network's
    country (IR by default), are spellings of one number: MEMBER_EXISTS, never a twin."""
    with any_hub.client() as client:
        persian = client.execute(operation("EnrolMember"), {"input": {"phone": "+۹۸۹۱۲۰۰۰۰۰۰۱"}})
        assert persian["data"]["enrolMember"]["userErrors"] == []
        first = persian["data"]["enrolMember"]["member"]["cardNumber"]
        for twin in ("+\u096f\u096e\u096f\u0967\u0968\u0966\u0966\u0966\u0966\u0966\u0966\u0967",
                     "09120000001", "۰۹۱۲ ۰۰۰ ۰۰۰۱", "+９８９１２００００００１"):
            payload = client.execute(operation("EnrolMember"),
                                     {"input": {"phone": twin}})["data"]["enrolMember"]
            assert [e["code"] for e in payload["userErrors"]] == ["MEMBER_EXISTS"], twin
            assert payload["member"]["cardNumber"] == first, twin
        for spelling in ("+989120000001", "0912 000 0001"):
            found = client.execute(operation("LookUpMember"), {"phone": spelling})
            assert found["data"]["partner"]["member"]["cardNumber"] == first, spelling


def test_award_uses_the_contract(any_hub: Hub) -> None:
    member = any_hub.enrol()
    with any_hub.client() as cafe:
        result = _award(cafe, member.card_number, 1255, reference="till-1")
        assert result["userErrors"] == []
        assert result["transaction"]["points"] == 126  # 12.55 EUR x 10, half-even
        assert result["transaction"]["reference"] == "till-1"
        assert result["balanceAfter"] == 126
    with any_hub.client("shop") as shop:  # 1.5/EUR, 14 pending days, explicit points allowed
        result = _award(shop, member.card_number, 1000)
        assert result["transaction"]["points"] == 15
        explicit = _award(shop, member.card_number, 1000, points=99)
        assert explicit["transaction"]["points"] == 99
        found = shop.execute(operation("LookUpMember"), {"cardNumber": member.card_number})
        view = found["data"]["partner"]["member"]
        assert (view["spendable"], view["pending"]) == (126, 114)


def test_award_errors_write_nothing(any_hub: Hub) -> None:
    member = any_hub.enrol()
    before = any_hub.ledger_counts()
    with any_hub.client() as cafe:
        cases = [
            ({"amount": 0}, "INVALID_AMOUNT", "amount"),
            ({"amount": -5}, "INVALID_AMOUNT", "amount"),
            ({"currency": "USD"}, "CURRENCY_MISMATCH", "currency"),
            ({"currency": "EURO"}, "INVALID_CURRENCY", "currency"),
            ({"points": 5}, "EXPLICIT_POINTS_NOT_ALLOWED", "points"),
            ({"amount": 4}, "AMOUNT_EARNS_NOTHING", "amount"),
            ({"reference": "x" * 201}, "INVALID_INPUT", "reference"),
        ]
        for extra, code, field in cases:
            result = cafe.execute(
                operation("AwardPoints"),
                {
                    "input": {
                        "cardNumber": member.card_number,
                        "amount": 1000,
                        "currency": "EUR",
                        **extra,
                    }
                },
            )
            [error] = result["data"]["awardPoints"]["userErrors"]
            assert (error["code"], error["field"]) == (code, field), extra
        unknown = cafe.execute(
            operation("AwardPoints"),
            {"input": {"cardNumber": cards.generate(), "amount": 1000, "currency": "EUR"}},
        )
        [error] = unknown["data"]["awardPoints"]["userErrors"]
        assert (error["code"], error["field"]) == ("MEMBER_NOT_FOUND", "cardNumber")
        mistyped = member.card_number[:-1] + str((int(member.card_number[-1]) + 1) % 10)
        typo = cafe.execute(operation("AwardPoints"), {"input": {
            "cardNumber": mistyped, "amount": 1000, "currency": "EUR"}})
        [error] = typo["data"]["awardPoints"]["userErrors"]
        assert (error["code"], error["field"]) == ("INVALID_CARD_NUMBER", "cardNumber")
        ghost = cafe.execute(operation("AwardPoints"), {"input": {
            "memberId": relay.Node.to_global_id("PartnerMember", "999999"), "amount": 1000,
            "currency": "EUR"}})
        [error] = ghost["data"]["awardPoints"]["userErrors"]
        assert (error["code"], error["field"]) == ("MEMBER_NOT_FOUND", "memberId")
        junk = cafe.execute(operation("AwardPoints"), {"input": {
            "memberId": "not-an-id", "amount": 1000, "currency": "EUR"}})
        assert junk["data"]["awardPoints"]["userErrors"][0]["code"] == "INVALID_ID"
        both = cafe.execute(
            operation("AwardPoints"),
            {
                "input": {
                    "cardNumber": member.card_number,
                    "memberId": "x",
                    "amount": 1,
                    "currency": "EUR",
                }
            },
        )
        assert both["data"]["awardPoints"]["userErrors"][0]["code"] == "MEMBER_REFERENCE"
    assert any_hub.ledger_counts() == before


def test_a_card_typed_in_persian_digits_and_grouped_finds_the_member(any_hub: Hub) -> None:
    """The first award looks the card up, the second finds it in the hub's card cache."""
    member = any_hub.enrol()
    persian = cards.grouped(member.card_number).translate(str.maketrans("0123456789",
                                                                         "۰۱۲۳۴۵۶۷۸۹"))
    with any_hub.client() as cafe:
        for _ in range(2):
            result = _award(cafe, persian)
            assert result["userErrors"] == [] and result["transaction"]["points"] == 100
        balance = cafe.execute(operation("LookUpMember"), {"cardNumber": member.card_number})
    assert balance["data"]["partner"]["member"]["balance"] == 200


def test_idempotent_retry_returns_the_first_answer(any_hub: Hub) -> None:
    member = any_hub.enrol()
    variables = {"input": {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}}
    with any_hub.client() as cafe:
        first = cafe.execute(operation("AwardPoints"), variables, idempotency_key="receipt-77")
        counts = any_hub.ledger_counts()
        again = cafe.execute(operation("AwardPoints"), variables, idempotency_key="receipt-77")
        assert (
            again["data"]["awardPoints"]["transaction"]["id"]
            == first["data"]["awardPoints"]["transaction"]["id"]
        )
        assert any_hub.ledger_counts() == counts
        variables["input"]["amount"] = 2000
        reused = cafe.execute(operation("AwardPoints"), variables, idempotency_key="receipt-77")
        assert reused["data"]["awardPoints"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_mutation_without_idempotency_key(hub: Hub) -> None:
    from tests.partners.conftest import gql_body, post_signed

    member = hub.enrol()
    body = gql_body(
        operation("AwardPoints"),
        {"input": {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}},
    )
    response = post_signed(hub, body)
    [error] = response.json()["data"]["awardPoints"]["userErrors"]
    assert (error["code"], error["field"]) == ("IDEMPOTENCY_KEY_MISSING", "Idempotency-Key")
    assert hub.ledger_counts() == (0, 0, 0)


def test_redeem_and_reverse_redemption(any_hub: Hub) -> None:
    member = any_hub.enrol()
    with any_hub.client() as cafe:
        _award(cafe, member.card_number, 10_000)  # 1,000 points
    with any_hub.client("shop") as shop:
        redeemed = shop.execute(
            operation("RedeemPoints"),
            {"input": {"cardNumber": member.card_number, "points": 400, "reference": "order-9"}},
        )
        payload = redeemed["data"]["redeemPoints"]
        assert payload["userErrors"] == [] and payload["balanceAfter"] == 600
        too_much = shop.execute(
            operation("RedeemPoints"), {"input": {"cardNumber": member.card_number, "points": 601}}
        )
        assert too_much["data"]["redeemPoints"]["userErrors"][0]["code"] == "INSUFFICIENT_POINTS"
        tx = payload["transaction"]["id"]
        partly = shop.execute(
            operation("ReverseRedemption"), {"input": {"transactionId": tx, "points": 100}}
        )["data"]["reverseRedemption"]
        assert partly["balanceAfter"] == 700 and partly["transaction"]["reverses"] == tx
        rest = shop.execute(operation("ReverseRedemption"), {"input": {"transactionId": tx}})
        assert rest["data"]["reverseRedemption"]["balanceAfter"] == 1000
        again = shop.execute(operation("ReverseRedemption"), {"input": {"transactionId": tx}})
        assert again["data"]["reverseRedemption"]["userErrors"][0]["code"] == "ALREADY_REVERSED"


def test_reverse_earn_fully_and_partly(any_hub: Hub) -> None:
    member = any_hub.enrol()
    with any_hub.client() as cafe:
        earned = _award(cafe, member.card_number, 5000)  # 500 points
        tx = earned["transaction"]["id"]
        part = cafe.execute(
            operation("ReverseEarn"), {"input": {"transactionId": tx, "points": 200}}
        )
        assert part["data"]["reverseEarn"]["balanceAfter"] == 300
        over = cafe.execute(
            operation("ReverseEarn"), {"input": {"transactionId": tx, "points": 301}}
        )
        assert over["data"]["reverseEarn"]["userErrors"][0]["code"] == "REVERSAL_EXCEEDS_ORIGINAL"
        rest = cafe.execute(operation("ReverseEarn"), {"input": {"transactionId": tx}})
        assert rest["data"]["reverseEarn"]["balanceAfter"] == 0
        junk = cafe.execute(operation("ReverseEarn"), {"input": {"transactionId": "bogus"}})
        assert junk["data"]["reverseEarn"]["userErrors"][0]["code"] == "INVALID_ID"


def test_hold_capture_part_and_void(any_hub: Hub) -> None:
    member = any_hub.enrol()
    with any_hub.client() as cafe:
        _award(cafe, member.card_number, 10_000)  # 1,000 points
        held = cafe.execute(
            operation("AuthorizeHold"), {"input": {"cardNumber": member.card_number, "points": 300}}
        )["data"]["authorizeHold"]
        assert held["userErrors"] == [] and held["hold"]["status"] == "AUTHORIZED"
        assert held["balanceAfter"] == 700
        captured = cafe.execute(
            operation("CaptureHold"), {"input": {"holdId": held["hold"]["id"], "points": 120}}
        )["data"]["captureHold"]
        assert captured["hold"]["status"] == "CAPTURED" and captured["hold"]["captured"] == 120
        assert captured["balanceAfter"] == 880
        second = cafe.execute(
            operation("AuthorizeHold"),
            {
                "input": {
                    "cardNumber": member.card_number,
                    "points": 80,
                    "expiresAt": (utcnow() + timedelta(days=2)).isoformat(),
                }
            },
        )["data"]["authorizeHold"]
        voided = cafe.execute(operation("VoidHold"), {"input": {"holdId": second["hold"]["id"]}})
        assert voided["data"]["voidHold"]["hold"]["status"] == "VOIDED"
        assert voided["data"]["voidHold"]["balanceAfter"] == 880
        closed = cafe.execute(operation("CaptureHold"), {"input": {"holdId": second["hold"]["id"]}})
        assert closed["data"]["captureHold"]["userErrors"][0]["code"] == "HOLD_NOT_ACTIVE"
        too_long = cafe.execute(
            operation("AuthorizeHold"),
            {
                "input": {
                    "cardNumber": member.card_number,
                    "points": 1,
                    "expiresAt": (utcnow() + timedelta(days=40)).isoformat(),
                }
            },
        )
        assert too_long["data"]["authorizeHold"]["userErrors"][0]["field"] == "expiresAt"


CAPTURE_REF = """mutation($input: CaptureHoldInput!) {
  captureHold(input: $input) { transaction { id reference } userErrors { code } } }"""
VOID_REF = """mutation($input: VoidHoldInput!) {
  voidHold(input: $input) { transaction { id reference } userErrors { code } } }"""
LISTED_REF = """{ partner { transactions(first: 10, kinds: [CAPTURE, VOID]) {
  edges { node { id reference } } } } }"""


def test_capture_and_void_answer_the_reference_they_booked(any_hub: Hub) -> None:
    """Without a reference of their own, a capture and a void book the hold's; the answer said
    null while `transactions` later listed the hold's reference."""
    member = any_hub.enrol()
    with any_hub.client() as cafe:
        _award(cafe, member.card_number, 10_000)
        holds = [cafe.execute(operation("AuthorizeHold"), {"input": {
            "cardNumber": member.card_number, "points": 10, "reference": f"order-{i}"}}
        )["data"]["authorizeHold"]["hold"]["id"] for i in range(3)]
        answers = [
            cafe.execute(CAPTURE_REF, {"input": {"holdId": holds[0]}})["data"]["captureHold"],
            cafe.execute(CAPTURE_REF, {"input": {"holdId": holds[1], "reference": "till-9"}}
                         )["data"]["captureHold"],
            cafe.execute(VOID_REF, {"input": {"holdId": holds[2]}})["data"]["voidHold"],
        ]
        assert [a["transaction"]["reference"] for a in answers] == ["order-0", "till-9", "order-2"]
        listed = cafe.execute(LISTED_REF)["data"]["partner"]["transactions"]["edges"]
        assert ({e["node"]["id"]: e["node"]["reference"] for e in listed}
                == {a["transaction"]["id"]: a["transaction"]["reference"] for a in answers})


def test_transactions_connection_with_filters_and_paging(any_hub: Hub) -> None:
    member = any_hub.enrol()
    other = any_hub.enrol()
    with any_hub.client() as cafe:
        for _ in range(3):
            _award(cafe, member.card_number)
        _award(cafe, other.card_number)
        cafe.execute(
            operation("RedeemPoints"), {"input": {"cardNumber": member.card_number, "points": 5}}
        )
        query = operation("Transactions")
        page = cafe.execute(query, {"first": 2})["data"]["partner"]["transactions"]
        assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
        rest = cafe.execute(query, {"first": 10, "after": page["pageInfo"]["endCursor"]})
        assert len(rest["data"]["partner"]["transactions"]["edges"]) == 3
        earns = cafe.execute(query, {"kinds": ["EARN"]})["data"]["partner"]["transactions"]
        assert {e["node"]["kind"] for e in earns["edges"]} == {"EARN"} and len(earns["edges"]) == 4
        member_id = page["edges"][0]["node"]["memberId"]
        mine = cafe.execute(query, {"memberId": member_id})["data"]["partner"]["transactions"]
        assert len(mine["edges"]) == 4
        future = (utcnow() + timedelta(days=1)).isoformat()
        assert (
            cafe.execute(query, {"bookedFrom": future})["data"]["partner"]["transactions"]["edges"]
            == []
        )
        assert (
            len(
                cafe.execute(query, {"bookedBefore": future})["data"]["partner"]["transactions"][
                    "edges"
                ]
            )
            == 5
        )
        too_big = cafe.execute(query, {"first": 101})
        assert too_big["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"


def test_partner_info_shows_the_contract_in_force(any_hub: Hub) -> None:
    with any_hub.client("shop") as shop:
        info = shop.execute(operation("PartnerInfo"))["data"]["partner"]
    assert info["code"] == "shop"
    assert info["contract"] == {"earnPointsPerUnit": "1.5", "allowExplicitPoints": True,
                                "pendingDays": 14, "validityMonths": 12, "currency": "EUR"}
