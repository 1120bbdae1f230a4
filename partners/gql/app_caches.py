"""Per-app caches for the hot partner path, kept on the Starlette app's state so every app (and
every test's app) starts empty.

- Contract terms for a few seconds (see contracts.TermsCache).
- Card number -> member id, forever: a member row is never deleted and its card number never
  changes, so a mapping once found stays true. Only hits are cached; a card not found is asked
  again next time, since it may be enrolled in between.

With both warm, an earn reads nothing before the ledger's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from network.gql.context import RequestContext
from partners.contracts import TermsCache

MAX_CARDS = 200_000


@dataclass
class CardIds:
    ids: dict[str, int] = field(default_factory=dict)

    def get(self, card_number: str) -> int | None:
        return self.ids.get(card_number)

    def put(self, card_number: str, member_id: int) -> None:
        if len(self.ids) >= MAX_CARDS:
            self.ids.clear()  # crude but bounded; refilling costs one read per card
        self.ids[card_number] = member_id


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
