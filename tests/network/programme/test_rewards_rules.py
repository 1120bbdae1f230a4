"""The catalog's pure rules: validation, codes, CSV uploads, who may buy and what a till meets."""

from __future__ import annotations

import datetime as dt

import pytest

from network.programme import reward_codes as rc
from network.programme.rewards import (
    Reward,
    RewardError,
    RewardSpec,
    Visibility,
    check_buyable,
    check_move,
    check_redeemable,
    validate,
)

TIERS = ("blue", "silver", "gold")
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def spec(**over: object) -> RewardSpec:
    base = {"kind": "coupon", "name_en": "Free coffee", "name_fa": "قهوهٔ رایگان",
            "price_points": 300}
    return RewardSpec(**(base | over))  # type: ignore[arg-type]


def codes(s: RewardSpec, **kw: object) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in validate(s, tiers=TIERS, segments=("vip",), **kw)]


def test_a_plain_coupon_is_valid():
    assert codes(spec()) == []


@pytest.mark.parametrize(("over", "expected"), [
    ({"kind": "voucher"}, ("kind", "KIND_UNKNOWN")),
    ({"name_fa": " "}, ("nameFa", "NAME_REQUIRED")),
    ({"price_points": 0}, ("pricePoints", "PRICE_NOT_POSITIVE")),
    ({"price_points": 10**10}, ("pricePoints", "PRICE_TOO_LARGE")),
    ({"stock": -1}, ("stock", "STOCK_OUT_OF_RANGE")),
    ({"per_member_limit": 0}, ("perMemberLimit", "LIMIT_OUT_OF_RANGE")),
    ({"coupon_days": 0}, ("couponDays", "COUPON_DAYS_OUT_OF_RANGE")),
    ({"image_url": "javascript:alert(1)"}, ("imageUrl", "IMAGE_URL_INVALID")),
    ({"valid_from": NOW, "valid_until": NOW}, ("validUntil", "WINDOW_EMPTY")),
    ({"valid_from": NOW.replace(tzinfo=None)}, ("validFrom", "TIME_WITHOUT_ZONE")),
    ({"visibility": Visibility(tiers=("diamond",))}, ("visibility.tiers", "TIER_UNKNOWN")),
    ({"visibility": Visibility(segments=("nobody",))},
     ("visibility.segments", "SEGMENT_UNKNOWN")),
    ({"visibility": Visibility(("gold",), ("vip",))}, ("visibility", "VISIBILITY_CONFLICT")),
    ({"code_source": "none"}, ("codeSource", "CODE_SOURCE_NOT_FOR_KIND")),
    ({"kind": "charity_pledge", "code_source": "none"}, ("charity", "CHARITY_REQUIRED")),
    ({"kind": "gift_card", "currency": "EUR"}, ("valueMinor", "VALUE_REQUIRED")),
    ({"kind": "gift_card", "value_minor": 500, "currency": "eur"},
     ("currency", "INVALID_CURRENCY")),
    ({"value_minor": 500}, ("valueMinor", "VALUE_NOT_FOR_KIND")),
])
def test_each_problem_names_its_field_and_code(over, expected):
    assert codes(spec(**over)) == [expected]


def test_every_problem_is_reported_at_once():
    found = codes(spec(name_en="", price_points=-5, stock=-1))
    assert found == [("nameEn", "NAME_REQUIRED"), ("pricePoints", "PRICE_NOT_POSITIVE"),
                     ("stock", "STOCK_OUT_OF_RANGE")]


def test_an_unknown_charity_is_refused():
    pledge = spec(kind="charity_pledge", code_source="none", charity_id=9)
    assert codes(pledge, charity_known=False) == [("charity", "CHARITY_UNKNOWN")]


def test_hub_codes_are_alphanumeric_with_a_check_that_catches_a_typo():
    made = {rc.generate() for _ in range(300)}
    assert len(made) == 300
    for code in made:
        assert len(code) == rc.HUB_CODE_LENGTH and all(ch in rc.ALPHABET for ch in code)
        assert rc.check_ok(code)
        wrong = code[0] + ("1" if code[1] != "1" else "2") + code[2:]
        assert not rc.check_ok(wrong)
        swapped = code[1] + code[0] + code[2:]
        assert code[0] == code[1] or not rc.check_ok(swapped)


def test_a_hub_code_draws_each_symbol_from_eight_byte_values(monkeypatch):
    """Every byte value stands for the symbol of its low five bits, so each of the 32 symbols
    is as likely as with `secrets.choice`; a draw whose check is not a letter or digit is
    drawn again."""
    draws = iter([bytes(range(5, 18)), bytes(range(32, 45)), bytes(range(224, 237))])
    monkeypatch.setattr(rc.secrets, "token_bytes", lambda n: next(draws)[:n])
    assert rc.check_symbol("56789ABCDEFGH") not in rc.ALPHABET  # the first draw: redrawn
    assert rc.generate() == "0123456789ABC" + rc.check_symbol("0123456789ABC")
    assert rc.generate() == "0123456789ABC" + rc.check_symbol("0123456789ABC")


def test_a_typed_hub_code_is_read_as_crockford_says():
    code = "0123456789ABC"
    code += rc.check_symbol(code)
    typed = rc.printable(code, True).lower().replace("0", "o").replace("1", "l")
    assert rc.as_hub_code(typed) == code


def test_a_csv_with_bad_lines_names_each_line():
    text = "code\nAAAA-1111\nBBBB2222\n\naaaa1111\nx\nCC,DD\n" + "Z" * 70 + "\nok.code_9\n"
    found, problems = rc.parse_csv(text)
    assert found == [(2, "AAAA1111"), (3, "BBBB2222"), (9, "OK.CODE_9")]
    assert [(p.line, p.code) for p in problems] == [
        (5, "CODE_DUPLICATE_IN_FILE"), (6, "CODE_MALFORMED"), (7, "CODE_MALFORMED"),
        (8, "CODE_MALFORMED")]
    assert "line 2" in problems[0].message


def reward(**over: object) -> Reward:
    s = spec(**over.pop("spec", {}))  # type: ignore[arg-type]
    fields = {"id": 1, "partner_id": 2, "status": "active", "sold": 0, "spec": s,
              "created_at": NOW, "updated_at": NOW} | over
    return Reward(**fields)  # type: ignore[arg-type]


def refusal(fn, *args, **kw) -> str:
    with pytest.raises(RewardError) as caught:
        fn(*args, **kw)
    return caught.value.code


def test_who_may_buy():
    check_buyable(reward(), NOW, tier=None, segments=(), bought_before=0)
    assert refusal(check_buyable, reward(status="paused"), NOW, tier=None, segments=(),
                   bought_before=0) == "REWARD_NOT_AVAILABLE"
    later = reward(spec={"valid_from": NOW + dt.timedelta(days=1)})
    assert refusal(check_buyable, later, NOW, tier=None, segments=(),
                   bought_before=0) == "REWARD_NOT_AVAILABLE"
    gold = reward(spec={"visibility": Visibility(tiers=("gold",))})
    assert refusal(check_buyable, gold, NOW, tier="silver", segments=(),
                   bought_before=0) == "REWARD_NOT_FOUND"
    check_buyable(gold, NOW, tier="gold", segments=(), bought_before=0)
    once = reward(spec={"per_member_limit": 1})
    assert refusal(check_buyable, once, NOW, tier=None, segments=(),
                   bought_before=1) == "MEMBER_LIMIT_REACHED"


def test_what_a_till_meets():
    check_redeemable("issued", NOW + dt.timedelta(seconds=1), NOW)
    assert refusal(check_redeemable, "used", None, NOW) == "COUPON_ALREADY_USED"
    assert refusal(check_redeemable, "refunded", None, NOW) == "COUPON_REFUNDED"
    assert refusal(check_redeemable, "issued", NOW, NOW) == "COUPON_EXPIRED"
    assert refusal(check_redeemable, "expired", None, NOW) == "COUPON_EXPIRED"


def test_status_moves():
    check_move("draft", "active")
    check_move("paused", "active")
    assert refusal(check_move, "retired", "active") == "STATUS_CHANGE_NOT_ALLOWED"
    assert refusal(check_move, "draft", "paused") == "STATUS_CHANGE_NOT_ALLOWED"


def test_an_uploaded_picture_is_known_by_its_first_bytes():
    from network.programme.rewards import MAX_IMAGE_BYTES, check_image

    assert check_image(b"\x89PNG\r\n\x1a\n" + b"0" * 100) == ("image/png", ())
    assert check_image(b"\xff\xd8\xff\xe0" + b"0" * 10)[0] == "image/jpeg"
    assert check_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ")[0] == "image/webp"
    assert [p.code for p in check_image(b"<svg onload=alert(1)>")[1]] == ["IMAGE_INVALID"]
    too_big = b"\x89PNG\r\n\x1a\n" + b"0" * MAX_IMAGE_BYTES
    assert [p.code for p in check_image(too_big)[1]] == ["IMAGE_TOO_LARGE"]
