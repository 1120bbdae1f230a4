"""Lifecycle messages as words: a subject, an SMS, a plain-text and an HTML email, in English or
Persian (Persian digits, Jalali dates: network/web/i18n.py), from a kind and plain values.

Pure functions: the caller gathers the values (network/notifications/messages.py) and the
preview command renders the same templates for a real member. An SMS is one line and short: a
Persian SMS is UCS-2, 70 characters a segment, so its templates say the least (`sms_segments`
measures it). Nothing here ever receives a card number or a secret; reward and lottery codes
are sent while they are still unused, and the outbox wipes bodies once sent.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

from network.web.i18n import Locale

# GSM 03.38: the basic set and the extension table (whose characters take two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 | UCS-2
    length: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int  # SMS segments the provider will send

    @property
    def single(self) -> bool:
        return self.count == 1


def sms_segments(text: str) -> Segments:
    """How many SMS segments `text` takes: 160/153 septets in GSM-7, 70/67 units in UCS-2."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        length = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    count = 1 if length <= single else -(-length // multi)
    return Segments(encoding, length, count)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str  # the SMS text, or the plain-text email
    html: str | None = None  # email only


def _values(kind: str, locale: Locale, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The template key's variant and the values as the language writes them."""
    values = dict(params)
    for name, value in params.items():
        if isinstance(value, dt.datetime | dt.date):
            values[name] = locale.date(value)
    if "receipt" in values:
        values["receipt"] = locale.digits(str(values["receipt"]))
    variant = ""
    if kind == "earned" and int(params.get("count", 1)) > 1:
        variant = "_many"
    return variant, values


def render(kind: str, channel: str, locale: Locale, params: dict[str, Any], *,
           name: str | None = None, unsubscribe_url: str | None = None,
           preferences_url: str | None = None) -> Rendered:
    variant, values = _values(kind, locale, params)
    t = locale.t
    subject = t(f"msg_{kind}_subject", **values)
    if channel == "sms":
        return Rendered(subject, t(f"msg_{kind}_sms{variant}", **values))
    paragraphs = [t("msg_hello", name=name) if name else t("msg_hello_anon"),
                  t(f"msg_{kind}_body{variant}", **values)]
    footer = []
    if preferences_url:
        footer.append(t("msg_footer", url=preferences_url))
    if unsubscribe_url:
        footer.append(t("msg_unsubscribe", url=unsubscribe_url))
    text = "\n\n".join(paragraphs + footer + [t("msg_brand")]) + "\n"
    return Rendered(subject, text, _html(locale, subject, paragraphs, preferences_url,
                                         unsubscribe_url))


def _link(label: str, url: str) -> str:
    before, _, after = label.partition("{url}")
    # A long token must wrap on a phone, and a URL reads left to right inside Persian text.
    return (f"{html.escape(before)}<a href=\"{html.escape(url)}\" dir=\"ltr\" "
            f"style=\"word-break:break-all;color:#0b6e4f\">{html.escape(url)}</a>"
            f"{html.escape(after)}")


def _html(locale: Locale, subject: str, paragraphs: list[str], preferences_url: str | None,
          unsubscribe_url: str | None) -> str:
    """A plain, single-column email; inline styles because mail clients drop style sheets."""
    direction = locale.direction
    align = "right" if direction == "rtl" else "left"
    body = "".join(f"<p style=\"margin:0 0 16px\">{html.escape(p)}</p>" for p in paragraphs)
    footer = ""
    if preferences_url:
        footer += (f"<p style=\"margin:0 0 8px\">"
                   f"{_link(locale.t('msg_footer', url='{url}'), preferences_url)}</p>")
    if unsubscribe_url:
        footer += (f"<p style=\"margin:0\">"
                   f"{_link(locale.t('msg_unsubscribe', url='{url}'), unsubscribe_url)}</p>")
    return (
        f"<!doctype html><html lang=\"{locale.language}\" dir=\"{direction}\"><head>"
        f"<meta charset=\"utf-8\"><meta name=\"viewport\" "
        f"content=\"width=device-width,initial-scale=1\"><title>{html.escape(subject)}</title></head>"
        f"<body style=\"margin:0;background:#f4f5f7;font-family:Tahoma,Arial,sans-serif;"
        f"color:#1d2433\"><div style=\"max-width:560px;margin:0 auto;padding:24px;"
        f"text-align:{align}\"><div style=\"font-weight:700;color:#0b6e4f;margin:0 0 16px\">"
        f"{html.escape(locale.t('msg_brand'))}</div><div style=\"background:#fff;"
        f"border-radius:8px;padding:20px\">{body}</div><div style=\"color:#5b6577;"
        f"font-size:13px;margin-top:16px\">{footer}</div></div></body></html>"
    )
