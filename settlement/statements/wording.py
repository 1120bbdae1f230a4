"""What a statement says, in English and Persian, and how it writes numbers, money and dates.

A statement is read by a partner's accountant, not by the hub's developers: every line says in
plain words what it is ("Your points redeemed with them"), never an internal name
(`cleared_value`, `receivable`). Digits, grouping and dates follow the pages' locale
(network/web/i18n.py): Persian digits and Jalali dates in Persian, so nothing is formatted
twice in two ways.

Which parties get a Persian statement: those with a Persian name (`parties.name_fa`) or whose
name is written in Arabic script. They get both versions; everyone gets the English one.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from network.money import Money, currency_exponent
from network.web.i18n import Locale, locale_for, persian_digits
from settlement.sections import TITLES

# Arabic script blocks (Persian is written in it): Arabic, Supplement, Extended-A, and the
# presentation forms. A Latin name with an accent never matches.
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def wants_persian(name: str, name_fa: str | None) -> bool:
    """The rule for a Persian statement: a Persian name on file, or a name in Arabic script."""
    return bool(name_fa) or bool(_ARABIC_SCRIPT.search(name))


# (line kind, what it came from, the party's side) -> words. Sides: receivable = owed to the
# reader, payable = owed by the reader, own = the reader's own points (no transfer).
LINE_WORDS: dict[str, dict[tuple[str, str, str], str]] = {
    "en": {
        ("redemption", "redemption", "receivable"): "Their points you took as payment",
        ("redemption", "redemption", "payable"): "Your points redeemed with them",
        ("redemption", "own_redemption", "own"): "Your own points redeemed with you "
                                                 "(no transfer)",
        ("donation", "donation", "payable"): "Your points donated to them",
        ("donation", "donation", "receivable"): "Their points donated to you",
        ("expiry", "expiry", "payable"): "Breakage share on your expired points",
        ("expiry", "expiry", "receivable"): "Breakage share on their expired points",
        ("fee", "cleared_value", "payable"): "Network fee on the value of your points "
                                             "redeemed at other partners",
        ("fee", "cleared_value", "receivable"): "Network fee on the value of their points "
                                                "redeemed at other partners",
        ("fee", "own_redemption", "payable"): "Network fee on your own points redeemed "
                                              "with you",
        ("fee", "own_redemption", "receivable"): "Network fee on their own points redeemed "
                                                 "with them",
        ("adjustment", "redemption", "payable"): "Reversal: your points redeemed with them "
                                                 "earlier, given back",
        ("adjustment", "redemption", "receivable"): "Reversal: their points you took "
                                                    "earlier, given back",
        ("adjustment", "own_redemption", "own"): "Reversal of your own points redeemed with "
                                                 "you (no transfer)",
        ("adjustment", "donation", "payable"): "Reversal of your points donated to them",
        ("adjustment", "donation", "receivable"): "Reversal of their points donated to you",
        ("adjustment", "expiry", "payable"): "Reversal of breakage on your expired points",
        ("adjustment", "expiry", "receivable"): "Reversal of breakage on their expired points",
        ("adjustment", "clawback", "payable"): "Your points they took back for an earn they "
                                               "reversed",
        ("adjustment", "clawback", "receivable"): "Their points you took back for an earn "
                                                  "you reversed",
    },
    "fa": {
        ("redemption", "redemption", "receivable"): "امتیازهای آنان که به‌جای پول پذیرفتید",
        ("redemption", "redemption", "payable"): "امتیازهای شما که نزد آنان خرج شد",
        ("redemption", "own_redemption", "own"): "امتیازهای خودتان که نزد شما خرج شد "
                                                 "(بدون انتقال)",
        ("donation", "donation", "payable"): "امتیازهای شما که به آنان اهدا شد",
        ("donation", "donation", "receivable"): "امتیازهای آنان که به شما اهدا شد",
        ("expiry", "expiry", "payable"): "سهم شبکه از امتیازهای منقضی‌شدهٔ شما",
        ("expiry", "expiry", "receivable"): "سهم شما از امتیازهای منقضی‌شدهٔ آنان",
        ("fee", "cleared_value", "payable"): "کارمزد شبکه بر ارزش امتیازهای شما که نزد "
                                             "شرکای دیگر خرج شد",
        ("fee", "cleared_value", "receivable"): "کارمزد شبکه بر ارزش امتیازهای آنان که نزد "
                                                "شرکای دیگر خرج شد",
        ("fee", "own_redemption", "payable"): "کارمزد شبکه بر امتیازهای خودتان که نزد شما "
                                              "خرج شد",
        ("fee", "own_redemption", "receivable"): "کارمزد شبکه بر امتیازهای خودشان که نزد "
                                                 "آنان خرج شد",
        ("adjustment", "redemption", "payable"): "برگشت: امتیازهای شما که پیش‌تر نزد آنان "
                                                 "خرج شده بود",
        ("adjustment", "redemption", "receivable"): "برگشت: امتیازهای آنان که پیش‌تر "
                                                    "پذیرفته بودید",
        ("adjustment", "own_redemption", "own"): "برگشت امتیازهای خودتان که نزد شما خرج شده "
                                                 "بود (بدون انتقال)",
        ("adjustment", "donation", "payable"): "برگشت امتیازهای اهداشدهٔ شما به آنان",
        ("adjustment", "donation", "receivable"): "برگشت امتیازهای اهداشدهٔ آنان به شما",
        ("adjustment", "expiry", "payable"): "برگشت سهم شبکه از امتیازهای منقضی‌شدهٔ شما",
        ("adjustment", "expiry", "receivable"): "برگشت سهم شما از امتیازهای منقضی‌شدهٔ آنان",
        ("adjustment", "clawback", "payable"): "امتیازهای شما که آنان برای برگشت یک امتیازدهی "
                                               "پس گرفتند",
        ("adjustment", "clawback", "receivable"): "امتیازهای آنان که شما برای برگشت یک "
                                                  "امتیازدهی پس گرفتید",
    },
}

# Statement sections (kind, side), as the summary table lists them.
SECTION_WORDS: dict[str, dict[tuple[str, str], str]] = {
    "en": TITLES,  # the invoice uses the same titles (settlement/sections.py)
    "fa": {
        ("redemption", "receivable"): "امتیازهای شرکای دیگر که به‌جای پول پذیرفتید",
        ("redemption", "payable"): "امتیازهای شما که نزد شرکای دیگر خرج شد",
        ("redemption", "own"): "امتیازهای خودتان که نزد شما خرج شد (بدون انتقال)",
        ("donation", "payable"): "امتیازهای شما که به خیریه‌ها اهدا شد",
        ("donation", "receivable"): "اهداهای دریافتی",
        ("expiry", "payable"): "سهم شبکه از امتیازهای منقضی‌شدهٔ شما",
        ("expiry", "receivable"): "سهم دریافتی از امتیازهای منقضی‌شده",
        ("fee", "payable"): "کارمزدهای شبکه",
        ("fee", "receivable"): "کارمزدهای دریافتی شبکه",
        ("adjustment", "receivable"): "اصلاحیه‌ها به نفع شما (برگشت‌ها)",
        ("adjustment", "payable"): "اصلاحیه‌ها به زیان شما (برگشت‌ها)",
        ("adjustment", "own"): "برگشت امتیازهای خودتان (بدون انتقال)",
    },
}

# Everything else the page says. Keys are the same in both languages (a test checks).
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Settlement statement",
        "number": "Statement number",
        "issued": "Statement date",
        "issuer": "From (issuer)",
        "recipient": "To (recipient)",
        "hub_role": "Points network hub, central counterparty of the settlement",
        "kind_partner": "Partner",
        "kind_charity": "Charity",
        "kind_network": "Network (hub)",
        "code": "Code",
        "stripe_account": "Stripe account (paid to)",
        "stripe_customer": "Stripe customer (collected from)",
        "period": "Period",
        "period_range": "{start} to {end}, inclusive ({zone})",
        "currency": "Currency",
        "run": "Settlement run",
        "run_status": "#{id}, {status}",
        "payment_date": "Payment date",
        "payment_status": "Payment status",
        "not_paid": "not paid yet",
        "summary": "Summary",
        "section": "Section",
        "points": "Points",
        "amount": "Amount",
        "owed_to_you": "Owed to you",
        "owed_by_you": "Owed by you",
        "net": "Net",
        "net_in": "the network pays you",
        "net_out": "you pay the network",
        "net_zero": "nothing to pay",
        "lines": "Lines by counterparty",
        "counterparty": "Counterparty",
        "what": "What",
        "quantity": "Quantity",
        "rate": "Rate",
        "no_lines": "No settlement lines in this period.",
        "points_unit": "points",
        "per_point": "per point",
        "side_to": "owed to you",
        "side_by": "owed by you",
        "side_zero": "nothing to pay",
        "how": "How to read this statement",
        "how_1": "Each line is quantity × rate = amount, rounded once (half to even) to the "
                 "smallest currency unit; totals are sums of the rounded lines.",
        "how_2": "Positive amounts are owed to you, negative amounts are owed by you. The hub "
                 "is the central counterparty: you pay it, or it pays you, the net amount once.",
        "hash": "Run content hash (sha256)",
        "signed": "This file is signed with the hub's Ed25519 statement key; the detached "
                  "signature is the .sig file next to it. Check it with either command:",
    },
    "fa": {
        "title": "صورت‌حساب تسویه",
        "number": "شمارهٔ صورت‌حساب",
        "issued": "تاریخ صورت‌حساب",
        "issuer": "از (صادرکننده)",
        "recipient": "به (گیرنده)",
        "hub_role": "مرکز شبکهٔ امتیاز، طرف مقابل مرکزی تسویه",
        "kind_partner": "شریک تجاری",
        "kind_charity": "خیریه",
        "kind_network": "شبکه (مرکز)",
        "code": "کد",
        "stripe_account": "حساب Stripe (واریز به)",
        "stripe_customer": "مشتری Stripe (دریافت از)",
        "period": "دوره",
        "period_range": "از {start} تا {end}، هر دو روز شامل ({zone})",
        "currency": "ارز",
        "run": "اجرای تسویه",
        "run_status": "شمارهٔ {id}، {status}",
        "payment_date": "تاریخ پرداخت",
        "payment_status": "وضعیت پرداخت",
        "not_paid": "هنوز پرداخت نشده",
        "summary": "خلاصه",
        "section": "بخش",
        "points": "امتیاز",
        "amount": "مبلغ",
        "owed_to_you": "طلب شما",
        "owed_by_you": "بدهی شما",
        "net": "خالص",
        "net_in": "شبکه به شما می‌پردازد",
        "net_out": "شما به شبکه می‌پردازید",
        "net_zero": "پرداختی لازم نیست",
        "lines": "ردیف‌ها به تفکیک طرف حساب",
        "counterparty": "طرف حساب",
        "what": "شرح",
        "quantity": "مقدار",
        "rate": "نرخ",
        "no_lines": "در این دوره ردیف تسویه‌ای نیست.",
        "points_unit": "امتیاز",
        "per_point": "برای هر امتیاز",
        "side_to": "طلب شما",
        "side_by": "بدهی شما",
        "side_zero": "بدون پرداخت",
        "how": "راهنمای خواندن این صورت‌حساب",
        "how_1": "هر ردیف: مقدار × نرخ = مبلغ، که یک بار (نیمه به زوج) به کوچک‌ترین واحد پول "
                 "گرد شده است؛ جمع‌ها جمع همین ردیف‌های گردشده‌اند.",
        "how_2": "مبلغ مثبت طلب شما و مبلغ منفی بدهی شماست. مرکز شبکه طرف مقابل مرکزی است: "
                 "مبلغ خالص را یک بار شما به آن می‌پردازید یا آن به شما.",
        "hash": "درهم‌سازی محتوای اجرا (sha256)",
        "signed": "این فایل با کلید Ed25519 صورت‌حساب مرکز امضا شده است؛ امضای جدا فایل .sig "
                  "کنار آن است. با یکی از این دو فرمان بررسی کنید:",
    },
}

# Run and payment statuses, as a person reads them.
STATUS_WORDS: dict[str, dict[str, str]] = {
    "en": {"draft": "draft", "closed": "closed", "paying": "being paid", "paid": "paid"},
    "fa": {"draft": "پیش‌نویس", "closed": "بسته", "paying": "در حال پرداخت",
           "paid": "پرداخت‌شده"},
}

# A payment status as a person reads it; anything else (a flagged payment's details from
# Stripe) is shown as it is.
PAYMENT_WORDS: dict[str, dict[str, str]] = {
    "en": {},
    "fa": {"nothing to pay": "پرداختی لازم نیست", "not paid yet": "هنوز پرداخت نشده",
           "draft: not payable": "پیش‌نویس: قابل پرداخت نیست", "pending": "در انتظار",
           "submitted": "فرستاده شده", "succeeded": "پرداخت شد", "failed": "ناموفق"},
}


def line_words(language: str, kind: str, source_kind: str, side: str) -> str:
    """Plain words for a statement line; an unforeseen combination falls back to the section
    title rather than failing a whole run's statements."""
    words = LINE_WORDS[language].get((kind, source_kind, side))
    return words or SECTION_WORDS[language].get((kind, side), f"{kind} ({source_kind})")


class Writer:
    """One language's way of writing a statement's numbers, money and dates."""

    def __init__(self, language: str, currency: str) -> None:
        self.locale: Locale = locale_for(language)
        self.language = self.locale.language
        self.currency = currency
        self.exponent = currency_exponent(currency)

    def t(self, key: str, **values: object) -> str:
        return TEXT[self.language][key].format(**values)

    def number(self, value: int) -> str:
        return self.locale.number(value)

    def _decimal(self, value: Decimal, places: int) -> str:
        """A decimal with grouping and at least `places` decimals, in this language's digits
        and separators (Persian: '٬' groups, '٫' decimal point, real minus sign)."""
        text = f"{abs(value):,.{places}f}"
        if self.language == "fa":
            text = persian_digits(text.replace(",", "٬").replace(".", "٫"))
        return ("−" if value < 0 else "") + text

    def money(self, minor: int) -> str:
        """'-87.94 EUR' / '−۸۷٫۹۴ EUR' (the ISO code, as on the invoice and in the CSV)."""
        major = Money(minor, self.currency).to_major()
        return f"{self._decimal(major, self.exponent)} {self.currency}"

    def price_per_point(self, minor_per_point: Decimal) -> str:
        """A price in minor units per point, written in major units with every significant
        decimal (0.95 cents = '0.0095 EUR'): rounding a rate would make the line not add up."""
        major = minor_per_point.scaleb(-self.exponent).normalize()
        places = max(self.exponent, -major.as_tuple().exponent)  # type: ignore[operator]
        return f"{self._decimal(major, places)} {self.currency}"

    def percent(self, basis_points: Decimal) -> str:
        value = (basis_points / 100).normalize()
        places = max(2, -value.as_tuple().exponent)  # type: ignore[operator]
        return self._decimal(value, places) + ("٪" if self.language == "fa" else "%")

    def date(self, day: dt.date) -> str:
        """'Oct 1, 2026' or the Jalali '۹ مهر ۱۴۰۵'; a date, so no time zone shifts it."""
        return self.locale.date(day)

    def digits(self, text: str) -> str:
        return self.locale.digits(text)

    def section(self, kind: str, direction: str) -> str:
        return SECTION_WORDS[self.language][(kind, direction)]

    def status(self, text: str) -> str:
        return STATUS_WORDS[self.language].get(text, text)

    def payment(self, text: str) -> str:
        return PAYMENT_WORDS[self.language].get(text, text)
