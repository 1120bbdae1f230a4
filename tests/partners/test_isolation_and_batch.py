"""Partner isolation, and the batch form with good and bad lines mixed."""

from __future__ import annotations

from graphene import relay

from network import cards
from network.ledger.verify import verify
from tests.partners.conftest import Hub, operation


def _award(client, card: str, amount: int = 1000) -> dict:  # type: ignore[no-untyped-def]
    return client.execute(
        operation("AwardPoints"),
        {"input": {"cardNumber": card, "amount": amount, "currency": "EUR"}},
    )["data"]["awardPoints"]


def test_a_partner_cannot_see_or_reverse_another_partners_transactions(hub: Hub) -> None:
    member = hub.enrol()
    with hub.client("cafe") as cafe, hub.client("shop") as shop:
        earned = _award(cafe, member.card_number, 5000)
        tx = earned["transaction"]["id"]
        held = cafe.execute(
            operation("AuthorizeHold"), {"input": {"cardNumber": member.card_number, "points": 10}}
        )["data"]["authorizeHold"]
        before = hub.ledger_counts()
        reverse = shop.execute(operation("ReverseEarn"), {"input": {"transactionId": tx}})
        assert reverse["data"]["reverseEarn"]["userErrors"][0]["code"] == "ENTRY_NOT_FOUND"
        capture = shop.execute(operation("CaptureHold"), {"input": {"holdId": held["hold"]["id"]}})
        assert capture["data"]["captureHold"]["userErrors"][0]["code"] == "HOLD_NOT_FOUND"
        void = shop.execute(operation("VoidHold"), {"input": {"holdId": held["hold"]["id"]}})
        assert void["data"]["voidHold"]["userErrors"][0]["code"] == "HOLD_NOT_FOUND"
        assert hub.ledger_counts() == before
        node = shop.execute("query($id: ID!) { node(id: $id) { id } }", {"id": tx})
        assert node["data"]["node"] is None
        hold_node = shop.execute(
            "query($id: ID!) { partner { hold(id: $id) { id } } }", {"id": held["hold"]["id"]}
        )
        assert hold_node["data"]["partner"]["hold"] is None
        member_id = earned["transaction"]["memberId"]
        history = shop.execute(operation("Transactions"), {"memberId": member_id})
        assert history["data"]["partner"]["transactions"]["edges"] == []
        mine = cafe.execute(operation("Transactions"), {"memberId": member_id})
        assert len(mine["data"]["partner"]["transactions"]["edges"]) == 2
        # The member's balance is network-wide: both partners see it, neither sees the other's
        # history.
        view = shop.execute(operation("LookUpMember"), {"id": member_id})
        assert view["data"]["partner"]["member"]["balance"] == 490


def test_a_partner_viewer_node_is_only_its_own(hub: Hub) -> None:
    with hub.client("cafe") as cafe:
        own = cafe.execute(operation("PartnerInfo"))["data"]["partner"]["id"]
        assert cafe.execute("query($id: ID!) { node(id: $id) { id } }", {"id": own})["data"][
            "node"
        ] == {"id": own}
        other = relay.Node.to_global_id("PartnerViewer", str(hub.partners["shop"].party_id))
        assert (
            cafe.execute("query($id: ID!) { node(id: $id) { id } }", {"id": other})["data"]["node"]
            is None
        )


def test_batch_with_mixed_lines(any_hub: Hub) -> None:
    good = any_hub.enrol()
    lines = [
        {"cardNumber": good.card_number, "amount": 1000, "currency": "EUR", "reference": "a"},
        {"cardNumber": "1234", "amount": 1000, "currency": "EUR"},
        {"cardNumber": cards.generate(), "amount": 1000, "currency": "EUR"},
        {"cardNumber": good.card_number, "amount": 0, "currency": "EUR"},
        {"cardNumber": good.card_number, "amount": 1000, "currency": "USD"},
        {"cardNumber": good.card_number, "amount": 2000, "currency": "EUR", "reference": "b"},
    ]
    with any_hub.client() as cafe:
        result = cafe.execute(
            operation("AwardPointsBatch"), {"input": {"lines": lines}}, idempotency_key="batch-1"
        )
        payload = result["data"]["awardPointsBatch"]
        assert (payload["accepted"], payload["rejected"]) == (2, 4)
        codes = [[e["code"] for e in r["userErrors"]] for r in payload["results"]]
        assert codes == [
            [],
            ["INVALID_CARD_NUMBER"],
            ["MEMBER_NOT_FOUND"],
            ["INVALID_AMOUNT"],
            ["CURRENCY_MISMATCH"],
            [],
        ]
        assert payload["results"][1]["userErrors"][0]["field"] == "lines.1.cardNumber"
        assert payload["results"][3]["userErrors"][0]["field"] == "lines.3.amount"
        assert [r["index"] for r in payload["results"]] == list(range(6))
        counts = any_hub.ledger_counts()
        again = cafe.execute(
            operation("AwardPointsBatch"), {"input": {"lines": lines}}, idempotency_key="batch-1"
        )["data"]["awardPointsBatch"]
        assert [r["transaction"] for r in again["results"]] == [
            r["transaction"] for r in payload["results"]
        ]
        assert any_hub.ledger_counts() == counts
        view = cafe.execute(operation("LookUpMember"), {"cardNumber": good.card_number})
        assert view["data"]["partner"]["member"]["balance"] == 300


def test_batch_keys_and_single_keys_do_not_mix(any_hub: Hub) -> None:
    """A batch's key is a key like any other: a single award reusing it is refused, a batch
    reusing a single award's key is refused whole, and a partner's own key `Z#0` is not line 0
    of batch `Z`. Refusals write nothing."""
    member = any_hub.enrol()
    line = {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}
    award, batch = operation("AwardPoints"), operation("AwardPointsBatch")
    with any_hub.client() as cafe:
        booked = cafe.execute(batch, {"input": {"lines": [line]}}, idempotency_key="K")
        assert booked["data"]["awardPointsBatch"]["accepted"] == 1
        counts = any_hub.ledger_counts()
        single = cafe.execute(award, {"input": line}, idempotency_key="K")["data"]["awardPoints"]
        assert [e["code"] for e in single["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert any_hub.ledger_counts() == counts

        first = cafe.execute(award, {"input": line}, idempotency_key="S")["data"]["awardPoints"]
        assert first["userErrors"] == []
        counts = any_hub.ledger_counts()
        refused = cafe.execute(batch, {"input": {"lines": [line]}},
                               idempotency_key="S")["data"]["awardPointsBatch"]
        assert [e["code"] for e in refused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert (refused["accepted"], refused["results"]) == (0, [])
        assert any_hub.ledger_counts() == counts

        own = cafe.execute(award, {"input": line}, idempotency_key="Z#0")["data"]["awardPoints"]
        lines = cafe.execute(batch, {"input": {"lines": [dict(line, amount=2000)]}},
                             idempotency_key="Z")["data"]["awardPointsBatch"]
        [result] = lines["results"]
        assert result["userErrors"] == []  # booked afresh: neither a replay nor a reuse of Z#0
        assert result["transaction"]["id"] != own["transaction"]["id"]
        assert result["transaction"]["points"] == 200
    assert verify(any_hub.db) == []


def test_batch_limits(hub: Hub) -> None:
    member = hub.enrol()
    line = {"cardNumber": member.card_number, "amount": 100, "currency": "EUR"}
    with hub.client() as cafe:
        empty = cafe.execute(operation("AwardPointsBatch"), {"input": {"lines": []}})
        assert empty["data"]["awardPointsBatch"]["userErrors"][0]["code"] == "BATCH_EMPTY"
        big = cafe.execute(operation("AwardPointsBatch"), {"input": {"lines": [line] * 1001}})
        assert big["data"]["awardPointsBatch"]["userErrors"][0]["code"] == "BATCH_TOO_LARGE"
        assert hub.ledger_counts() == (0, 0, 0)
        full = cafe.execute(operation("AwardPointsBatch"), {"input": {"lines": [line] * 1000}})
        assert full["data"]["awardPointsBatch"]["accepted"] == 1000


def test_batch_keeps_every_ledger_invariant_including_members_in_debt(any_hub: Hub) -> None:
    from network.ledger.verify import verify

    debtor, regular = any_hub.enrol(), any_hub.enrol()
    with any_hub.client() as cafe:
        earned = _award(cafe, debtor.card_number, 1000)  # 100 points
        cafe.execute(
            operation("RedeemPoints"), {"input": {"cardNumber": debtor.card_number, "points": 80}}
        )
        reversed_ = cafe.execute(
            operation("ReverseEarn"), {"input": {"transactionId": earned["transaction"]["id"]}}
        )["data"]["reverseEarn"]
        assert reversed_["balanceAfter"] == -80  # the member now owes 80 points
        lines = [
            {"cardNumber": c, "amount": 500, "currency": "EUR"}
            for c in (
                regular.card_number,
                debtor.card_number,
                regular.card_number,
                debtor.card_number,
            )
        ]
        result = cafe.execute(operation("AwardPointsBatch"), {"input": {"lines": lines}})
        payload = result["data"]["awardPointsBatch"]
        assert payload["accepted"] == 4
        view = cafe.execute(operation("LookUpMember"), {"cardNumber": debtor.card_number})
        assert view["data"]["partner"]["member"]["balance"] == 20  # 100 - 80 debt repaid
        view = cafe.execute(operation("LookUpMember"), {"cardNumber": regular.card_number})
        assert view["data"]["partner"]["member"]["balance"] == 100
    assert verify(any_hub.db) == []
