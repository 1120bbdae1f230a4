"""The partner API's card -> member cache forgets a card after its lifetime, so an erased
member's card (network/privacy.py replaces its number) stops working on every hub process."""

from __future__ import annotations

import time

from partners.gql.app_caches import CARD_SECONDS, CardIds


def test_a_cached_card_is_forgotten_after_its_lifetime(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = CardIds()
    cache.put("7004188204717155", 42)
    assert cache.get("7004188204717155") == 42
    now[0] += CARD_SECONDS - 1
    assert cache.get("7004188204717155") == 42
    now[0] += 1
    assert cache.get("7004188204717155") is None and cache.ids == {}
    assert CARD_SECONDS <= 60  # the README promises a minute at most


def test_a_till_reading_an_erased_members_card_is_told_the_card_is_unknown(any_hub, monkeypatch):
    """Through the signed partner API: the card earned before erasure; afterwards (once the
    process's cache has forgotten it) the same card is MEMBER_NOT_FOUND and nothing is booked."""
    from network import privacy
    from network.clock import utcnow
    from tests.partners.conftest import operation

    member = any_hub.enrol(phone="+989121234567")
    cafe = any_hub.client("cafe")
    award = {"input": {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}}
    assert cafe.execute(operation("AwardPoints"), award)["data"]["awardPoints"][
        "userErrors"] == []
    privacy.erase(any_hub.db, secret=any_hub.settings.secret_key, member_id=member.id,
                  now=utcnow())
    monkeypatch.setattr(time, "monotonic", lambda: 10.0 ** 9)  # a minute and more later
    before = any_hub.ledger_counts()
    refused = cafe.execute(operation("AwardPoints"), award)["data"]["awardPoints"]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == \
        [("cardNumber", "MEMBER_NOT_FOUND")]
    assert any_hub.ledger_counts() == before
