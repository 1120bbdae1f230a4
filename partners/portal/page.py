"""The partner portal's kind of back-office page, its navigation, and the roles it admits."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from network.backoffice.messages_en import MESSAGES as BO_EN
from network.backoffice.messages_fa import MESSAGES as BO_FA
from network.backoffice.page import TEMPLATES as BO_TEMPLATES
from network.backoffice.page import BackofficePage, NavItem, register_nav
from network.backoffice.roles import ANY_PARTNER_USER
from network.web.rendering import template_environment
from partners.portal.messages_en import MESSAGES as EN
from partners.portal.messages_fa import MESSAGES as FA

TEMPLATES = Path(__file__).resolve().parent / "templates"

# A cashier works the till: transactions and coupons. Analysts read everything; managers also
# act (use a coupon, revoke a key, manage webhooks).
TILL = ANY_PARTNER_USER
READERS = frozenset({"manager", "analyst"})
MANAGERS = frozenset({"manager"})
CASHIERS = frozenset({"manager", "cashier"})  # the till: check and use a coupon

register_nav(NavItem("/partner/transactions", "nav_p_transactions", "partner_user", TILL))
register_nav(NavItem("/partner/till", "nav_p_till", "partner_user", CASHIERS))
register_nav(NavItem("/partner/members", "nav_p_members", "partner_user", READERS))
register_nav(NavItem("/partner/campaigns", "nav_p_campaigns", "partner_user", READERS))
register_nav(NavItem("/partner/keys", "nav_p_keys", "partner_user", READERS))
register_nav(NavItem("/partner/webhooks", "nav_p_webhooks", "partner_user", READERS))


class PortalPage(BackofficePage):
    environment = template_environment(TEMPLATES, BO_TEMPLATES)
    home = "/partner"
    brand: ClassVar[str] = "bo_portal"
    catalogs: ClassVar[dict[str, dict[str, str]]] = {"en": {**BO_EN, **EN},
                                                      "fa": {**BO_FA, **FA}}
