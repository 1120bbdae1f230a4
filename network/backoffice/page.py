"""The back office's kind of page: the shared rendering (network/web/rendering.py) with the
back-office layout (templates/bo_base.html: the header, the navigation for the reader's role)
and words from the back-office catalogs layered over the shared ones.

Other back-office sites (the partner portal, the finance pages) subclass `BackofficePage` with
their own templates folder and add words with `catalogs`, and add their navigation entries with
`register_nav`; the layout and the role check stay here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from network.backoffice.messages_en import MESSAGES as EN
from network.backoffice.messages_fa import MESSAGES as FA
from network.backoffice.roles import Principal
from network.web.i18n import Locale
from network.web.rendering import Page, template_environment

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class NavItem:
    path: str
    words: str  # message key
    kind: str  # staff | partner_user
    roles: frozenset[str]


NAV: list[NavItem] = []


def register_nav(item: NavItem) -> None:
    """Add a navigation entry (once per path): shown to accounts of `kind` with one of `roles`."""
    if all(existing.path != item.path for existing in NAV):
        NAV.append(item)


def words(locale: Locale, catalogs: dict[str, dict[str, str]]) -> Callable[..., str]:
    """`t` for back-office templates: the back-office words first, then the shared ones, with
    numbers in the page's digits."""
    own = catalogs[locale.language]

    def t(key: str, **values: object) -> str:
        if key not in own:
            return locale.t(key, **values)
        shown = {k: locale.number(v) if isinstance(v, int) and not isinstance(v, bool) else v
                 for k, v in values.items()}
        return own[key].format(**shown)

    return t


class BackofficePage(Page):
    environment = template_environment(TEMPLATES)
    home = "/console"
    static = "/backoffice/static"
    signout = "/backoffice/signout"
    catalogs: ClassVar[dict[str, dict[str, str]]] = {"en": EN, "fa": FA}
    brand: ClassVar[str] = "bo_console"

    @property
    def principal(self) -> Principal | None:
        return self.session if isinstance(self.session, Principal) else None

    def values(self) -> dict[str, Any]:
        values = super().values()
        t = words(self.locale, self.catalogs)
        who = self.principal
        nav = [item for item in NAV
               if who is not None and item.kind == who.kind and who.role in item.roles]
        path = self.request.url.path
        values.update(t=t, who=who, nav=nav, brand=self.brand,
                      current=lambda item: path == item.path
                      or path.startswith(item.path + "/"),
                      err=lambda e: _error_words(t, e))
        return values


def _error_words(t: Callable[..., str], error: Any) -> str:
    params = dict(getattr(error, "params", {}) or {})
    try:
        return t(f"bo_error_{error.code}", **params)
    except KeyError:
        return str(getattr(error, "message", error))


class PartnerPortalPage(BackofficePage):
    """The partner portal's kind of page (its brand and home); the portal's own pages subclass
    it with their templates and words."""

    home = "/partner"
    brand: ClassVar[str] = "bo_portal"
