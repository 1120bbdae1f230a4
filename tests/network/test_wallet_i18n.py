"""Language choice, Persian digits, Jalali dates and the two catalogs."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from network.gql.me_lottery import GiftStatus, LotteryStatus
from network.gql.me_types import WalletEntryKind
from network.members import LOCALES
from network.profile import INTERESTS
from network.programme.rewards import KINDS as REWARD_KINDS
from network.signin.sessions import KINDS
from network.wallet.errors import WalletError
from network.wallet.pages.page import WalletPage
from network.web import i18n
from network.web.messages_en import MESSAGES as EN
from network.web.messages_fa import MESSAGES as FA
from network.web.rendering import error_text


@pytest.mark.parametrize(("header", "cookie", "expected"), [
    (None, None, "en"),
    ("fa-IR,fa;q=0.9,en-US;q=0.8", None, "fa"),
    ("de-DE,de;q=0.9,fa;q=0.7,en;q=0.5", None, "fa"),
    ("de-DE,en;q=0.5,fa;q=0.7", None, "fa"),
    ("fa;q=0, en", None, "en"),
    ("fa;q=banana", None, "en"),
    ("en-GB", "fa", "fa"),
    ("fa", "en", "en"),
    ("fa", "xx", "fa"),
    ("*", None, "en"),
])
def test_language_negotiation(header, cookie, expected):
    assert i18n.negotiate(header, cookie) == expected


def test_catalogs_have_the_same_keys_and_placeholders():
    assert set(EN) == set(FA)
    for key in EN:
        assert set(re.findall(r"{(\w+)}", EN[key])) == set(re.findall(r"{(\w+)}", FA[key])), key


def test_every_template_key_exists_in_the_catalogs():
    used: set[str] = set()
    environment = WalletPage.environment  # the wallet's templates and the shared ones
    assert {"base.html", "wallet.html"} <= set(environment.list_templates())
    for name in environment.list_templates():
        source = environment.loader.get_source(environment, name)[0]  # type: ignore[union-attr]
        used |= set(re.findall(r't\(\s*"(\w+)"', source))
    families = {key for key in used if key.endswith("_")}  # t("kind_" ~ e.kind) and the like
    # Tier names are the programme's data (network/programme/tiers.py), not catalogue keys.
    assert families == {"kind_", "session_kind_", "interest_", "lang_", "lottery_status_",
                        "gift_status_", "reward_kind_", "coupon_status_"}
    assert used - families <= set(EN)
    kinds = {f"kind_{k.value}" for k in WalletEntryKind}
    assert kinds | {f"session_kind_{k}" for k in KINDS} <= set(EN)
    assert {f"interest_{slug}" for slug in INTERESTS} | {f"lang_{code}" for code in LOCALES} \
        <= set(EN)
    assert {f"lottery_status_{s.value}" for s in LotteryStatus} <= set(EN)
    assert {f"gift_status_{s.value}" for s in GiftStatus} <= set(EN)
    assert {f"reward_kind_{k}" for k in REWARD_KINDS} <= set(EN)
    assert {f"coupon_status_{s}" for s in ("issued", "used", "expired", "refunded")} <= set(EN)


def test_numbers():
    en, fa = i18n.locale_for("en"), i18n.locale_for("fa")
    assert en.number(1234567) == "1,234,567" and en.number(-5) == "−5"
    assert fa.number(1234567) == "۱٬۲۳۴٬۵۶۷" and fa.signed(250) == "+۲۵۰"
    assert fa.t("tier_next", points=1200, tier="طلایی").startswith("۱٬۲۰۰ امتیاز")
    assert i18n.ascii_digits("۱۲٣") == "123"


def test_dates_are_jalali_in_persian_and_use_tehran_time():
    late_evening = dt.datetime(2026, 3, 20, 21, 0, tzinfo=dt.UTC)  # 00:30 in Tehran, Nowruz
    assert i18n.locale_for("en").date(late_evening) == "Mar 20, 2026"
    assert i18n.locale_for("fa").date(late_evening) == "۱ فروردین ۱۴۰۵"
    assert i18n.locale_for("fa").datetime(late_evening) == "۱ فروردین ۱۴۰۵، ۰۰:۳۰"
    assert i18n.locale_for("en").datetime(late_evening) == "Mar 20, 2026, 21:00 UTC"
    assert i18n.locale_for("fa").iso_date(late_evening) == "2026-03-21"
    with pytest.raises(ValueError):
        i18n.locale_for("fa").date(dt.datetime(2026, 1, 1))


def test_direction_and_fallback():
    assert i18n.locale_for("fa").direction == "rtl" and i18n.locale_for("en").direction == "ltr"
    assert i18n.locale_for("xx").language == "en"


def test_error_texts_are_translated_with_their_numbers():
    fa = i18n.locale_for("fa")
    wrong = WalletError("CODE_INVALID", "That code is not right.", params={"left": 2})
    assert error_text(fa, wrong) == "این کد درست نیست. ۲ بار دیگر می‌توانید امتحان کنید."
    limited = WalletError("RATE_LIMITED", "Too many", params={"minutes": 3})
    assert "3 minutes" in error_text(i18n.locale_for("en"), limited)
    unknown = WalletError("SOMETHING_NEW", "Plain English fallback.")
    assert error_text(fa, unknown) == "Plain English fallback."


# Placeholders that take a count; `reserved` is always more than `used` (a part was returned).
_COUNTS = {"points": 1, "minutes": 1, "left": 1, "used": 1, "returned": 1, "reserved": 2,
           "spendable": 1, "count": 1}


@pytest.mark.parametrize("key", sorted(k for k in EN if set(re.findall(r"{(\w+)}", EN[k]))
                                       & set(_COUNTS)))
def test_english_nouns_agree_with_their_numbers(key):
    en = i18n.locale_for("en")
    names = set(re.findall(r"{(\w+)}", EN[key]))
    one = en.t(key, **{n: _COUNTS.get(n, "X") for n in names})
    assert not re.search(r"\b1 (\w+ )?(points|minutes|attempts)\b", one), one
    many = en.t(key, **{n: 5 if n in _COUNTS else "X" for n in names})
    assert not re.search(r"\b5 (\w+ )?(point|minute|attempt)\b", many), many


def test_plural_forms_in_messages():
    en, fa = i18n.locale_for("en"), i18n.locale_for("fa")
    assert en.t("error_CODE_INVALID_LEFT", left=1) == "That code is not right. 1 attempt left."
    assert en.t("tier_next", points=1000, tier="Gold") == "Earn 1,000 more points to reach Gold."
    assert en.t("error_RATE_LIMITED", minutes=1).endswith("wait 1 minute and try again.")
    assert fa.t("tier_next", points=1, tier="طلایی").startswith("۱ امتیاز")
    assert not any("|" in message for message in FA.values())  # Persian needs no plural forms


def test_digits_keep_a_code_as_written():
    assert i18n.locale_for("fa").digits("012345") == "۰۱۲۳۴۵"
    assert i18n.locale_for("en").digits("012345") == "012345"
