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
