"""Settlement's kind of back-office page: its templates and words over the back office's, its
navigation entries, and the roles its pages admit (named once, used by the handlers and the
README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from network.backoffice.messages_en import MESSAGES as BO_EN
from network.backoffice.messages_fa import MESSAGES as BO_FA
from network.backoffice.page import TEMPLATES as BO_TEMPLATES
from network.backoffice.page import BackofficePage, NavItem, register_nav
from network.console.messages_en import MESSAGES as CONSOLE_EN
from network.console.messages_fa import MESSAGES as CONSOLE_FA
from network.web.rendering import template_environment
from settlement.web.messages_en import MESSAGES as EN
from settlement.web.messages_fa import MESSAGES as FA

TEMPLATES = Path(__file__).resolve().parent / "templates"

DASHBOARD_READERS = frozenset({"operator", "viewer", "finance"})
FINANCE_READERS = frozenset({"finance", "operator"})
PARTNER_READERS = frozenset({"manager", "analyst"})  # a partner's own dashboard and statements

register_nav(NavItem("/console/dashboards", "nav_dashboards", "staff", DASHBOARD_READERS))
register_nav(NavItem("/console/finance", "nav_finance", "staff", FINANCE_READERS))
register_nav(NavItem("/partner/dashboard", "nav_p_dashboard", "partner_user", PARTNER_READERS))
register_nav(NavItem("/partner/statements", "nav_p_statements", "partner_user",
                     PARTNER_READERS))


def party_label(language: str, party: Any) -> str:
    """A party's name in the page's language (its Persian name when it has one)."""
    if party is None:
        return "-"
    return (party.name_fa or party.name) if language == "fa" else party.name


class SettlementPage(BackofficePage):
    environment = template_environment(TEMPLATES, BO_TEMPLATES)
    # The console's words too: the staff navigation bar names the console's pages.
    catalogs: ClassVar[dict[str, dict[str, str]]] = {"en": {**BO_EN, **CONSOLE_EN, **EN},
                                                      "fa": {**BO_FA, **CONSOLE_FA, **FA}}


class PartnerSettlementPage(SettlementPage):
    home = "/partner"
    brand: ClassVar[str] = "bo_portal"
