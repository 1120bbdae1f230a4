"""Language choice and locale formatting for the member pages.

The page speaks English and Persian. Persian is not English with other words: it reads right to
left, writes numbers with Extended Arabic-Indic digits and a Persian thousands separator, and
people read dates in the Solar Hijri (Jalali) calendar, so each of those is a formatting decision
made here, once, instead of in every template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import jdatetime

from network.money import Money, currency_exponent
from network.web.messages_en import MESSAGES as EN
from network.web.messages_fa import MESSAGES as FA

SUPPORTED: tuple[str, ...] = ("en", "fa")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "pn_lang"

_CATALOGS: dict[str, dict[str, str]] = {"en": EN, "fa": FA}
# Words without values as `Locale.t` formats them (a page asks for about eighty of them): the
# catalogs are constants, so each is formatted once, on first use.
_PLAIN: dict[str, dict[str, str]] = {language: {} for language in _CATALOGS}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_PERSIAN_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)
# Times are shown in the member's own zone: the one their browser reports (see zone()). Without
# it, a Persian page shows Tehran time (the Jalali calendar is Iran's civil calendar) and an
# English page the network's zone (POINTSNET_TIMEZONE); every time says which zone it is in.
_ZONES: dict[str, ZoneInfo] = {"en": ZoneInfo("UTC"), "fa": ZoneInfo("Asia/Tehran")}
# Currencies a member knows by a sign or a word; others are written as their ISO 4217 code.
_CURRENCY_EN = {"EUR": "€", "USD": "$", "GBP": "£"}
_CURRENCY_FA = {"EUR": "یورو", "USD": "دلار", "GBP": "پوند", "IRR": "ریال"}


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str | None) -> ZoneInfo | None:
    """An IANA zone a browser reported ("Asia/Tehran"), or None when it is not one we know: the
    name comes from a cookie, so only names in the system's zone list ever reach ZoneInfo."""
    if not name or len(name) > 64 or name not in _known_zones():
        return None
    return ZoneInfo(name)


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """Pick the page language: an explicit choice (cookie) beats the browser's preference list."""
    return preferred(accept_language, cookie) or DEFAULT_LANGUAGE


def preferred(accept_language: str | None, cookie: str | None = None) -> str | None:
    """The language the browser asked for, or None when it expressed no usable preference
    (then a signed-in member's stored language is the better guess for their messages)."""
    if cookie in SUPPORTED:
        return cookie
    best: str | None = None
    best_q = -1.0
    for index, item in enumerate((accept_language or "").split(",")):
        parts = [p.strip() for p in item.split(";")]
        tag = parts[0].lower()
        if not tag:
            continue
        q = 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        # Earlier entries win ties, as RFC 9110 lists preference in order.
        score = q - index * 1e-6
        if primary in SUPPORTED and q > 0 and score > best_q:
            best, best_q = primary, score
    return best


_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def ascii_digits(text: str) -> str:
    """Read Persian and Arabic-Indic digits as ASCII; nothing else changes."""
    return text.translate(_ASCII_DIGITS)


def persian_digits(text: str) -> str:
    """Replace ASCII digits with Persian ones (leaves everything else alone)."""
    return text.translate(_PERSIAN_DIGITS)


@dataclass(frozen=True)
class Locale:
    """Everything a template needs to speak one language: words, numbers, dates, direction."""

    language: str
    zone: ZoneInfo | None = None  # the member's; None: the language's default (_ZONES)

    @property
    def direction(self) -> str:
        return "rtl" if self.language == "fa" else "ltr"

    @property
    def other(self) -> str:
        return "en" if self.language == "fa" else "fa"

    def t(self, key: str, **values: object) -> str:
        """Translate `key`; placeholder values are formatted as numbers when they are ints.

        An int can also pick an English noun: `{points:point|points}` gives "point" for 1 and
        "points" otherwise (Persian keeps the noun singular after a number, so it never needs it).
        A missing key is a programming error, so it raises instead of showing the key to members.
        """
        if not values:  # most words on a page take no values: formatted once per language
            plain = _PLAIN[self.language].get(key)
            if plain is None:
                plain = _PLAIN[self.language][key] = _CATALOGS[self.language][key].format()
            return plain
        template = _CATALOGS[self.language][key]
        formatted = {k: _Count(self.number(v), v)
                     if isinstance(v, int) and not isinstance(v, bool) else v
                     for k, v in values.items()}
        return template.format(**formatted)

    def digits(self, text: str) -> str:
        """Digits as this language writes them, for strings that are not quantities (a code,
        a masked phone number): no grouping, leading zeros kept."""
        return persian_digits(text) if self.language == "fa" else text

    def number(self, value: int) -> str:
        """Group thousands and localise digits; the sign uses a real minus sign."""
        text = f"{abs(value):,}"
        if self.language == "fa":
            text = persian_digits(text.replace(",", "٬"))
        return ("−" if value < 0 else "") + text

    def signed(self, value: int) -> str:
        """A points movement: always show the sign so credits and debits read at a glance."""
        return ("+" if value > 0 else "") + self.number(value)

    def local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime given to the wallet page; timestamps are UTC-aware")
        return moment.astimezone(self.zone or _ZONES[self.language])

    def date(self, moment: dt.datetime | dt.date) -> str:
        """A calendar date: Gregorian 'Nov 23, 2026' in English, Jalali '۲ آذر ۱۴۰۵' in Persian."""
        day = self.local(moment).date() if isinstance(moment, dt.datetime) else moment
        if self.language == "fa":
            j = jdatetime.date.fromgregorian(date=day)
            return persian_digits(f"{j.day} {_PERSIAN_MONTHS[j.month - 1]} {j.year}")
        return f"{day:%b} {day.day}, {day.year}"

    def datetime(self, moment: dt.datetime) -> str:
        """Date and time of day in the reader's zone, which English names ("14:05 CET"); a
        Persian page names it only when it is not Tehran's, the time Persian readers assume."""
        local = self.local(moment)
        clock = f"{local:%H:%M}"
        if self.language == "fa":
            tehran = self.zone is None or self.zone.key == "Asia/Tehran"
            label = "" if tehran else f" \u2066{_zone_label(local)}\u2069"
            return f"{self.date(local)}، {persian_digits(clock)}{label}"
        return f"{self.date(local)}, {clock} {_zone_label(local)}"

    def decimal(self, value: Decimal, places: int | None = None) -> str:
        """A decimal number, grouped, in this language's digits and separators; `places` fixes
        the decimals (money), None keeps the value's own (a price per point: 0.005)."""
        text = f"{value:,.{places}f}" if places is not None else f"{value.normalize():,f}"
        if self.language == "fa":
            text = persian_digits(text.replace(",", "٬").replace(".", "٫"))
        return text

    def money(self, amount: Money | Decimal, currency: str | None = None) -> str:
        """'€7.00' / '۷٫۰۰ یورو'; a Decimal with its currency is an exact rate (€0.005)."""
        if isinstance(amount, Money):
            currency = amount.currency
            text = self.decimal(amount.to_major(), currency_exponent(currency))
        else:
            assert currency is not None
            text = self.decimal(amount)
        if self.language == "fa":
            return f"{text}\u00a0{_CURRENCY_FA.get(currency, currency)}"
        sign = _CURRENCY_EN.get(currency)
        return f"{sign}{text}" if sign else f"{currency}\u00a0{text}"

    def iso_date(self, moment: dt.datetime | dt.date) -> str:
        """Machine-readable date for <time datetime=...>, always Gregorian ASCII."""
        day = self.local(moment).date() if isinstance(moment, dt.datetime) else moment
        return day.isoformat()


def _zone_label(local: dt.datetime) -> str:
    """'CET', 'GMT', 'UTC'; a zone with no abbreviation ('+0330') as 'UTC+03:30'."""
    name = local.tzname() or "UTC"
    if name[:1] in "+-":
        return f"UTC{name[0]}{name[1:3]}:{name[3:5] or '00'}"
    return name


class _Count(str):
    """A number as the page writes it, which also knows its value for `{n:singular|plural}`."""

    value: int

    def __new__(cls, text: str, value: int) -> _Count:
        self = super().__new__(cls, text)
        self.value = value
        return self

    def __format__(self, spec: str) -> str:
        if "|" in spec:
            one, other = spec.split("|")
            return one if self.value == 1 else other
        return super().__format__(spec)


def locale_for(language: str, zone: ZoneInfo | None = None) -> Locale:
    return Locale(language if language in SUPPORTED else DEFAULT_LANGUAGE, zone)
