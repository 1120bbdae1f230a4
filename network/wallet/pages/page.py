"""The wallet's kind of page: the shared rendering (network/web/rendering.py) with the wallet's
templates, its home at /wallet, and partners' and charities' names in the page's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from network.wallet.parties_view import PartyName
from network.web.i18n import Locale
from network.web.rendering import Page, template_environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def party_name(locale: Locale, item: object) -> str:
    """A partner's or charity's name in the page's language (takes a name or a totals row)."""
    party = getattr(item, "party", item)
    return party.display(locale.language) if isinstance(party, PartyName) else str(party)


class WalletPage(Page):
    environment = template_environment(TEMPLATES)
    home = "/wallet"
    static = "/wallet/static"
    signout = "/signout"

    def values(self) -> dict[str, Any]:
        locale = self.locale
        return {**super().values(), "pname": lambda p: party_name(locale, p)}
