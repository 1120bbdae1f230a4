"""An edited tier ladder is what the earn applies, over the real ASGI app on PostgreSQL: edit the
ladder, earn, and the answer explains the new multiplier; history is not rewritten."""

from __future__ import annotations

import copy
import datetime as dt

from network.ledger.verify import verify
from network.programme import ladder, ladder_store, tiers_store
from network.programme.tiers import DEFINITIONS
from tests.partners.conftest import Hub
from tests.partners.test_programme_http import _award


def _set(hub: Hub, **silver: object) -> None:
    doc = copy.deepcopy(ladder.to_document(DEFINITIONS))
    doc["tiers"][1].update(silver)
    hub.db.write(lambda conn: ladder_store.save(conn, doc, actor_kind="system", actor_id=None,
                                                by="test", now=dt.datetime.now(dt.UTC)))


def _tier_lines(answer: dict) -> list[tuple[str, str | None, int]]:  # type: ignore[type-arg]
    return [(b["source"], b["tier"], b["points"]) for b in answer["transaction"]["breakdown"]]


def test_the_earn_applies_and_explains_the_edited_multiplier(hub: Hub) -> None:
    card = hub.enrol().card_number
    # Silver from 100 points, and three times the base points.
    _set(hub, threshold=100, earnMultiplier="3")
    first = _award(hub, {"cardNumber": card, "amount": 1000, "currency": "EUR"}, "ladder-1")
    assert first["userErrors"] == [] and _tier_lines(first) == [("BASE", None, 100)]
    # That earn reached the edited threshold: the member holds silver now.
    member_id = hub.db.read(lambda conn: conn.execute(
        tiers_store.member_tiers.select()).one().member_id)
    assert hub.db.read(tiers_store.held, member_id).code == "silver"
    second = _award(hub, {"cardNumber": card, "amount": 1000, "currency": "EUR"}, "ladder-2")
    assert second["transaction"]["points"] == 300
    assert _tier_lines(second) == [("BASE", None, 100), ("TIER", "silver", 200)]
    # Another edit is in force for the next earn; the earns booked keep what they gave.
    _set(hub, threshold=100, earnMultiplier="1.5")
    third = _award(hub, {"cardNumber": card, "amount": 1000, "currency": "EUR"}, "ladder-3")
    assert _tier_lines(third) == [("BASE", None, 100), ("TIER", "silver", 50)]
    replayed = _award(hub, {"cardNumber": card, "amount": 1000, "currency": "EUR"}, "ladder-2")
    assert replayed["transaction"] == second["transaction"]
    assert verify(hub.db) == []


def test_the_earn_reads_the_ladder_from_the_process_cache(hub: Hub, monkeypatch) -> None:
    """No round trip for the ladder on an earn while the cache is fresh (TTL made long here so
    the count does not depend on the clock); a save in this process is read once, then cached."""
    from sqlalchemy import event

    monkeypatch.setattr(ladder_store, "TTL", 3_600.0)
    card = hub.enrol().card_number
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    def ladder_reads(key: str) -> int:
        seen.clear()
        event.listen(hub.db.engine, "before_cursor_execute", count)
        try:
            _award(hub, {"cardNumber": card, "amount": 1000, "currency": "EUR"}, key)
        finally:
            event.remove(hub.db.engine, "before_cursor_execute", count)
        return sum("tier_ladders" in s for s in seen)

    ladder_reads("cache-0")  # the first earn of this process fills the cache
    assert ladder_reads("cache-1") == 0
    _set(hub, earnMultiplier="2")  # saved here: the cache is dropped
    assert ladder_reads("cache-2") == 1
    assert ladder_reads("cache-3") == 0
