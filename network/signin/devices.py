"""A signed-in device's readable name from its User-Agent: "Chrome on Android", "Safari on iPhone".

A tiny rule list instead of a full UA database: the sessions page needs only a name the member
recognises ("is that my phone?"), not versions or models, and the rules stay readable. Order
matters because browsers borrow each other's tokens (every Chromium browser says "Chrome" and
"Safari"; Chrome on iOS says "CriOS" and "Safari"), so the more specific token is tried first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from network.web.i18n import Locale

# (token in the User-Agent, name); the first match wins.
_BROWSERS = (
    ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("Edge/", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"), ("OPR/", "Opera"),
    ("Opera", "Opera"), ("YaBrowser/", "Yandex Browser"), ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"), ("Version/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
    ("CrOS", "ChromeOS"), ("Macintosh", "Mac"), ("Mac OS X", "Mac"), ("Linux", "Linux"),
)
# An app or a script names itself first: "pointsnet-ios/2.1", "python-httpx/0.28.1".
_PRODUCT = re.compile(r"^([A-Za-z][A-Za-z0-9._-]{0,39})(?:/|\s|$)")


@dataclass(frozen=True)
class Device:
    browser: str | None  # None: not a browser we know
    system: str | None
    product: str | None = None  # what a non-browser client calls itself

    @property
    def known(self) -> bool:
        return bool(self.browser or self.system or self.product)


def describe(user_agent: str | None) -> Device:
    agent = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser == "Safari" and "Safari/" not in agent:
        browser = None  # "Version/" alone is not Safari (in-app web views say it too)
    if browser or system:
        return Device(browser, system)
    product = _PRODUCT.match(agent.strip())
    return Device(None, None, product.group(1) if product else None)


def label(words: Locale, user_agent: str | None) -> str:
    """The name the sessions page shows, in the page's language."""
    device = describe(user_agent)
    if device.browser and device.system:
        return words.t("device_on", browser=device.browser, system=device.system)
    return device.browser or device.system or device.product or words.t("unknown_device")
