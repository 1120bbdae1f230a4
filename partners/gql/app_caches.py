"""Per-app caches for the hot partner path, kept on the Starlette app's state so every app (and
every test's app) starts empty.

- Contract terms for a few seconds (see contracts.TermsCache).
- Card number -> member id for a minute: a member row is never deleted, but an erased member's
  card stops working (network/privacy.py replaces its number), so a mapping may turn false; a
  minute bounds how long another hub process keeps accepting an erased card. Only hits are
  cached; a card not found is asked again next time, since it may be enrolled in between.

With both warm, an earn reads nothing before the ledger's own transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from network.gql.context import RequestContext
from partners.contracts import TermsCache

MAX_CARDS = 200_000
CARD_SECONDS = 60.0


@dataclass
class CardIds:
    ids: dict[str, tuple[int, float]] = field(default_factory=dict)  # card -> (id, valid until)
    seconds: float = CARD_SECONDS

    def get(self, card_number: str) -> int | None:
        found = self.ids.get(card_number)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            self.ids.pop(card_number, None)
            return None
        return found[0]

    def put(self, card_number: str, member_id: int) -> None:
        if len(self.ids) >= MAX_CARDS:
            self.ids.clear()  # crude but bounded; refilling costs one read per card
        self.ids[card_number] = (member_id, time.monotonic() + self.seconds)


@dataclass
class AppCaches:
    terms: TermsCache = field(default_factory=TermsCache)
    cards: CardIds = field(default_factory=CardIds)


def app_caches(ctx: RequestContext) -> AppCaches:
    """The caches of the app serving this request (a throwaway set outside HTTP)."""
    if ctx.request is None:
        return AppCaches()
    state = ctx.request.app.state
    if not hasattr(state, "partner_caches"):
        state.partner_caches = AppCaches()
    return state.partner_caches
