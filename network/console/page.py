"""The console's kind of back-office page: its templates (with the wallet's, so a member's
history reads exactly as the member reads it), its words, and its navigation entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from network import cards
from network.backoffice.messages_en import MESSAGES as BO_EN
from network.backoffice.messages_fa import MESSAGES as BO_FA
from network.backoffice.page import TEMPLATES as BO_TEMPLATES
from network.backoffice.page import BackofficePage, NavItem, register_nav
from network.backoffice.roles import ANY_STAFF, MEMBER_READERS, OPERATORS
from network.console.messages_en import MESSAGES as EN
from network.console.messages_fa import MESSAGES as FA
from network.console.programme_messages import EN as PROGRAMME_EN
from network.console.programme_messages import FA as PROGRAMME_FA
from network.wallet.pages.page import TEMPLATES as WALLET_TEMPLATES
from network.wallet.pages.page import party_name
from network.web.rendering import template_environment

TEMPLATES = Path(__file__).resolve().parent / "templates"

register_nav(NavItem("/console/members", "nav_members", "staff", MEMBER_READERS))
register_nav(NavItem("/console/goodwill", "nav_goodwill", "staff", OPERATORS))
register_nav(NavItem("/console/audit", "nav_audit", "staff", OPERATORS))
register_nav(NavItem("/console/campaigns", "nav_campaigns", "staff", ANY_STAFF))
register_nav(NavItem("/console/charities", "nav_charities", "staff", ANY_STAFF))
register_nav(NavItem("/console/rewards", "nav_rewards", "staff", ANY_STAFF))


def _compact(value: object) -> str:
    """An audit entry's before/after as one line of JSON, Persian words left readable."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class ConsolePage(BackofficePage):
    environment = template_environment(TEMPLATES, BO_TEMPLATES, WALLET_TEMPLATES)
    catalogs: ClassVar[dict[str, dict[str, str]]] = {
        "en": {**BO_EN, **EN, **PROGRAMME_EN}, "fa": {**BO_FA, **FA, **PROGRAMME_FA}}

    def values(self) -> dict[str, Any]:
        locale = self.locale
        return {**super().values(), "pname": lambda p: party_name(locale, p),
                "card_grouped": cards.grouped, "compact": _compact}
