"""What a member walking through the wallet pages in English and Persian found: the separators
between the parts of a line, the too-large donation, the device list."""

from __future__ import annotations

import re

from tests.network import test_wallet_pages as pages

# The browser and Sara's world, exactly as test_wallet_pages builds them.
browser, clock, world = pages.browser, pages.clock, pages.world

UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36")


def _section(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}".*?</section>', html, re.S)
    assert found, testid
    return found.group(0)


def test_persian_lines_are_not_separated_by_a_middle_dot_that_reads_as_zero(browser, world):
    """In Persian text "·" looks like the digit zero "۰" ("۱۷:۴۰ · شناسه" reads "17:40 0")."""
    browser.sign_in("sara@example.com")
    fa = browser.get("/wallet", headers={"Accept-Language": "fa"}).text
    history = _section(fa, "history")
    assert "·" not in history
    assert "کسب امتیاز – " in history
    assert " – شناسه: " in history and "برگشت‌خورده" in history
    assert "·" not in re.search(r"<title>(.*?)</title>", fa).group(1)
    en = _section(browser.get("/wallet", headers={"Accept-Language": "en"}).text, "history")
    assert " · Ref: " in en and "–" not in en


def test_persian_device_list_has_no_middle_dot_and_names_the_device(browser, world):
    browser.client.headers["User-Agent"] = UA
    browser.sign_in("sara@example.com")
    fa = browser.get("/wallet/sessions", headers={"Accept-Language": "fa"}).text
    sessions = fa[fa.index('data-testid="sessions"'):]
    assert "·" not in sessions and " – آخرین فعالیت " in sessions
    shown = re.search(rf'<div class="device" data-testid="device" title="{re.escape(UA)}">'
                      r"(.*?)</div>", sessions).group(1)
    assert shown == "\u2066Chrome\u2069 روی \u2066Linux\u2069"  # the whole agent on hover
    browser.client.headers["User-Agent"] = "curl/8"
    browser.sign_in("sara@example.com")
    en = browser.get("/wallet/sessions", headers={"Accept-Language": "en"}).text
    assert 'title="curl/8">curl</div>' in en and " · last seen " in en


def test_too_large_a_donation_says_what_to_do_and_keeps_the_form(browser, world):
    browser.sign_in("sara@example.com")
    for lang, typed, words in [
        ("en", "999999", "You do not have that many spendable points. Enter a smaller number."),
        ("fa", "۹۹۹۹۹۹", "این مقدار امتیاز قابل خرج ندارید. عدد کوچک‌تری وارد کنید."),
    ]:
        form = browser.get("/wallet/donate", headers={"Accept-Language": lang}).text
        key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
        response = browser.post("/wallet/donate", {"charity": str(world["mahak"]),
                                                   "points": typed, "idempotency_key": key},
                                headers={"Accept-Language": lang})
        assert response.status_code == 400
        assert 'data-code="INSUFFICIENT_POINTS"' in response.text
        assert words in response.text
        assert f'value="{typed}"' in response.text
        assert re.search(rf'value="{world["mahak"]}"[^>]*checked', response.text)
